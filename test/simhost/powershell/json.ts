// ConvertFrom-Json and ConvertTo-Json as Windows PowerShell 5.1 has them. Both sit on .NET
// Framework's JavaScriptSerializer (System.Web.Extensions), unlike PowerShell 7's Newtonsoft /
// System.Text.Json. Sources: PowerShell's ConvertToJsonCommand.cs of its FullCLR build (the code
// Windows PowerShell 5.1 ships: ProcessValue, depth truncation, ConvertToPrettyJsonString) and the
// .NET Framework reference source (JavaScriptSerializer.SerializeValueInternal,
// HttpEncoder.JavaScriptStringEncode, JavaScriptObjectDeserializer). The code here is written
// from what they do, not copied.
import { notImplemented } from "./ast";
import { doubleRoundTrip, toStr, wallClock } from "./convert";
import { PSError } from "./errors";
import {
  EngineObject,
  ErrorRecord,
  PSArray,
  PSChar,
  PSCustomObject,
  PSDateTime,
  PSEnum,
  PSHashtable,
  PSNumber,
  PSValue,
  isHostObject,
} from "./values";

// ---------------------------------------------------------------------------------------------
// ConvertFrom-Json

/** JavaScriptSerializer's deserialisation failure (an ArgumentException): "<message> (<index>): <rest of the text>". */
class JsonSyntaxError {
  constructor(readonly message: string) {}
}

const MAX_DEPTH = 102; // RecursionLimit: ConvertFrom-Json's maxDepthAllowed (100) + 2

class Reader {
  i = 0;
  constructor(readonly s: string) {}
  debug(message: string): JsonSyntaxError {
    return new JsonSyntaxError(`${message} (${this.i}): ${this.s}`);
  }
  /** The next character that is not white space (char.IsWhiteSpace), consumed. */
  nextNonSpace(): string | undefined {
    const s = this.s;
    while (this.i < s.length) {
      const code = s.charCodeAt(this.i++);
      if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) continue;
      if (code > 0x7f && /[\s\u0085\u00a0]/.test(s[this.i - 1])) continue;
      return s[this.i - 1];
    }
    return undefined;
  }
  next(): string | undefined {
    return this.i < this.s.length ? this.s[this.i++] : undefined;
  }
  back(n = 1): void {
    this.i = Math.max(0, this.i - n);
  }
}

type Raw = null | boolean | string | PSNumber | PSDateTime | Raw[] | Map<string, Raw>;

function readValue(r: Reader, depth: number): Raw {
  if (++depth > MAX_DEPTH) throw r.debug("RecursionLimit exceeded.");
  const c = r.nextNonSpace();
  if (c === undefined) return null;
  r.back();
  if (r.s.startsWith('"\\/Date(', r.i)) {
    const m = /^"\\\/Date\((-?[0-9]+)(?:[a-zA-Z]|[+-][0-9]{4})?\)\\\/"/.exec(r.s.slice(r.i));
    if (m) {
      r.i += m[0].length;
      return new PSDateTime(Number(m[1]), "Utc");
    }
  }
  if (c === "{") return readObject(r, depth);
  if (c === "[") return readArray(r, depth);
  if (c === '"' || c === "'") return readString(r);
  return readPrimitive(r);
}

function readArray(r: Reader, depth: number): Raw[] {
  const list: Raw[] = [];
  r.next(); // [
  let c: string | undefined;
  let expectMore = false;
  while ((c = r.nextNonSpace()) !== undefined && c !== "]") {
    r.back();
    list.push(readValue(r, depth));
    expectMore = false;
    c = r.nextNonSpace();
    if (c === "]") break;
    expectMore = true;
    if (c !== ",") throw r.debug("Invalid array passed in, ',' expected.");
  }
  if (expectMore) throw r.debug("Invalid array passed in, extra trailing ','.");
  if (c !== "]") throw r.debug("Invalid array passed in, ']' expected.");
  return list;
}

function readObject(r: Reader, depth: number): Map<string, Raw> {
  let dict: Map<string, Raw> | undefined;
  r.next(); // {
  let c: string | undefined;
  while ((c = r.nextNonSpace()) !== undefined) {
    r.back();
    if (c === ":") throw r.debug("Invalid object passed in, member name expected.");
    let name: string | undefined;
    if (c !== "}") {
      const q = r.nextNonSpace();
      r.back();
      name = q === '"' || q === "'" ? readString(r) : readToken(r);
      c = r.nextNonSpace();
      if (c !== ":") throw r.debug("Invalid object passed in, ':' or '}' expected.");
    }
    if (!dict) {
      dict = new Map();
      if (name === undefined) {
        c = r.nextNonSpace();
        break;
      }
    }
    const value = readValue(r, depth);
    // A repeated name: the last value wins (dictionary[memberName] = value).
    dict.set(name as string, value);
    c = r.nextNonSpace();
    if (c === "}") break;
    if (c !== ",") throw r.debug("Invalid object passed in, ':' or '}' expected.");
  }
  if (c !== "}") throw r.debug("Invalid object passed in, ':' or '}' expected.");
  return dict ?? new Map();
}

