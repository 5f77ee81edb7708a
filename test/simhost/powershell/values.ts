// The values the interpreter of test/simhost/powershell/ works with: Windows PowerShell 5.1's
// objects, as far as the shipped scripts meet them. A PowerShell value is one of
//
//   null                 $null (and AutomationNull: a command that wrote nothing)
//   boolean              [bool]
//   string               [string]
//   PSNumber             [int] (Int32), [long] (Int64), [double], [decimal], [byte]: the .NET type
//                        is kept, since `-is [int]` and ConvertTo-Json's output depend on it
//   PSChar               [char]
//   PSArray              object[] (what @(), the comma operator and a function's output make)
//   PSHashtable          [hashtable]: case-insensitive keys (@{} uses an ordinal-ignore-case comparer)
//   PSCustomObject       ConvertFrom-Json's objects and Get-ItemProperty's answers: ordered
//                        NoteProperties, reachable through .PSObject.Properties (.Name, .Value)
//   PSDateTime           [datetime] (Get-Date, an event's TimeCreated)
//   PSEnum               an enum value (CategoryInfo.Category, LanguageMode, StringComparison)
//   HostObject           an object the host supplies: a typeName, properties, methods
//   ErrorRecord          $_ in a catch block
//   ScriptBlock          { ... } (test/simhost/powershell/evaluator.ts makes and runs them)
//
// Sources: the PowerShell Language Specification 3.0 (chapter 4, "Types"; 6, "Conversions"),
// about_Hash_Tables, about_Arrays, about_Object_Creation; the types ConvertFrom-Json gives in
// Windows PowerShell 5.1 are in test/simhost/powershell/json.ts.

export type NumberType = "Int32" | "Int64" | "Double" | "Decimal" | "Byte" | "UInt16" | "UInt32";

/** A number that keeps its .NET type. Int64 and Decimal are held as JS numbers: exact to 2^53 (the interpreter refuses more). */
export class PSNumber {
  constructor(
    readonly type: NumberType,
    readonly value: number,
    /** Decimal only: the digits as .NET keeps them ("1.50" stays "1.50"). */
    readonly decimalText?: string,
  ) {}
}

export class PSChar {
  constructor(readonly code: number) {}
}

/** object[]: a fixed-size array of values (PowerShell's += makes a new one). */
export class PSArray {
  constructor(readonly items: PSValue[]) {}
}

/** One NoteProperty of a PSCustomObject (also what .PSObject.Properties yields: .Name, .Value). */
export interface NoteProperty {
  name: string;
  value: PSValue;
}

/** [pscustomobject]: NoteProperties in the order they were added; names compare case-insensitively. */
export class PSCustomObject {
  private readonly props = new Map<string, NoteProperty>();
  /** PSTypeNames after PSCustomObject's own (Get-ItemProperty's objects have none beyond it). */
  constructor(properties: Iterable<[string, PSValue]> = []) {
    for (const [name, value] of properties) this.add(name, value);
  }
  /** Adds a NoteProperty; false if one of that name (ignoring case) exists already. */
  add(name: string, value: PSValue): boolean {
    const key = name.toLowerCase();
    if (this.props.has(key)) return false;
    this.props.set(key, { name, value });
    return true;
  }
  get(name: string): NoteProperty | undefined {
    return this.props.get(name.toLowerCase());
  }
  set(name: string, value: PSValue): boolean {
    const p = this.props.get(name.toLowerCase());
    if (!p) return false;
    p.value = value;
    return true;
  }
  properties(): NoteProperty[] {
    return [...this.props.values()];
  }
}

/**
 * [hashtable] as `@{}` makes it: keys compare case-insensitively when they are strings
 * (about_Hash_Tables: "Hashtable keys are case-insensitive"); other keys by type and value.
 * Enumeration follows insertion order. Windows PowerShell's Hashtable enumerates in bucket order
 * (by hash code), which no script may rely on; the model's order is a stable stand-in.
 */
export class PSHashtable {
  private readonly entries = new Map<string, { key: PSValue; value: PSValue }>();
  /** Bumped on every change to the key set, as .NET's Hashtable version (enumerators check it). */
  version = 0;

