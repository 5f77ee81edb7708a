// Conversions and operators with Windows PowerShell 5.1's semantics: what [string], [int],
// [bool], ... make of a value, how -eq, -lt, -contains compare, and arithmetic. Each rule names
// its source; docs/windows-model.md ("The PowerShell the simulated hosts interpret") lists them.
import { InterpreterError, notImplemented } from "./ast";
import { PSError, runtimeError } from "./errors";
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
  PSRef,
  PSValue,
  ScriptBlock,
  isHostObject,
  typeNameOf,
} from "./values";

/** The keys or values of a hashtable: a live view whose enumeration fails if the table changes (.NET's Hashtable enumerator). */
export class HashtableView extends PSArray {
  constructor(
    items: PSValue[],
    readonly table: PSHashtable,
    readonly version: number,
    readonly typeName: string,
  ) {
    super(items);
  }
}

const INTEGRAL = new Set(["Int32", "Int64", "Byte", "UInt16", "UInt32"]);

/**
 * LanguagePrimitives.GetEnumerable: what a pipeline, foreach and the comparison operators
 * enumerate. Arrays and collections are; strings and hashtables are not (about_Hash_Tables:
 * "a hash table is a single object"; spec 4.4, 8.4.4).
 */
export function enumerable(v: PSValue): PSValue[] | undefined {
  if (v instanceof PSArray) return v.items;
  if (v instanceof EngineObject && v.enumerate) return v.enumerate();
  return undefined;
}

/** Whether the value is a .NET numeric type (LanguagePrimitives' numeric table). */
export function numeric(v: PSValue): v is PSNumber {
  return v instanceof PSNumber;
}

// ---------------------------------------------------------------------------------------------
// Text

/** .NET Framework's Double.ToString() ("G": 15 significant digits, E+XX beyond 1E15 or below 1E-5). */
export function doubleToString(x: number, digits = 15): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa, expText] = x.toExponential(digits - 1).split("e");
  const exp = Number(expText);
  let digitsOnly = mantissa.replace("-", "").replace(".", "").replace(/0+$/, "");
  if (digitsOnly === "") digitsOnly = "0";
  const sign = x < 0 ? "-" : "";
  if (exp >= digits || exp < -5) {
    const m = digitsOnly.length > 1 ? digitsOnly[0] + "." + digitsOnly.slice(1) : digitsOnly;
    return `${sign}${m}E${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digitsOnly}`;
  if (digitsOnly.length <= exp + 1) return sign + digitsOnly + "0".repeat(exp + 1 - digitsOnly.length);
  return `${sign}${digitsOnly.slice(0, exp + 1)}.${digitsOnly.slice(exp + 1)}`;
}

/** Double.ToString("R"): 15 digits if they round-trip, else 17 (JavaScriptSerializer writes doubles so). */
export function doubleRoundTrip(x: number): string {
  const g15 = doubleToString(x, 15);
  return Number(g15.replace("E", "e")) === x || !Number.isFinite(x) ? g15 : doubleToString(x, 17);
}

