// Members: properties and methods of values, static members of types, casts and -is. Only the
// .NET members the shipped scripts use are implemented; any other member of a .NET type is
// refused by name (InterpreterError), while a missing property of a hashtable, a PSCustomObject
// or a host object is $null, as PowerShell answers outside strict mode (about_Properties).
import { notImplemented } from "./ast";
import {
  HashtableView,
  enumerable,
  formatDate,
  toBool,
  toIntegral,
  toNumber,
  toStr,
  escapeRegExp,
} from "./convert";
import { PSError, runtimeError } from "./errors";
import { dotnetRegExp } from "./regex";
import { parseXmlDocument, XmlNode, xmlProperty } from "./xml";
import { DotNetException, StaticMember } from "./host";
import {
  ERROR_CATEGORIES,
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

/** What members need from the running engine. */
export interface MemberEngine {
  languageMode: "FullLanguage" | "ConstrainedLanguage";
  /** Runs a script block with these arguments ($args / its param block); its output. */
  invoke(sb: ScriptBlock, args: PSValue[]): PSValue[];
  /** [ScriptBlock]::Create. */
  createScriptBlock(text: string): ScriptBlock;
  readStdin(): string;
  writeStdout(text: string): void;
  staticMembers?: Record<string, Record<string, StaticMember>>;
}

/** A .NET type as a value ([int], [hashtable], ...): `key` is the interpreter's name for it. */
export class PSType extends EngineObject {
  constructor(
    readonly key: string,
    readonly fullName: string,
  ) {
    super("System.RuntimeType", {}, {}, fullName);
  }
}

/** $x.PSObject.Properties: indexable by name (ignoring case), enumerable as PSNoteProperty objects. */
export class PropertyCollection extends EngineObject {
  constructor(readonly entries: Array<{ name: string; value: PSValue }>) {
    super("System.Management.Automation.PSMemberInfoIntegratingCollection`1[[System.Management.Automation.PSPropertyInfo]]", {});
    this.enumerate = () => this.list();
  }
  item(name: string): PSValue {
    const p = this.entries.find((e) => e.name.toLowerCase() === name.toLowerCase());
    return p ? noteProperty(p.name, p.value) : null;
  }
  list(): PSValue[] {
    return this.entries.map((e) => noteProperty(e.name, e.value));
  }
}

function noteProperty(name: string, value: PSValue): EngineObject {
  return new EngineObject("System.Management.Automation.PSNoteProperty", { Name: name, Value: value, MemberType: new PSEnum("System.Management.Automation.PSMemberTypes", "NoteProperty", 512) }, {}, `${name}=${toStr(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Types

const TYPES: Record<string, string> = {
  int: "System.Int32",
  int32: "System.Int32",
  long: "System.Int64",
  int64: "System.Int64",
  byte: "System.Byte",
  uint16: "System.UInt16",
  uint32: "System.UInt32",
  double: "System.Double",
  decimal: "System.Decimal",
  bool: "System.Boolean",
  boolean: "System.Boolean",
  switch: "System.Management.Automation.SwitchParameter",
  string: "System.String",
  char: "System.Char",
  hashtable: "System.Collections.Hashtable",
  "collections.hashtable": "System.Collections.Hashtable",
  array: "System.Array",
  "object[]": "System.Object[]",
  object: "System.Object",
  pscustomobject: "System.Management.Automation.PSObject",
  datetime: "System.DateTime",
  scriptblock: "System.Management.Automation.ScriptBlock",
  "management.automation.scriptblock": "System.Management.Automation.ScriptBlock",
  regex: "System.Text.RegularExpressions.Regex",
  "text.regularexpressions.regex": "System.Text.RegularExpressions.Regex",
  console: "System.Console",
  ref: "System.Management.Automation.PSReference",
  void: "System.Void",
  stringcomparison: "System.StringComparison",
  "net.ipaddress": "System.Net.IPAddress",
  ipaddress: "System.Net.IPAddress",
  "management.automation.errorrecord": "System.Management.Automation.ErrorRecord",
  "management.automation.errorcategory": "System.Management.Automation.ErrorCategory",
  "management.automation.actionpreference": "System.Management.Automation.ActionPreference",
  math: "System.Math",
  convert: "System.Convert",
  xml: "System.Xml.XmlDocument",
};

/**
 * The type a type literal names ("int", "System.Int32", "System.Net.IPAddress", ...): the
 * engine's, else one whose static members the host lists, by its full name (or without
 * "System.", as PowerShell resolves [Environment]).
 */
export function resolveType(name: string, line?: number, hostTypes?: Record<string, unknown>): PSType {
  const cached = typeCache.get(name);
  if (cached) return cached;
  const wanted = name.trim().toLowerCase();
  const hostType = Object.keys(hostTypes ?? {}).find((full) => full.toLowerCase() === wanted || full.toLowerCase() === `system.${wanted}`);
  if (hostType && !TYPES[wanted.replace(/^system\./, "")]) return new PSType(`host:${hostType.toLowerCase()}`, hostType);
  const t = lookupType(name, line);
  typeCache.set(name, t);
  return t;
}

const typeCache = new Map<string, PSType>();

function lookupType(name: string, line?: number): PSType {
  let key = name.trim().toLowerCase();
  if (key.startsWith("system.")) key = key.slice(7);
  if (key === "int32") key = "int";
  if (key === "int64") key = "long";
  if (key === "boolean") key = "bool";
  if (key === "collections.hashtable") key = "hashtable";
  if (key === "management.automation.scriptblock") key = "scriptblock";
  if (key === "text.regularexpressions.regex") key = "regex";
  if (key === "ipaddress") key = "net.ipaddress";
  if (key === "xml.xmldocument") key = "xml";
  if (key === "psobject") throw notImplemented("the type [psobject]", line === undefined ? undefined : { line });
  const full = TYPES[key];
  if (!full) throw notImplemented(`the type [${name}]`, line === undefined ? undefined : { line });
  return new PSType(key, full);
}

/** Types Constrained Language Mode lets scripts call methods on (about_Language_Modes, allowed types; a subset). */
const CORE_TYPES = new Set(["int", "long", "byte", "uint16", "uint32", "double", "decimal", "bool", "switch", "string", "char", "hashtable", "array", "object[]", "object", "datetime", "regex", "pscustomobject", "net.ipaddress"]);

function constrained(what: string): PSError {
  return runtimeError(
    `Cannot invoke method. Method invocation is supported only on core types in this language mode.`,
    "MethodInvocationNotSupportedInConstrainedLanguage",
    "InvalidOperation",
    "System.Management.Automation.RuntimeException",
    what,
  );
}

/** -is (spec 7.9.5): whether the value is of the type; $null is of none. */
export function isType(v: PSValue, t: PSType): boolean {
  if (v === null) return false;
  switch (t.key) {
    case "object":
      return true;
    case "int":
      return v instanceof PSNumber && v.type === "Int32";
    case "long":
      return v instanceof PSNumber && v.type === "Int64";
    case "byte":
      return v instanceof PSNumber && v.type === "Byte";
    case "uint16":
      return v instanceof PSNumber && v.type === "UInt16";
    case "uint32":
      return v instanceof PSNumber && v.type === "UInt32";
    case "double":
      return v instanceof PSNumber && v.type === "Double";
    case "decimal":
      return v instanceof PSNumber && v.type === "Decimal";
    case "bool":
      return typeof v === "boolean";
    case "string":
      return typeof v === "string";
    case "char":
      return v instanceof PSChar;
    case "hashtable":
      return v instanceof PSHashtable;
    case "array":
    case "object[]":
      return v instanceof PSArray && !(v instanceof HashtableView);
    case "pscustomobject":
      return v instanceof PSCustomObject;
    case "datetime":
      return v instanceof PSDateTime;
    case "scriptblock":
      return v instanceof ScriptBlock;
    case "management.automation.errorrecord":
      return v instanceof ErrorRecord;
    case "xml":
      return v instanceof XmlNode && v.nodeKind === "document";
  }
  if (isHostObject(v)) return v.typeNames.some((n) => n.toLowerCase() === t.fullName.toLowerCase());
  throw notImplemented(`-is [${t.fullName}]`);
}

/** A cast [type]value (spec 6, "Conversions"). */
export function cast(v: PSValue, t: PSType, line: number): PSValue {
  switch (t.key) {
    case "string":
      return toStr(v);
    case "int":
      return toIntegral(v, "Int32");
    case "long":
      return toIntegral(v, "Int64");
    case "byte":
      return toIntegral(v, "Byte");
    case "uint16":
      return toIntegral(v, "UInt16");
    case "uint32":
      return toIntegral(v, "UInt32");
    case "double":
      return new PSNumber("Double", toNumber(v, "System.Double").value);
    case "decimal": {
      const n = toNumber(v, "System.Decimal");
      if (n.type === "Decimal") return n;
      if (n.type === "Double") throw notImplemented("[decimal] of a double", { line });
      return new PSNumber("Decimal", n.value, String(n.value));
    }
    case "bool":
    case "switch":
      return toBool(v);
    case "char":
      return toChar(v);
    case "hashtable":
      if (v === null || v instanceof PSHashtable) return v;
      throw runtimeError(
        `Cannot convert the "${toStr(v)}" value of type "${typeNameOf(v)}" to type "System.Collections.Hashtable".`,
        "ConvertToFinalInvalidCastException",
        "InvalidArgument",
        "System.Management.Automation.PSInvalidCastException",
      );
    case "array":
    case "object[]":
      if (v === null) return null;
      return v instanceof PSArray ? (v instanceof HashtableView ? new PSArray([...v.items]) : v) : new PSArray([v]);
    case "object":
      return v;
    case "pscustomobject":
      if (v instanceof PSHashtable) {
        const o = new PSCustomObject();
        for (const [k, val] of v.pairs()) o.add(toStr(k), val);
        return o;
      }
      return v;
    case "datetime":
      if (v instanceof PSDateTime) return v;
      throw notImplemented(`[datetime] of ${typeNameOf(v)}`, { line });
    case "scriptblock":
      if (v instanceof ScriptBlock) return v;
      throw runtimeError(`Cannot convert the "${toStr(v)}" value of type "${typeNameOf(v)}" to type "System.Management.Automation.ScriptBlock".`, "ConvertToFinalInvalidCastException", "InvalidArgument", "System.Management.Automation.PSInvalidCastException");
    case "xml":
      // LanguagePrimitives: $null stays $null, a string is loaded as a document (xml.ts).
      if (v === null || (v instanceof XmlNode && v.nodeKind === "document")) return v;
      if (typeof v === "string") return parseXmlDocument(v, line);
      throw notImplemented(`[xml] of ${typeNameOf(v)}`, { line });
  }
  throw notImplemented(`the cast [${t.fullName}]`, { line });
}

function toChar(v: PSValue): PSChar {
  if (v instanceof PSChar) return v;
  if (typeof v === "string") {
    if (v.length === 1) return new PSChar(v.charCodeAt(0));
    throw runtimeError(
      `Cannot convert value "${v}" to type "System.Char". Error: "String must be exactly one character long."`,
      "InvalidCastParseTargetInvocation",
      "InvalidArgument",
      "System.Management.Automation.PSInvalidCastException",
    );
  }
  if (v instanceof PSNumber) {
    const n = toIntegral(v, "UInt16");
    return new PSChar(n.value);
  }
  throw runtimeError(`Cannot convert the "${toStr(v)}" value of type "${typeNameOf(v)}" to type "System.Char".`, "ConvertToFinalInvalidCastException", "InvalidArgument", "System.Management.Automation.PSInvalidCastException");
}

// ---------------------------------------------------------------------------------------------
// Properties

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function psobjectOf(entries: Array<{ name: string; value: PSValue }>): EngineObject {
  return new EngineObject("System.Management.Automation.PSObject", { Properties: new PropertyCollection(entries) });
}

function errorObjects(e: ErrorRecord): Record<string, PSValue> {
  const reason = e.exceptionType.split(".").pop() ?? e.exceptionType;
  const exception = new EngineObject(e.exceptionType, { Message: e.message }, {}, e.message);
  const categoryInfo = new EngineObject(
    "System.Management.Automation.ErrorCategoryInfo",
    {
      Category: new PSEnum("System.Management.Automation.ErrorCategory", e.category, ERROR_CATEGORIES.indexOf(e.category)),
      Reason: reason,
      Activity: e.commandName,
      TargetName: e.targetObject === null ? "" : toStr(e.targetObject),
    },
    {},
    `${e.category}: (${e.targetObject === null ? "" : toStr(e.targetObject)}:) [${e.commandName}], ${reason}`,
  );
  return { Exception: exception, CategoryInfo: categoryInfo, FullyQualifiedErrorId: e.fullyQualifiedErrorId, TargetObject: e.targetObject };
}

/** $obj.Name. */
export function getProperty(obj: PSValue, name: string, line: number): PSValue {
  if (obj === null) return null;
  if (obj instanceof PSHashtable) {
    // A key wins over the Hashtable's own properties ($h.Count is the key "Count" if there is one).
    if (obj.has(name)) return obj.get(name);
    if (eq(name, "Count")) return new PSNumber("Int32", obj.count);
    if (eq(name, "Keys")) return new HashtableView(obj.keys(), obj, obj.version, "System.Collections.Hashtable+KeyCollection");
    if (eq(name, "Values")) return new HashtableView(obj.values(), obj, obj.version, "System.Collections.Hashtable+ValueCollection");
    return null;
  }
  if (obj instanceof PSCustomObject) {
    const p = obj.get(name);
    if (p) return p.value;
    if (eq(name, "PSObject")) return psobjectOf(obj.properties());
    // Windows PowerShell 5.1 gives a PSCustomObject no Count or Length (fixed in PowerShell 6.1).
    return null;
  }
  if (isHostObject(obj)) {
    const p = obj.properties.find((q) => eq(q.name, name));
    if (p) return p.value;
    if (eq(name, "PSObject")) return psobjectOf(obj.properties);
    return null;
  }
  if (obj instanceof PSArray) {
    if (eq(name, "Count") || eq(name, "Length")) return new PSNumber("Int32", obj.items.length);
    return memberEnumeration(obj, name, line);
  }
  if (typeof obj === "string") {
    if (eq(name, "Length")) return new PSNumber("Int32", obj.length);
    if (eq(name, "Count")) return new PSNumber("Int32", 1);
    if (eq(name, "PSObject")) return psobjectOf([{ name: "Length", value: new PSNumber("Int32", obj.length) }]);
    if (isIntrinsic(name)) throw notImplemented(`the property ${name} of System.String`, { line });
    return null;
  }
  if (obj instanceof ErrorRecord) {
    const all = errorObjects(obj);
    const key = Object.keys(all).find((k) => eq(k, name));
    if (key) return all[key];
    throw notImplemented(`the property ${name} of an ErrorRecord`, { line });
  }
  if (obj instanceof PropertyCollection) throw notImplemented(`the property ${name} of PSObject.Properties`, { line });
  if (obj instanceof XmlNode) return xmlProperty(obj, name, line);
  if (obj instanceof EngineObject) {
    const key = Object.keys(obj.properties).find((k) => eq(k, name));
    if (key) return obj.properties[key];
    throw notImplemented(`the property ${name} of ${obj.typeName}`, { line });
  }
  if (obj instanceof PSDateTime) {
    const w = new Date(obj.epochMs + (obj.kind === "Local" ? obj.offsetMinutes * 60_000 : 0));
    const parts: Record<string, number> = { year: w.getUTCFullYear(), month: w.getUTCMonth() + 1, day: w.getUTCDate(), hour: w.getUTCHours(), minute: w.getUTCMinutes(), second: w.getUTCSeconds() };
    const k = name.toLowerCase();
    if (k in parts) return new PSNumber("Int32", parts[k]);
    if (k === "kind") return new PSEnum("System.DateTimeKind", obj.kind, obj.kind === "Unspecified" ? 0 : obj.kind === "Utc" ? 1 : 2);
    throw notImplemented(`the property ${name} of System.DateTime`, { line });
  }
  // Every other scalar: PowerShell 3's Count and Length of one object.
  if (eq(name, "Count") || eq(name, "Length")) return new PSNumber("Int32", 1);
  if (typeof obj === "boolean" || (obj instanceof PSNumber && PROPERTYLESS_NUMBERS.includes(obj.type))) {
    // System.Boolean, Int32, Int64, Double and Decimal have no public instance properties.
    if (eq(name, "PSObject")) return psobjectOf([]);
    if (isIntrinsic(name)) throw notImplemented(`the property ${name} of ${typeNameOf(obj)}`, { line });
    return null;
  }
  throw notImplemented(`the property ${name} of ${typeNameOf(obj)}`, { line });
}

/**
 * A property a string, Boolean or number does not have reads as $null, as PowerShell reads any
 * missing property outside strict mode (the scripts never call Set-StrictMode): "If the member
 * is not present ... the value is $null" (PowerShell language specification 3.0, §7.1.2 Member
 * access; about_Member-Access_Enumeration: "... returns $null" for a missing property; strict
 * mode's PropertyNotFoundStrict is what Set-StrictMode -Version 2.0 adds). The intrinsic members
 * PowerShell adds to every object (about_Intrinsic_Members) other than PSObject, Count and Length
 * are not modelled: reading one is a gap, not $null.
 */
const PROPERTYLESS_NUMBERS: readonly string[] = ["Int32", "Int64", "Double", "Decimal"];
function isIntrinsic(name: string): boolean {
  return ["psbase", "psadapted", "psextended", "pstypenames"].includes(name.toLowerCase());
}

/**
 * Member-access enumeration (PowerShell 3.0+, about_Member-Access_Enumeration): a property the
 * array lacks is read from each element that has it (elements without it are skipped), the
 * values collected as ForEach-Object { $_.Name } would write them (arrays unrolled); none is
 * $null, one is that value.
 */
function memberEnumeration(obj: PSArray, name: string, line: number): PSValue {
  const results: PSValue[] = [];
  const push = (v: PSValue) => (v instanceof PSArray ? results.push(...v.items) : results.push(v));
  for (const item of obj.items) {
    if (item === null) continue;
    if (item instanceof PSCustomObject) {
      const p = item.get(name);
      if (p) push(p.value);
    } else if (item instanceof PSHashtable) {
      if (item.has(name)) push(item.get(name));
    } else if (isHostObject(item)) {
      const p = item.properties.find((q) => eq(q.name, name));
      if (p) push(p.value);
    } else if (item instanceof XmlNode) {
      // An element without that attribute, child or .NET property is skipped (the adapter gives it no such member).
      const v = xmlProperty(item, name, line);
      if (v !== null) push(v);
    } else if (item instanceof PSArray || typeof item === "string" || typeof item === "boolean" || item instanceof PSNumber) {
      // A string, Boolean or number takes part too: its Length (a string's), or $null, skipped.
      const v = getProperty(item, name, line);
      if (v !== null) push(v);
    } else throw notImplemented(`member enumeration of .${name} over a ${typeNameOf(item)}`, { line });
  }
  return results.length === 0 ? null : results.length === 1 ? results[0] : new PSArray(results);
}

/** $obj.Name = value. */
export function setProperty(obj: PSValue, name: string, value: PSValue, line: number): void {
  if (obj instanceof PSHashtable) {
    obj.set(name, value);
    return;
  }
  if (obj instanceof PSCustomObject) {
    if (obj.set(name, value)) return;
    throw runtimeError(
      `The property '${name}' cannot be found on this object. Verify that the property exists and can be set.`,
      "PropertyAssignmentException",
      "InvalidOperation",
    );
  }
  if (obj === null) {
    throw runtimeError(`The property '${name}' cannot be found on this object. Verify that the property exists and can be set.`, "PropertyNotFound", "InvalidOperation");
  }
  throw notImplemented(`setting the property ${name} of ${typeNameOf(obj)}`, { line });
}

// ---------------------------------------------------------------------------------------------
// Methods

function comparisonOf(v: PSValue | undefined): "ordinal" | "ordinalIgnoreCase" | "culture" | "cultureIgnoreCase" {
  if (v === undefined) return "culture";
  const name = v instanceof PSEnum ? v.name : toStr(v);
  switch (name.toLowerCase()) {
    case "ordinal":
      return "ordinal";
    case "ordinalignorecase":
      return "ordinalIgnoreCase";
    case "currentculture":
    case "invariantculture":
      return "culture";
    case "currentcultureignorecase":
    case "invariantcultureignorecase":
      return "cultureIgnoreCase";
  }
  throw runtimeError(`Cannot convert value "${name}" to type "System.StringComparison".`, "InvalidCastFromStringToEnum", "InvalidArgument", "System.Management.Automation.PSInvalidCastException");
}

/** .NET Framework's Char.IsWhiteSpace set (what String.Trim() removes). */
const DOTNET_SPACE = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** The characters a Trim/TrimStart/TrimEnd/Split argument names (a string converts to char[]). */
function charsOf(args: PSValue[]): string {
  return args
    .flatMap((a) => (a instanceof PSArray ? a.items : [a]))
    .map((a) => (a instanceof PSChar ? String.fromCharCode(a.code) : toStr(a)))
    .join("");
}

function trim(s: string, chars: string, start: boolean, end: boolean): string {
  let a = 0;
  let b = s.length;
  if (start) while (a < b && chars.includes(s[a])) a++;
  if (end) while (b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

function stringMethod(s: string, name: string, args: PSValue[], line: number): PSValue {
  const n = name.toLowerCase();
  const arg = (i: number) => toStr(args[i] ?? null);
  switch (n) {
    case "endswith":
    case "startswith": {
      if (args.length < 1 || args.length > 2) break;
      const cmp = comparisonOf(args[1]);
      const ic = cmp === "ordinalIgnoreCase" || cmp === "cultureIgnoreCase";
      const a = ic ? s.toLowerCase() : s;
      const b = ic ? arg(0).toLowerCase() : arg(0);
      if (cmp.startsWith("culture") && /[^\x00-\x7f]/.test(s + arg(0))) throw notImplemented(`culture-sensitive String.${name} of non-ASCII text`, { line });
      return n === "endswith" ? a.endsWith(b) : a.startsWith(b);
    }
    case "contains":
      if (args.length === 1) return s.includes(arg(0));
      break;
    case "split":
      // Windows PowerShell 5.1 (.NET Framework) has no Split(string): a string argument converts
      // to char[] and every one of its characters separates ("a--b".Split("--") has three parts).
      if (args.length >= 1 && args.every((a) => typeof a === "string" || a instanceof PSChar || a instanceof PSArray)) {
        const seps = charsOf(args);
        const parts: string[] = [];
        let cur = "";
        for (const c of s) {
          if (seps.includes(c)) {
            parts.push(cur);
            cur = "";
          } else cur += c;
        }
        parts.push(cur);
        return new PSArray(parts);
      }
      break;
    case "trim":
      return trim(s, args.length ? charsOf(args) : DOTNET_SPACE, true, true);
    case "trimstart":
      return trim(s, args.length ? charsOf(args) : DOTNET_SPACE, true, false);
    case "trimend":
      return trim(s, args.length ? charsOf(args) : DOTNET_SPACE, false, true);
    case "tolower":
    case "tolowerinvariant":
      if (args.length === 0) return s.toLowerCase();
      break;
    case "toupper":
    case "toupperinvariant":
      if (args.length === 0) return s.toUpperCase();
      break;
    case "tostring":
      if (args.length === 0) return s;
      break;
    case "substring": {
      const start = toIntegral(args[0] ?? null, "Int32").value;
      const len = args.length > 1 ? toIntegral(args[1], "Int32").value : s.length - start;
      if (start < 0 || len < 0 || start + len > s.length) {
        throw runtimeError(
          `Exception calling "Substring" with "${args.length}" argument(s): "Index and length must refer to a location within the string."`,
          "ArgumentOutOfRangeException",
          "NotSpecified",
          "System.Management.Automation.MethodInvocationException",
        );
      }
      return s.substr(start, len);
    }
  }
  throw notImplemented(`the method String.${name} with ${args.length} argument(s)`, { line });
}

/** $obj.Method(args); undefined from a void method (a statement calling it writes nothing; an expression sees $null). */
export function callMethod(engine: MemberEngine, obj: PSValue, name: string, args: PSValue[], line: number): PSValue | undefined {
  if (obj === null) {
    throw runtimeError("You cannot call a method on a null-valued expression.", "InvokeMethodOnNull", "InvalidOperation");
  }
  if (engine.languageMode === "ConstrainedLanguage" && (obj instanceof EngineObject || isHostObject(obj) || obj instanceof ScriptBlock || obj instanceof ErrorRecord)) {
    throw constrained(name);
  }
  const n = name.toLowerCase();
  if (typeof obj === "string") return stringMethod(obj, name, args, line);
  if (obj instanceof PSHashtable) {
    if ((n === "containskey" || n === "contains") && args.length === 1) return obj.has(args[0]);
    if (n === "add" && args.length === 2) {
      if (!obj.add(args[0], args[1])) {
        throw runtimeError(
          `Exception calling "Add" with "2" argument(s): "Item has already been added. Key in dictionary: '${toStr(args[0])}'  Key being added: '${toStr(args[0])}'"`,
          "ArgumentException",
          "NotSpecified",
          "System.Management.Automation.MethodInvocationException",
        );
      }
      return null;
    }
    if (n === "remove" && args.length === 1) {
      obj.remove(args[0]);
      return undefined;
    }
    throw notImplemented(`the method Hashtable.${name} with ${args.length} argument(s)`, { line });
  }
  if (obj instanceof PSDateTime) {
    const addUnit: Record<string, number> = { adddays: 86_400_000, addhours: 3_600_000, addminutes: 60_000, addseconds: 1000, addmilliseconds: 1 };
    if (n in addUnit && args.length === 1) {
      const amount = toNumber(args[0], "System.Double").value;
      return new PSDateTime(obj.epochMs + Math.round(amount * addUnit[n]), obj.kind, obj.offsetMinutes);
    }
    if (n === "touniversaltime" && args.length === 0) return obj.kind === "Utc" ? obj : new PSDateTime(obj.epochMs, "Utc");
    if (n === "tostring" && args.length <= 1) return formatDate(obj, args.length ? toStr(args[0]) : undefined);
    throw notImplemented(`the method DateTime.${name} with ${args.length} argument(s)`, { line });
  }
  if (isHostObject(obj)) {
    const key = Object.keys(obj.methods ?? {}).find((k) => eq(k, name));
    if (key) return dotNetCall(obj.methods![key], name, args);
    throw notImplemented(`the method ${name} of ${obj.typeNames[0]} (the host supplies none)`, { line });
  }
  if (obj instanceof EngineObject) {
    const key = Object.keys(obj.methods).find((k) => eq(k, name));
    if (key) return obj.methods[key](...args);
    throw notImplemented(`the method ${name} of ${obj.typeName}`, { line });
  }
  if ((obj instanceof PSNumber || typeof obj === "boolean" || obj instanceof PSChar) && n === "tostring" && args.length === 0) return toStr(obj);
  throw notImplemented(`the method ${name} of ${typeNameOf(obj)}`, { line });
}

// ---------------------------------------------------------------------------------------------
// Static members

function regexOptions(v: PSValue | undefined): boolean {
  if (v === undefined) return false;
  const names = toStr(v).split(",").map((s) => s.trim().toLowerCase());
  for (const o of names) if (o !== "ignorecase" && o !== "none") throw notImplemented(`RegexOptions ${o}`);
  return names.includes("ignorecase");
}

/** A .NET Match object as [regex]::Replace's evaluator receives it. */
function matchObject(m: RegExpExecArray): EngineObject {
  return new EngineObject("System.Text.RegularExpressions.Match", { Value: m[0], Index: new PSNumber("Int32", m.index), Length: new PSNumber("Int32", m[0].length), Success: true }, {}, m[0]);
}

/** .NET Framework IPAddress.TryParse: IPv4 dotted forms (a leading 0 means octal, as inet_addr) and IPv6 (with a %scope). */
export function ipAddressTryParse(text: string): boolean {
  if (text.includes(":")) {
    let t = text;
    if (t.startsWith("[")) {
      const end = t.indexOf("]");
      if (end < 0) return false;
      t = t.slice(1, end);
    }
    const pct = t.indexOf("%");
    if (pct >= 0) {
      if (!/^[0-9A-Za-z]+$/.test(t.slice(pct + 1))) return false;
      t = t.slice(0, pct);
    }
    return isIPv6(t);
  }
  const parts = text.split(".");
  if (parts.length < 1 || parts.length > 4) return false;
  const values: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0x[0-9a-f]+$/i.test(p)) v = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) v = parseInt(p, 10);
    else return false;
    values.push(v);
  }
  const last = values[values.length - 1];
  const lastMax = 2 ** (8 * (5 - values.length)) - 1;
  return values.slice(0, -1).every((v) => v <= 255) && last <= lastMax;
}

function isIPv6(t: string): boolean {
  let s = t;
  const groupsNeeded = 8;
  const v4 = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (v4) {
    if (!v4[1].split(".").every((p) => Number(p) <= 255)) return false;
    s = s.slice(0, -v4[1].length) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length < groupsNeeded : all.length === groupsNeeded;
}

const STRING_COMPARISON = ["CurrentCulture", "CurrentCultureIgnoreCase", "InvariantCulture", "InvariantCultureIgnoreCase", "Ordinal", "OrdinalIgnoreCase"];

/** A host's .NET method called as PowerShell calls one: a .NET exception becomes MethodInvocationException. */
function dotNetCall(method: (...args: PSValue[]) => PSValue | undefined, name: string, args: PSValue[]): PSValue | undefined {
  try {
    return method(...args);
  } catch (e) {
    if (!(e instanceof DotNetException)) throw e;
    const shortType = e.exceptionType.split(".").pop() ?? e.exceptionType;
    throw runtimeError(`Exception calling "${name}" with "${args.length}" argument(s): "${e.message}"`, shortType, "NotSpecified", "System.Management.Automation.MethodInvocationException");
  }
}

/** [Type]::Member or [Type]::Method(args). `args` undefined for a property. */
export function staticMember(engine: MemberEngine, type: PSType, name: string, args: PSValue[] | undefined, line: number): PSValue | undefined {
  const n = name.toLowerCase();
  const isMethod = args !== undefined;
  const clm = engine.languageMode === "ConstrainedLanguage";
  if (clm && isMethod && !CORE_TYPES.has(type.key)) throw constrained(`[${type.fullName}]::${name}`);
  const host = engine.staticMembers?.[type.fullName];
  const hostKey = host && Object.keys(host).find((k) => eq(k, name));
  if (host && hostKey) {
    const m = host[hostKey];
    if ("value" in m) return m.value;
    if (!isMethod) throw notImplemented(`[${type.fullName}]::${name} without a call`, { line });
    return dotNetCall(m.method, name, args);
  }
  switch (type.key) {
    case "console":
      if (!isMethod && n === "in") {
        return new EngineObject("System.IO.SyncTextReader", {}, { ReadToEnd: () => engine.readStdin() });
      }
      if (!isMethod && n === "out") {
        return new EngineObject(
          "System.IO.SyncTextWriter",
          {},
          {
            Write: (...a: PSValue[]) => {
              if (a.length !== 1) throw notImplemented("Console.Out.Write with a format", { line });
              engine.writeStdout(toStr(a[0]));
              return null;
            },
            WriteLine: (...a: PSValue[]) => {
              if (a.length > 1) throw notImplemented("Console.Out.WriteLine with a format", { line });
              engine.writeStdout((a.length ? toStr(a[0]) : "") + "\r\n");
              return null;
            },
          },
        );
      }
      break;
    case "regex":
      if (isMethod && n === "replace" && (args.length === 3 || args.length === 4)) {
        const input = toStr(args[0]);
        const re = dotnetRegExp(toStr(args[1]), regexOptions(args[3]), true);
        const evaluator = args[2];
        if (evaluator instanceof ScriptBlock) {
          // A script block is a MatchEvaluator: called with the Match, its output (as a string) replaces it.
          return input.replace(re, (...m: unknown[]) => {
            const groups = m.slice(0, -2) as string[];
            const exec = Object.assign([...groups], { index: m[m.length - 2] as number, input }) as unknown as RegExpExecArray;
            const out = engine.invoke(evaluator, [matchObject(exec)]);
            return toStr(out.length === 1 ? out[0] : new PSArray(out));
          });
        }
        const replacement = toStr(evaluator);
        if (/\$(\d|\{|[&`'+_])/.test(replacement)) throw notImplemented("substitutions in a [regex]::Replace replacement", { line });
        return input.replace(re, () => replacement);
      }
      if (isMethod && n === "escape" && args.length === 1) return escapeRegExp(toStr(args[0]));
      if (isMethod && n === "ismatch" && args.length === 2) return dotnetRegExp(toStr(args[1]), false).test(toStr(args[0]));
      break;
    case "scriptblock":
      if (isMethod && n === "create" && args.length === 1) {
        if (clm) throw constrained("[ScriptBlock]::Create");
        return engine.createScriptBlock(toStr(args[0]));
      }
      break;
    case "stringcomparison": {
      const i = STRING_COMPARISON.findIndex((s) => eq(s, name));
      if (!isMethod && i >= 0) return new PSEnum("System.StringComparison", STRING_COMPARISON[i], i);
      break;
    }
    case "net.ipaddress":
      if (isMethod && n === "tryparse" && args.length === 2) {
        const ref = args[1];
        if (!(ref instanceof PSRef)) {
          throw runtimeError(`Argument: '2' should be a System.Management.Automation.PSReference. Use [ref].`, "NonRefArgumentToRefParameterMsg", "InvalidArgument");
        }
        const ok = ipAddressTryParse(toStr(args[0]));
        // The address object itself is not modelled: the scripts test only the Boolean.
        ref.assign(ok ? new EngineObject("System.Net.IPAddress", {}, {}, toStr(args[0])) : null);
        return ok;
      }
      break;
    case "int":
      if (!isMethod && n === "maxvalue") return new PSNumber("Int32", 2147483647);
      if (!isMethod && n === "minvalue") return new PSNumber("Int32", -2147483648);
      break;
    case "convert":
      if (isMethod && n === "tobyte" && args.length === 2) return convertToByte(args[0], args[1], line);
      break;
    case "string":
      if (isMethod && n === "isnullorempty" && args.length === 1) return args[0] === null || toStr(args[0]) === "";
      if (!isMethod && n === "empty") return "";
      break;
  }
  throw notImplemented(`[${type.fullName}]::${name}${isMethod ? "()" : ""}`, { line });
}