  static keyOf(key: PSValue): string {
    if (typeof key === "string") return "s:" + key.toLowerCase();
    if (key instanceof PSNumber) return `n:${key.type}:${key.value}`;
    if (typeof key === "boolean") return "b:" + key;
    if (key instanceof PSChar) return "c:" + key.code;
    if (key instanceof PSEnum) return `e:${key.typeName}:${key.value}`;
    throw new TypeError("hashtable key of this kind is not implemented");
  }
  get count(): number {
    return this.entries.size;
  }
  has(key: PSValue): boolean {
    return this.entries.has(PSHashtable.keyOf(key));
  }
  get(key: PSValue): PSValue {
    return this.entries.get(PSHashtable.keyOf(key))?.value ?? null;
  }
  /** $h[$k] = $v: replaces the value (keeping the key's first spelling) or adds the key. */
  set(key: PSValue, value: PSValue): void {
    const k = PSHashtable.keyOf(key);
    const found = this.entries.get(k);
    if (found) found.value = value;
    else {
      this.entries.set(k, { key, value });
      this.version++;
    }
  }
  /** Hashtable.Add: false if the key exists (the caller raises PowerShell's error). */
  add(key: PSValue, value: PSValue): boolean {
    if (this.has(key)) return false;
    this.set(key, value);
    return true;
  }
  remove(key: PSValue): void {
    if (this.entries.delete(PSHashtable.keyOf(key))) this.version++;
  }
  keys(): PSValue[] {
    return [...this.entries.values()].map((e) => e.key);
  }
  values(): PSValue[] {
    return [...this.entries.values()].map((e) => e.value);
  }
  pairs(): Array<[PSValue, PSValue]> {
    return [...this.entries.values()].map((e) => [e.key, e.value]);
  }
}

/** An enum value: its type (System.Management.Automation.ErrorCategory, ...), name and number. */
export class PSEnum {
  constructor(
    readonly typeName: string,
    readonly name: string,
    readonly value: number,
  ) {}
}

/**
 * [datetime]: milliseconds since the Unix epoch (the model needs no finer ticks; ToString('o')
 * writes seven fractional digits as .NET does) and its Kind. Local times are in the host's time
 * zone, a fixed offset from UTC (SessionFacts.utcOffsetMinutes).
 */
export class PSDateTime {
  constructor(
    readonly epochMs: number,
    readonly kind: "Utc" | "Local" | "Unspecified",
    /** The host's offset from UTC, in minutes, for Local times. */
    readonly offsetMinutes: number = 0,
  ) {}
}

/**
 * An object the host supplies (a CIM instance, an event record, an EventLogConfiguration, ...).
 * Its properties are read by name, ignoring case, and listed by .PSObject.Properties in order;
 * methods, if any, receive their arguments already evaluated.
 */
export interface HostObject {
  readonly kind: "host";
  /** PSTypeNames, most specific first, e.g. ["Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_ComputerSystem", "Microsoft.Management.Infrastructure.CimInstance", "System.Object"]. */
  readonly typeNames: string[];
  /** Properties in the order .PSObject.Properties lists them. */
  readonly properties: Array<{ name: string; value: PSValue }>;
  /** Instance methods by name (matched ignoring case); one that returns undefined is a void method (a statement calling it writes nothing). */
  readonly methods?: Record<string, (...args: PSValue[]) => PSValue | undefined>;
  /** What [string] and string expansion give (default: typeNames[0]). */
  readonly text?: string;
}

/** What a catch block sees as $_ (System.Management.Automation.ErrorRecord). */
export class ErrorRecord {
  constructor(
    /** Exception.Message */
    readonly message: string,
    /** CategoryInfo.Category: an ErrorCategory name (NotSpecified, PermissionDenied, ObjectNotFound, InvalidOperation, InvalidArgument, ...). */
    readonly category: ErrorCategory,
    /** FullyQualifiedErrorId, e.g. "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand". */
    readonly fullyQualifiedErrorId: string,
    /** The .NET type of Exception, e.g. "System.UnauthorizedAccessException". */
    readonly exceptionType: string = "System.Management.Automation.RuntimeException",
    readonly targetObject: PSValue = null,
    /** The command that raised it (InvocationInfo.MyCommand.Name), for the error's text on stderr. */
    readonly commandName: string = "",
    /** Where it was raised in the script: line and column (1-based) and that line's text. */
    public position?: { line: number; column: number; lineText: string },
  ) {}
}

/**
 * The ErrorCategory values (System.Management.Automation.ErrorCategory), in their numeric order.
 */