function readToken(r: Reader): string {
  let out = "";
  let c: string | undefined;
  while ((c = r.next()) !== undefined) {
    if (/[\p{L}\p{Nd}._+-]/u.test(c)) out += c;
    else {
      r.back();
      break;
    }
  }
  return out;
}

function readString(r: Reader): string {
  const quote = r.next();
  if (quote !== '"' && quote !== "'") throw r.debug("Invalid string passed in, '\\\"' expected.");
  const s = r.s;
  const q = quote.charCodeAt(0);
  let out = "";
  for (;;) {
    // Plain characters up to the next quote or backslash in one slice.
    let j = r.i;
    const len = s.length;
    while (j < len) {
      const c = s.charCodeAt(j);
      if (c === 0x5c || c === q) break;
      j++;
    }
    out += s.slice(r.i, j);
    r.i = j;
    if (j >= s.length) throw r.debug("Unterminated string passed in.");
    r.i++;
    if (s[j] === quote) return out;
    // A backslash: the escaped character.
    const c = r.next();
    if (c === undefined) throw r.debug("Unterminated string passed in.");
    if (c === '"' || c === "'" || c === "/" || c === "\\") out += c;
    else if (c === "b") out += "\b";
    else if (c === "f") out += "\f";
    else if (c === "n") out += "\n";
    else if (c === "r") out += "\r";
    else if (c === "t") out += "\t";
    else if (c === "u") {
      const hex = s.slice(r.i, r.i + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw notImplemented(`ConvertFrom-Json of a malformed \\u escape (${hex})`);
      out += String.fromCharCode(parseInt(hex, 16));
      r.i += 4;
    } else throw r.debug("Unrecognized escape sequence.");
  }
}

/** Numbers: Int32 if it fits, then Int64, then Decimal (no exponent), then Double. */
function readPrimitive(r: Reader): Raw {
  const t = readToken(r);
  if (t === "null") return null;
  if (t === "true") return true;
  if (t === "false") return false;
  const hasExp = /e/i.test(t);
  if (!hasExp) {
    if (!t.includes(".") && /^\s*[+-]?\d+\s*$/.test(t)) {
      const v = Number(t);
      if (v >= -2147483648 && v <= 2147483647) return new PSNumber("Int32", v);
      if (BigInt(t) >= -(2n ** 63n) && BigInt(t) < 2n ** 63n) {
        if (!Number.isSafeInteger(v)) throw notImplemented(`ConvertFrom-Json of an Int64 beyond 2^53 (${t})`);
        return new PSNumber("Int64", v);
      }
    }
    // decimal.TryParse(NumberStyles.Number): sign, digits, one point (thousands separators too).
    if (/^[+-]?(\d+\.?\d*|\.\d+)[+-]?$/.test(t) && !/^[+-].*[+-]$/.test(t)) {
      const norm = t.endsWith("-") ? "-" + t.slice(0, -1) : t.replace(/\+$/, "");
      const digits = norm.replace(/[^0-9]/g, "").replace(/^0+/, "");
      if (digits.length > 15) throw notImplemented(`ConvertFrom-Json of a decimal with more than 15 significant digits (${t})`);
      return new PSNumber("Decimal", Number(norm), decimalText(norm));
    }
    if (t.includes(",")) throw notImplemented(`ConvertFrom-Json of a number with thousands separators (${t})`);
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return new PSNumber("Double", Number(t));
  if (t === "Infinity" || t === "-Infinity" || t === "NaN") return new PSNumber("Double", Number(t));
  throw new JsonSyntaxError(`Invalid JSON primitive: ${t}.`);
}

/** Decimal.ToString() of a parsed decimal: its digits as written, without a + and leading zeros. */
function decimalText(norm: string): string {
  let s = norm.replace(/^\+/, "");
  const neg = s.startsWith("-");
  if (neg) s = s.slice(1);
  if (s.startsWith(".")) s = "0" + s;
  if (s.endsWith(".")) s = s.slice(0, -1);
  s = s.replace(/^0+(?=\d)/, "");
  return (neg && /[1-9]/.test(s) ? "-" : "") + s;
}

/**
 * ConvertFrom-Json's result: JSON objects become PSCustomObjects (properties in the text's order),
 * arrays object[]. Two names that differ only in case cannot both be properties: Windows
 * PowerShell refuses the text (DuplicateKeysInJsonString).
 */
function toPowerShell(raw: Raw): PSValue {
  if (raw instanceof Map) {
    const o = new PSCustomObject();
    for (const [k, v] of raw) {
      if (!o.add(k, toPowerShell(v))) {
        const first = o.get(k)!.name;
        throw new PSError(
          new ErrorRecord(
            `Cannot convert the JSON string because a dictionary that was converted from the string contains the duplicated keys '${first}' and '${k}'.`,
            "InvalidOperation",
            "DuplicateKeysInJsonString,Microsoft.PowerShell.Commands.ConvertFromJsonCommand",
            "System.InvalidOperationException",
            null,
            "ConvertFrom-Json",
          ),
          "statement",
        );
      }
    }
    return o;
  }
  if (Array.isArray(raw)) return new PSArray(raw.map(toPowerShell));
  return raw;
}

/**
 * ConvertFrom-Json of one string. A syntax error is the terminating error Windows PowerShell 5.1
 * shows as "NotSpecified: (:) [ConvertFrom-Json], ArgumentException" with FullyQualifiedErrorId
 * "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand".
 */
export function convertFromJson(text: string): PSValue {
  const r = new Reader(text);
  try {
    const raw = readValue(r, 0);
    if (r.nextNonSpace() !== undefined) {
      r.back();
      throw new JsonSyntaxError(`Invalid JSON primitive: ${text.slice(r.i)}.`);
    }
    return toPowerShell(raw);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      throw new PSError(
        new ErrorRecord(
          e.message,
          "NotSpecified",
          "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand",
          "System.ArgumentException",
          null,
          "ConvertFrom-Json",
        ),
        "statement",
      );
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// ConvertTo-Json

/**
 * HttpUtility.JavaScriptStringEncode: ", \ and the control characters escaped (\b \t \n \f \r
 * by name, others \u00XX), and also ' < > & U+0085 U+2028 U+2029 as \u0027 \u003c \u003e \u0026
 * \u0085 \u2028 \u2029 (lowercase hex); every other character, non-ASCII included, as is.
 */
export function jsString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    switch (c) {
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
    }
    if (code < 0x20 || c === "'" || c === "<" || c === ">" || c === "&" || code === 0x85 || code === 0x2028 || code === 0x2029) {
      out += "\\u" + code.toString(16).padStart(4, "0");
    } else out += c;
  }
  return out + '"';
}

/** The serialised form of one value after ProcessValue (depth already applied). */
type Prepared = null | boolean | string | PSNumber | PSChar | PSDateTime | PSEnum | Prepared[] | Array<[string, Prepared]> | { dict: Array<[string, Prepared]> };

/**
 * ProcessValue: scalars stay; beyond -Depth a container becomes its [string] (a hashtable
 * "System.Collections.Hashtable", an array its elements joined by spaces, a PSCustomObject
 * "@{...}"); a dictionary's keys must be strings; a PSCustomObject or host object becomes its
 * properties.
 */
function prepare(v: PSValue, depth: number, maxDepth: number): Prepared {
  if (v === null || typeof v === "boolean" || typeof v === "string" || v instanceof PSNumber || v instanceof PSChar || v instanceof PSDateTime) return v;
  if (v instanceof PSEnum) return v;
  if (depth > maxDepth) return toStr(v);
  if (v instanceof PSHashtable) {
    const entries: Array<[string, Prepared]> = [];
    for (const [k, val] of v.pairs()) {
      if (typeof k !== "string") {
        throw new PSError(
          new ErrorRecord(
            "The type 'System.Collections.Hashtable' is not supported for serialization or deserialization of a dictionary. Keys must be strings.",
            "InvalidOperation",
            "NonStringKeyInDictionary,Microsoft.PowerShell.Commands.ConvertToJsonCommand",
            "System.InvalidOperationException",
            null,
            "ConvertTo-Json",
          ),
          "statement",
        );
      }
      entries.push([k, prepare(val, depth + 1, maxDepth)]);
    }
    return { dict: entries };
  }
  if (v instanceof PSArray) return v.items.map((i) => prepare(i, depth + 1, maxDepth));
  if (v instanceof PSCustomObject) return { dict: v.properties().map((p) => [p.name, prepare(p.value, depth + 1, maxDepth)]) };
  if (isHostObject(v)) throw notImplemented(`ConvertTo-Json of a ${v.typeNames[0]} (its .NET properties are not modelled)`);
  if (v instanceof ErrorRecord || v instanceof EngineObject) throw notImplemented(`ConvertTo-Json of a ${v instanceof ErrorRecord ? "ErrorRecord" : v.typeName}`);
  throw notImplemented("ConvertTo-Json of this value");
}

/** JavaScriptSerializer.Serialize of a prepared value (compact). */
function serialize(p: Prepared): string {
  if (p === null) return "null";
  if (typeof p === "boolean") return p ? "true" : "false";
  if (typeof p === "string") return jsString(p);
  if (p instanceof PSChar) return p.code === 0 ? "null" : jsString(String.fromCharCode(p.code));
  if (p instanceof PSNumber) return p.type === "Double" ? doubleRoundTrip(p.value) : p.type === "Decimal" ? (p.decimalText ?? String(p.value)) : String(p.value);
  if (p instanceof PSDateTime) {
    // "\/Date(<ms since 1970 UTC>)\/"; a Local time is converted to UTC first.
    return `"\\/Date(${p.kind === "Unspecified" ? wallClock(p).getTime() : p.epochMs})\\/"`;
  }
  if (p instanceof PSEnum) return String(p.value);
  if (Array.isArray(p)) return "[" + (p as Prepared[]).map(serialize).join(",") + "]";
  return "{" + p.dict.map(([k, v]) => jsString(k) + ":" + serialize(v)).join(",") + "}";
}

/**
 * ConvertToPrettyJsonString: Windows PowerShell 5.1's indentation of the compact text (four
 * spaces per level, two spaces after a colon, a nested container indented past its member's name),
 * re-implemented from its description in the FullCLR ConvertToJsonCommand.
 */
export function prettyJson(json: string): string {
  if (!json.startsWith("{") && !json.startsWith("[")) return json;
  let out = json[0];
  const i = 1;
  const quoted = (start: number): number => {
    // Appends a quoted string from `start` (after its opening quote); returns the index of its closing quote.
    for (let j = start; j < json.length; j++) {
      out += json[j];
      if (json[j] === '"') {
        let k = j;
        let escaped = false;
        while (k > 0 && json[--k] === "\\") escaped = !escaped;
        if (!escaped) return j;
      }
    }
    throw notImplemented("ConvertTo-Json prettifying an unterminated string");
  };
  const list = (start: number, padString: string, spaces: number): number => {
    out += "\r\n";
    const inner = padString + " ".repeat(spaces) + "    ";
    let head = true;
    for (let j = start; j < json.length; j++) {
      const c = json[j];
      if (c === "{") {
        out += inner + c;
        j = dict(j + 1, inner, 0);
        head = false;
      } else if (c === "[") {
        out += inner + c;
        j = list(j + 1, inner, 0);
        head = false;
      } else if (c === "]") {
        out += "\r\n" + padString + " ".repeat(spaces) + c;
        return j;
      } else if (c === '"') {
        if (head) out += inner;
        out += c;
        j = quoted(j + 1);
        head = false;
      } else if (c === ",") {
        out += ",\r\n";
        head = true;
      } else {
        if (head) out += inner;
        out += c;
        head = false;
      }
    }
    throw notImplemented("ConvertTo-Json prettifying an unterminated array");
  };
  const dict = (start: number, padString: string, spaces: number): number => {
    out += "\r\n";
    const inner = padString + " ".repeat(spaces) + "    ";
    let head = true;
    let beforeValue = true;
    let count = 0;
    for (let j = start; j < json.length; j++) {
      const c = json[j];
      if (c === "{") {
        out += c;
        j = dict(j + 1, inner, count);
        head = false;
      } else if (c === "[") {
        out += c;
        j = list(j + 1, inner, count);
        head = false;
      } else if (c === "}") {
        out += "\r\n" + padString + " ".repeat(spaces) + c;
        return j;
      } else if (c === '"') {
        if (head) out += inner;
        out += c;
        const end = quoted(j + 1);
        if (beforeValue) count += end - j + 1;
        j = end;
        head = false;
      } else if (c === ":") {
        out += ":  ";
        count += 3;
        head = false;
        beforeValue = false;
      } else if (c === ",") {
        out += ",\r\n";
        head = true;
        beforeValue = true;
        count = 0;
      } else {
        if (head) out += inner;
        out += c;
        if (beforeValue) count += 1;
        head = false;
      }
    }
    throw notImplemented("ConvertTo-Json prettifying an unterminated object");
  };
  if (json[0] === "{") dict(i, "", 0);
  else list(i, "", 0);
  return out;
}

/** ConvertTo-Json of the objects it received (one: that object; several: an array of them). */
export function convertToJson(inputs: PSValue[], depth: number, compress: boolean): string | undefined {
  const objects = inputs.filter((v) => v !== null);
  if (objects.length === 0) return undefined;
  const target = objects.length > 1 ? new PSArray(objects) : objects[0];
  const json = serialize(prepare(target, 0, depth));
  return compress ? json : prettyJson(json);
}
