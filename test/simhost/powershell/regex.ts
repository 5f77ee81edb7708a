// .NET regular expressions (-match, -replace, -split, [regex]::Replace) in JavaScript's engine.
// The differences that matter are translated (docs.microsoft.com, "Character classes in .NET
// regular expressions" and "Anchors in regular expressions"):
//   - both match UTF-16 code units one at a time (no `u` flag here: [^\x00-\x7F] sees each half of
//     a surrogate pair, as .NET does);
//   - \d, \w and \s are Unicode in .NET (any Nd digit, letter, ...), ASCII in JavaScript: they
//     become the BMP sets of those Unicode categories;
//   - $ matches at the end or before a final \n in .NET (without Multiline), \Z likewise, \z only
//     at the end, \A only at the start;
// Anything else beyond plain syntax (inline options, atomic groups, conditionals, \G, \p{..},
// RegexOptions other than IgnoreCase) is refused by name.
import { notImplemented } from "./ast";

function bmpClass(test: RegExp): string {
  let out = "";
  let start = -1;
  for (let c = 0; c <= 0x10000; c++) {
    const inSet = c < 0x10000 && (c < 0xd800 || c > 0xdfff) && test.test(String.fromCharCode(c));
    if (inSet && start < 0) start = c;
    if (!inSet && start >= 0) {
      const hex = (n: number) => "\\u" + n.toString(16).padStart(4, "0");
      out += c - 1 === start ? hex(start) : hex(start) + "-" + hex(c - 1);
      start = -1;
    }
  }
  return out;
}

const sets: Partial<Record<"d" | "w" | "s", string>> = {};
/** .NET's \d, \w and \s over the BMP, each computed when a pattern first uses it. */
function unicodeSet(name: "d" | "w" | "s"): string {
  sets[name] ??= bmpClass(
    name === "d"
      ? /^\p{Nd}$/u
      : name === "w"
        ? // .NET \w: [\p{L}\p{Mn}\p{Nd}\p{Pc}]
          /^[\p{L}\p{Mn}\p{Nd}\p{Pc}]$/u
        : // .NET \s: [\f\n\r\t\v\x85\p{Z}]
          /^[\f\n\r\t\v\x85\p{Z}]$/u,
  );
  return sets[name]!;
}

const cache = new Map<string, RegExp>();

/** A .NET pattern as a JavaScript RegExp (global when `global`). */
export function dotnetRegExp(pattern: string, ignoreCase: boolean, global = false): RegExp {
  const key = `${ignoreCase ? "i" : ""}${global ? "g" : ""}:${pattern}`;
  const found = cache.get(key);
  if (found) {
    found.lastIndex = 0;
    return found;
  }
  const re = new RegExp(translate(pattern), (ignoreCase ? "i" : "") + (global ? "g" : ""));
  cache.set(key, re);
  return re;
}

function translate(p: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      const n = p[i + 1];
      i++;
      if (n === undefined) throw notImplemented(`a regular expression ending in \\: ${p}`);
      switch (n) {
        case "d":
        case "w":
        case "s": {
          const set = unicodeSet(n as "d" | "w" | "s");
          out += inClass ? set : `[${set}]`;
          break;
        }
        case "D":
        case "W":
        case "S":
          if (inClass) throw notImplemented(`\\${n} inside a character class in ${p}`);
          out += `[^${unicodeSet(n.toLowerCase() as "d" | "w" | "s")}]`;
          break;
        case "A":
          out += "^";
          break;
        case "z":
          out += "$";
          break;
        case "Z":
          out += "(?=\\n?$)";
          break;
        case "x": {
          const hex = p.slice(i + 1, i + 3);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw notImplemented(`\\x escape in ${p}`);
          out += "\\x" + hex;
          i += 2;
          break;
        }
        case "u": {
          const hex = p.slice(i + 1, i + 5);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw notImplemented(`\\u escape in ${p}`);
          out += "\\u" + hex;
          i += 4;
          break;
        }
        case "b":
        case "B":
          if (inClass) out += "\\x08";
          else throw notImplemented(`the word boundary \\${n} (Unicode in .NET) in ${p}`);
          break;
        case "t":
        case "n":
        case "r":
        case "f":
        case "v":
          out += "\\" + n;
          break;
        default:
          if (/[0-9]/.test(n)) throw notImplemented(`backreference \\${n} in ${p}`);
          if (/[A-Za-z]/.test(n)) throw notImplemented(`the regular expression escape \\${n} in ${p}`);
          out += "\\" + n;
      }
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      if (c === "[") throw notImplemented(`character class subtraction or nesting in ${p}`);
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (p[i + 1] === "^") out += p[++i];
      if (p[i + 1] === "]") out += "\\" + p[++i];
      continue;
    }
    if (c === "$") {
      out += "(?=\\n?$)";
      continue;
    }
    if (c === "(" && p[i + 1] === "?") {
      const rest = p.slice(i + 2);
      if (rest.startsWith(":") || rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!")) {
        out += c;
        continue;
      }
      if (/^<[A-Za-z_]\w*>/.test(rest)) {
        out += c;
        continue;
      }
      throw notImplemented(`the regular expression group (?${rest[0] ?? ""}... in ${p}`);
    }
    if (c === "." ) {
      // .NET's . matches anything but \n; JavaScript's also excludes \r, \u2028, \u2029.
      out += "[^\\n]";
      continue;
    }
    if ((c === "+" || c === "*" || c === "?" || c === "}") && p[i + 1] === "+") throw notImplemented(`a possessive quantifier in ${p}`);
    out += c;
  }
  if (inClass) throw notImplemented(`an unterminated character class in ${p}`);
  return out;
}