export const ERROR_CATEGORIES = [
  "NotSpecified",
  "OpenError",
  "CloseError",
  "DeviceError",
  "DeadlockDetected",
  "InvalidArgument",
  "InvalidData",
  "InvalidOperation",
  "InvalidResult",
  "InvalidType",
  "MetadataError",
  "NotImplemented",
  "NotInstalled",
  "ObjectNotFound",
  "OperationStopped",
  "OperationTimeout",
  "SyntaxError",
  "ParserError",
  "PermissionDenied",
  "ResourceBusy",
  "ResourceExists",
  "ResourceUnavailable",
  "ReadError",
  "WriteError",
  "FromStdErr",
  "SecurityError",
  "ProtocolError",
  "ConnectionError",
  "AuthenticationError",
  "LimitsExceeded",
  "QuotaExceeded",
  "NotEnabled",
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** A script block value; `body` is the evaluator's (a parsed tree node), opaque here. */
export class ScriptBlock {
  constructor(
    readonly body: unknown,
    readonly text: string,
  ) {}
}

/** [ref]: what [System.Net.IPAddress]::TryParse writes its result into. */
export class PSRef {
  constructor(
    public value: PSValue,
    /** Writes the value back to the variable it came from. */
    readonly assign: (v: PSValue) => void,
  ) {}
}

/** A value of a type the engine implements itself (Version, Match, the [Console] streams, ...). */
export class EngineObject {
  /** Set on engine collections that foreach and the pipeline enumerate. */
  enumerate?: () => PSValue[];
  constructor(
    readonly typeName: string,
    readonly properties: Record<string, PSValue>,
    readonly methods: Record<string, (...args: PSValue[]) => PSValue> = {},
    readonly text?: string,
  ) {}
}

export type PSValue =
  | null
  | boolean
  | string
  | PSNumber
  | PSChar
  | PSArray
  | PSHashtable
  | PSCustomObject
  | PSDateTime
  | PSEnum
  | HostObject
  | ErrorRecord
  | ScriptBlock
  | PSRef
  | EngineObject;

// Constructors for hosts and tests.

export const int32 = (n: number): PSNumber => {
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw new RangeError(`${n} is not an Int32`);
  return new PSNumber("Int32", n);
};
export const int64 = (n: number): PSNumber => {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${n} is not an Int64 the model holds exactly`);
  return new PSNumber("Int64", n);
};
export const double = (n: number): PSNumber => new PSNumber("Double", n);
export const array = (items: PSValue[]): PSArray => new PSArray(items);

/** A hashtable from a JS object's own properties (in their order). */
export function hashtable(entries: Record<string, PSValue> | Array<[PSValue, PSValue]> = {}): PSHashtable {
  const h = new PSHashtable();
  for (const [k, v] of Array.isArray(entries) ? entries : Object.entries(entries)) h.set(k, v);
  return h;
}

/** A host object: typeNames most specific first; properties in their listing order. */
export function hostObject(
  typeNames: string | string[],
  properties: Record<string, PSValue>,
  methods?: Record<string, (...args: PSValue[]) => PSValue | undefined>,
  text?: string,
): HostObject {
  const names = Array.isArray(typeNames) ? typeNames : [typeNames];
  return { kind: "host", typeNames: names, properties: Object.entries(properties).map(([name, value]) => ({ name, value })), methods, text };
}

export function isHostObject(v: PSValue): v is HostObject {
  return typeof v === "object" && v !== null && (v as HostObject).kind === "host" && !(v instanceof EngineObject);
}

/** The .NET type name PowerShell reports for a value (GetType().FullName), as errors and casts name it. */
export function typeNameOf(v: PSValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return "System.Boolean";
  if (typeof v === "string") return "System.String";
  if (v instanceof PSNumber) return "System." + v.type;
  if (v instanceof PSChar) return "System.Char";
  if (v instanceof PSArray) return "System.Object[]";
  if (v instanceof PSHashtable) return "System.Collections.Hashtable";
  if (v instanceof PSCustomObject) return "System.Management.Automation.PSCustomObject";
  if (v instanceof PSDateTime) return "System.DateTime";
  if (v instanceof PSEnum) return v.typeName;
  if (v instanceof ErrorRecord) return "System.Management.Automation.ErrorRecord";
  if (v instanceof ScriptBlock) return "System.Management.Automation.ScriptBlock";
  if (v instanceof PSRef) return "System.Management.Automation.PSReference";
  if (v instanceof EngineObject) return v.typeName;
  return v.typeNames[0];
}