/**
 * [Convert]::ToByte(string, 16) (.NET Framework Convert.ToByte(String, Int32): ParseNumbers.StringToInt
 * with IsTight, so an optional "0x" then hexadecimal digits and nothing else; a value over 255 is
 * OverflowException "Value was either too large or too small for an unsigned byte."; a character
 * that is no digit is FormatException "Could not find any recognizable digits." when it comes
 * first, else "Additional non-parsable characters are at the end of the string."). PowerShell
 * wraps the exception: 'Exception calling "ToByte" with "2" argument(s): "..."'. Other bases, an
 * empty or $null string and white space are not modelled (refused).
 */
function convertToByte(value: PSValue, base: PSValue, line: number): PSNumber {
  if (toIntegral(base, "Int32").value !== 16) throw notImplemented("[Convert]::ToByte with a base other than 16", { line });
  if (typeof value !== "string" || value === "" || /\s/.test(value)) throw notImplemented("[Convert]::ToByte of anything but a non-empty string without white space", { line });
  const failed = (message: string, id: string) =>
    runtimeError(`Exception calling "ToByte" with "2" argument(s): "${message}"`, id, "NotSpecified", "System.Management.Automation.MethodInvocationException");
  const digits = /^0x/i.test(value) ? value.slice(2) : value;
  const m = /^[0-9A-Fa-f]*/.exec(digits)![0];
  if (m === "") throw failed("Could not find any recognizable digits.", "FormatException");
  if (m.length < digits.length) throw failed("Additional non-parsable characters are at the end of the string.", "FormatException");
  if (m.length > 8) throw notImplemented("[Convert]::ToByte of more than eight hexadecimal digits", { line });
  const n = parseInt(m, 16);
  if (n > 255) throw failed("Value was either too large or too small for an unsigned byte.", "OverflowException");
  return new PSNumber("Byte", n);
}