export function numberToString(n: PSNumber): string {
  if (n.type === "Double") return doubleToString(n.value);
  if (n.type === "Decimal") return n.decimalText ?? String(n.value);
  return String(n.value);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The wall-clock fields of a DateTime (local times in the host's offset). */
export function wallClock(d: PSDateTime): Date {
  return new Date(d.epochMs + (d.kind === "Local" ? d.offsetMinutes * 60_000 : 0));
}

/** DateTime.ToString(format) for the formats the scripts use ("o"), and the invariant default. */
export function formatDate(d: PSDateTime, format: string | undefined): string {
  const w = wallClock(d);
  const date = `${w.getUTCFullYear()}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}`;
  const time = `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}`;
  if (format === "o" || format === "O") {
    // Round-trip: seven fractional digits, then Z (Utc), the offset (Local) or nothing (Unspecified).
    const frac = pad(w.getUTCMilliseconds(), 3) + "0000";
    let zone = "";
    if (d.kind === "Utc") zone = "Z";
    else if (d.kind === "Local") {
      const off = d.offsetMinutes;
      zone = `${off < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
    }
    return `${date}T${time}.${frac}${zone}`;
  }
  if (format === undefined) {
    // [string] of a DateTime: the invariant culture's "G" (MM/dd/yyyy HH:mm:ss).
    return `${pad(w.getUTCMonth() + 1)}/${pad(w.getUTCDate())}/${w.getUTCFullYear()} ${time}`;
  }
  throw notImplemented(`DateTime format "${format}"`);
}

/**
 * [string] of a value (LanguagePrimitives.ConvertTo string, invariant culture; spec 6.7):
 * $null is "", Booleans "True"/"False", arrays their elements joined by $OFS (a space),
 * a hashtable its type name, a PSCustomObject "@{name=value; ...}".
 */
export function toStr(v: PSValue, nested = false): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof PSNumber) return numberToString(v);
  if (v instanceof PSChar) return String.fromCharCode(v.code);
  if (v instanceof PSArray) return nested ? "System.Object[]" : v.items.map((i) => toStr(i, true)).join(" ");
  if (v instanceof PSHashtable) return "System.Collections.Hashtable";
  if (v instanceof PSCustomObject) return "@{" + v.properties().map((p) => `${p.name}=${toStr(p.value, true)}`).join("; ") + "}";
  if (v instanceof PSDateTime) return formatDate(v, undefined);
  if (v instanceof PSEnum) return v.name;
  if (v instanceof ErrorRecord) return v.message;
  if (v instanceof ScriptBlock) return v.text;
  if (v instanceof EngineObject) return v.text ?? v.typeName;
  if (v instanceof PSRef) return "System.Management.Automation.PSReference";
  if (isHostObject(v)) return v.text ?? v.typeNames[0];
  throw new InterpreterError(`no string conversion for ${typeNameOf(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Truth

/**
 * LanguagePrimitives.IsTrue (spec 6.2): $null, 0, "" and an empty array are false; an array of
 * one element is that element's truth; a longer array is true; every other object is true.
 * The string "False" is true.
 */
export function toBool(v: PSValue): boolean {
  if (v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > 0;
  if (v instanceof PSNumber) return v.value !== 0;
  if (v instanceof PSChar) return v.code !== 0;
  if (v instanceof PSArray) return v.items.length === 0 ? false : v.items.length === 1 ? toBool(v.items[0]) : true;
  if (v instanceof PSRef) return toBool(v.value);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Numbers

const WHITESPACE = /^[\s\u0085]+|[\s\u0085]+$/g;

/**
 * A string as a number (LanguagePrimitives' string-to-number conversion, spec 6.4 and 6.16):
 * surrounding white space ignored, "" is 0, hexadecimal 0x.., decimal and real forms. undefined
 * when the string is not a number.
 */
export function parseNumber(s: string): PSNumber | undefined {
  const t = s.replace(WHITESPACE, "");
  if (t === "") return new PSNumber("Int32", 0);
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) {
    const neg = t.startsWith("-");
    const n = parseInt(t.replace(/^[+-]?0x/i, ""), 16);
    const v = neg ? -n : n;
    return fitsInt32(v) ? new PSNumber("Int32", v) : Number.isSafeInteger(v) ? new PSNumber("Int64", v) : undefined;
  }
  if (/^[+-]?\d+$/.test(t)) {
    const v = Number(t);
    if (fitsInt32(v)) return new PSNumber("Int32", v);
    if (Number.isSafeInteger(v)) return new PSNumber("Int64", v);
    return new PSNumber("Double", v);
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return new PSNumber("Double", Number(t));
  return undefined;
}

export const fitsInt32 = (v: number) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;

/** Math.Round's default (to even), as .NET converts a double to an integer type. */
export function roundToEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function castFailure(v: PSValue, target: string, reason?: string): PSError {
  if (typeof v === "string" || v instanceof PSNumber || typeof v === "boolean" || v instanceof PSChar) {
    const text = typeof v === "string" ? v : toStr(v);
    return runtimeError(
      `Cannot convert value "${text}" to type "${target}". Error: "${reason ?? "Input string was not in a correct format."}"`,
      typeof v === "string" && target.startsWith("System.Int") ? "InvalidCastFromStringToInteger" : "InvalidCastParseTargetInvocation",
      "InvalidArgument",
      "System.Management.Automation.PSInvalidCastException",
    );
  }
  const name = typeNameOf(v);
  return runtimeError(
    `Cannot convert the "${toStr(v)}" value of type "${name}" to type "${target}".`,
    "ConvertToFinalInvalidCastException",
    "InvalidArgument",
    "System.Management.Automation.PSInvalidCastException",
  );
}

/** A value as a number of any numeric type (the operand conversion of arithmetic, spec 6.16). */
export function toNumber(v: PSValue, target = "System.Int32"): PSNumber {
  if (v === null) return new PSNumber("Int32", 0);
  if (v instanceof PSNumber) return v;
  if (typeof v === "boolean") return new PSNumber("Int32", v ? 1 : 0);
  if (v instanceof PSChar) return new PSNumber("Int32", v.code);
  if (typeof v === "string") {
    const n = parseNumber(v);
    if (!n) throw castFailure(v, target);
    return n;
  }
  if (v instanceof PSEnum) return new PSNumber("Int32", v.value);
  throw castFailure(v, target);
}

const RANGES: Record<string, [number, number]> = {
  Int32: [-2147483648, 2147483647],
  Int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  Byte: [0, 255],
  UInt16: [0, 65535],
  UInt32: [0, 4294967295],
};

/** [int], [long], [byte], ...: integral conversion, rounding half to even (spec 6.4). */
export function toIntegral(v: PSValue, type: "Int32" | "Int64" | "Byte" | "UInt16" | "UInt32"): PSNumber {
  const target = `System.${type}`;
  const n = toNumber(v, target);
  const x = INTEGRAL.has(n.type) ? n.value : roundToEven(n.value);
  const [lo, hi] = RANGES[type];
  if (!Number.isFinite(x) || x < lo || x > hi) {
    if (type === "Int64" && Number.isFinite(x)) throw notImplemented("Int64 values beyond 2^53");
    throw castFailure(v, target, `Value was either too large or too small for ${type === "Int32" ? "an Int32" : "a" + (type === "Int64" ? "n " : " ") + type}.`);
  }
  return new PSNumber(type, x);
}

// ---------------------------------------------------------------------------------------------
// Comparison (about_Comparison_Operators; LanguagePrimitives.Equals and Compare)

// Made when first needed: loading ICU's collation data costs a short-lived host process ~20 ms.
let collatorIgnoreCase: Intl.Collator | undefined;
let collatorCase: Intl.Collator | undefined;

/** Culture-aware string comparison (invariant culture, as PowerShell's operators use). */
export function compareStrings(a: string, b: string, ignoreCase: boolean): number {
  if (a === b) return 0;
  if (ignoreCase && a.toLowerCase() === b.toLowerCase()) return 0;
  if (ignoreCase) return (collatorIgnoreCase ??= new Intl.Collator("en-US", { sensitivity: "accent" })).compare(a, b);
  return (collatorCase ??= new Intl.Collator("en-US", { sensitivity: "variant", caseFirst: "lower" })).compare(a, b);
}

function stringEquals(a: string, b: string, ignoreCase: boolean): boolean {
  if (a === b) return true;
  if (!ignoreCase) return false;
  return a.length === b.length ? a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase() : compareStrings(a, b, true) === 0;
}

/**
 * The scalar equality of -eq (LanguagePrimitives.Equals): $null equals only $null; a string on
 * the left compares as strings (the right converted to string); two numbers compare by value
 * whatever their types; otherwise the right converts to the left's type ("1" -eq 1 compares
 * strings, 1 -eq "01" numbers, $true -eq "false" is true), and a failed conversion is not equal.
 */
export function psEquals(left: PSValue, right: PSValue, ignoreCase: boolean): boolean {
  if (left === null) return right === null;
  if (right === null) return false;
  if (typeof left === "string") return stringEquals(left, typeof right === "string" ? right : toStr(right), ignoreCase);
  if (left instanceof PSNumber) {
    if (right instanceof PSNumber) return left.value === right.value;
    try {
      return left.value === toNumber(right).value;
    } catch (e) {
      if (e instanceof PSError) return false;
      throw e;
    }
  }
  if (typeof left === "boolean") return left === toBool(right);
  if (left instanceof PSChar) {
    if (right instanceof PSChar) return ignoreCase ? stringEquals(toStr(left), toStr(right), true) : left.code === right.code;
    if (typeof right === "string") return right.length === 1 && stringEquals(toStr(left), right, ignoreCase);
    if (right instanceof PSNumber) return left.code === right.value;
    return false;
  }
  if (left instanceof PSEnum) {
    if (right instanceof PSEnum) return left.typeName === right.typeName && left.value === right.value;
    if (typeof right === "string") return right.trim().toLowerCase() === left.name.toLowerCase();
    if (right instanceof PSNumber) return right.value === left.value;
    return false;
  }
  if (left instanceof PSDateTime) return right instanceof PSDateTime && wallClock(left).getTime() === wallClock(right).getTime();
  // Reference types: Object.Equals, reference identity.
  return left === right;
}

/** The ordering of -lt/-gt/-le/-ge (LanguagePrimitives.Compare): the right converts to the left's type. */
export function psCompare(left: PSValue, right: PSValue, ignoreCase: boolean): number {
  if (left === null || right === null) throw notImplemented("ordering comparison with $null");
  if (typeof left === "string") return compareStrings(left, typeof right === "string" ? right : toStr(right), ignoreCase);
  if (left instanceof PSNumber) {
    let r: PSNumber;
    try {
      r = toNumber(right, `System.${left.type}`);
    } catch (e) {
      if (e instanceof PSError) {
        throw runtimeError(
          `Could not compare "${toStr(left)}" to "${toStr(right)}". Error: "${e.record.message}"`,
          "ComparisonFailure",
          "InvalidOperation",
        );
      }
      throw e;
    }
    return Math.sign(left.value - r.value);
  }
  if (left instanceof PSDateTime && right instanceof PSDateTime) return Math.sign(wallClock(left).getTime() - wallClock(right).getTime());
  if (typeof left === "boolean" && typeof right === "boolean") return Number(left) - Number(right);
  throw notImplemented(`ordering comparison of ${typeNameOf(left)} with ${typeNameOf(right)}`);
}

// ---------------------------------------------------------------------------------------------
// Wildcards (about_Wildcards; -like)

export function wildcardToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "`" && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]);
    else if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) throw runtimeError(`The specified wildcard character pattern is not valid: ${pattern}`, "RuntimeException", "InvalidArgument", "System.Management.Automation.WildcardPatternException");
      out += "[" + pattern.slice(i + 1, end).replace(/[\\\]^]/g, (m) => "\\" + m) + "]";
      i = end;
    } else out += escapeRegExp(c);
  }
  return new RegExp("^" + out + "$", ignoreCase ? "i" : "");
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