/** $x[$i] (spec 7.1.4): arrays by index (negative from the end, out of range $null), hashtables by key, strings by character. */
export function index(obj: PSValue, key: PSValue, line: number): PSValue {
  if (obj === null) throw runtimeError("Cannot index into a null array.", "NullArray", "InvalidOperation");
  if (obj instanceof PSHashtable) {
    const keys = enumerable(key);
    if (keys) return new PSArray(keys.map((k) => obj.get(k)));
    return obj.get(key);
  }
  if (obj instanceof PropertyCollection) return obj.item(toStr(key));
  if (obj instanceof PSArray || typeof obj === "string") {
    const keys = enumerable(key);
    const at = (k: PSValue): PSValue => {
      const i = toIntegral(k, "Int32").value;
      const len = obj instanceof PSArray ? obj.items.length : obj.length;
      const j = i < 0 ? len + i : i;
      if (j < 0 || j >= len) return null;
      return obj instanceof PSArray ? obj.items[j] : new PSChar(obj.charCodeAt(j));
    };
    if (keys) return new PSArray(keys.map(at).filter((v) => v !== null));
    return at(key);
  }
  if (obj instanceof PSCustomObject || isHostObject(obj)) throw runtimeError(`Unable to index into an object of type ${typeNameOf(obj)}.`, "CannotIndex", "InvalidOperation");
  throw notImplemented(`indexing into ${typeNameOf(obj)}`, { line });
}

