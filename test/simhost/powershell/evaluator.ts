// The evaluator: walks the tree of test/simhost/powershell/ast.ts with Windows PowerShell 5.1's
// semantics. Sources: the PowerShell Language Specification 3.0 (chapters 7 "Expressions" and
// 8 "Statements"), the about_* topics named beside each rule, and PowerShell's behaviour where
// 5.1 and 7 differ (docs/windows-model.md, "The PowerShell the simulated hosts interpret").
import { Ast, InterpreterError, notImplemented, parseScript, powershell7Only } from "./ast";
import {
  HashtableView,
  enumerable,
  fitsInt32,
  psCompare,
  psEquals,
  toBool,
  toIntegral,
  toNumber,
  toStr,
  wildcardToRegExp,
} from "./convert";
import { BreakSignal, ContinueSignal, ExitSignal, PSError, ReturnSignal, runtimeError } from "./errors";
import { CommandError, ErrorSpec, HostCommand, PowerShellHost } from "./host";
import { MemberEngine, PSType, PropertyCollection, callMethod, cast, getProperty, index, isType, resolveType, setProperty, staticMember } from "./members";
import { dotnetRegExp } from "./regex";
import {
  EngineObject,
  ErrorRecord,
  PSArray,
  PSEnum,
  PSHashtable,
  PSNumber,
  PSRef,
  PSValue,
  ScriptBlock,
} from "./values";

// ---------------------------------------------------------------------------------------------
// Scopes (about_Scopes: a function or script block gets a child scope of its caller; variables
// are read through the chain and written in the current scope)

interface Variable {
  value: PSValue;
}

export class Scope {
  readonly vars = new Map<string, Variable>();
  readonly functions = new Map<string, FunctionDef>();
  constructor(
    readonly parent: Scope | null,
    /** The scope $script: names (the script's own, or the session's). */
    readonly script: Scope | null = null,
  ) {}
  lookup(name: string): Variable | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v) return v;
    }
    return undefined;
  }
  set(name: string, value: PSValue): void {
    const v = this.vars.get(name);
    if (v) v.value = value;
    else this.vars.set(name, { value });
  }
  findFunction(name: string): FunctionDef | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const f = s.functions.get(name);
      if (f) return f;
    }
    return undefined;
  }
}

/** A param block's parameter. */
interface ParamDef {
  /** Lowercase (variables ignore case). */
  name: string;
  /** As declared, for messages. */
  display?: string;
  /** The declared type key ([string] -> "string"), if any. */
  type?: PSType;
  mandatory: boolean;
  defaultValue?: Ast;
  line: number;
}

/** A function, a script block or a script: its parameters and its statements. */
export interface FunctionDef {
  name: string;
  params: ParamDef[];
  /** [CmdletBinding()] or a [Parameter()] attribute: an advanced function (about_Functions_Advanced). */
  advanced: boolean;
  body?: Ast;
  node: Ast;
}

/** One argument of a command as written: a named parameter (with or without its value) or a positional value. */
interface CommandArg {
  name?: string;
  /** The parameter token as written ("-Force"), for errors. */
  token?: string;
  value?: PSValue;
  hasValue: boolean;
  /** -Name:value: the value is the parameter's whatever its kind. */
  colon?: boolean;
}

/** The commands the engine itself implements (test/simhost/powershell/cmdlets.ts). */
export interface EngineCommand extends HostCommand {
  /** Absent in sessions whose PSVersion.Major is below this. */
  since?: number;
  runEngine(call: EngineCall): PSValue[];
}

export interface EngineCall {
  name: string;
  parameters: Record<string, PSValue>;
  input: PSValue[];
  hasInput: boolean;
  interp: Interpreter;
  scope: Scope;
  line: number;
  writeError(error: ErrorSpec): void;
}

const COMMON_PARAMETERS = ["ErrorAction", "WarningAction", "InformationAction", "Verbose", "Debug", "ErrorVariable", "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable"];

/** Function definitions by their tree node: a script's trees are cached, so are their parameter lists. */
const definitions = new WeakMap<Ast, FunctionDef>();

const STATEMENTS = new Set(["pipeline", "if_statement", "foreach_statement", "flow_control_statement", "try_statement", "function_statement", "empty_statement", "switch_statement", "while_statement", "do_statement", "for_statement", "trap_statement", "data_statement", "class_statement", "enum_statement"]);

const AUTOMATIC_READONLY = new Set(["true", "false", "null"]);

type Preference = "stop" | "continue" | "silentlycontinue" | "ignore";

function preferenceOf(v: PSValue, line: number): Preference {
  const s = (v instanceof PSEnum ? v.name : toStr(v)).toLowerCase();
  if (s === "stop" || s === "continue" || s === "silentlycontinue" || s === "ignore") return s;
  if (s === "inquire" || s === "suspend") throw notImplemented(`the error action ${s}`, { line });
  throw runtimeError(
    `Cannot convert value "${toStr(v)}" to type "System.Management.Automation.ActionPreference". Error: "Unable to match the identifier name ${toStr(v)} to a valid enumerator name. Specify one of the following enumerator names and try again:\r\nSilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend"`,
    "InvalidCastFromStringToEnum",
    "InvalidArgument",
  );
}

/** What a run of the interpreter keeps: the host, stdin/stdout, the errors written. */
export interface RunState {
  host: PowerShellHost;
  stdin: string;
  stdinRead: boolean;
  /** powershell.exe -File: the script's path ($PSCommandPath). */
  file?: string;
  stdout: string[];
  /** Non-terminating errors shown (error action Continue), for stderr. */
  shownErrors: ErrorRecord[];
  /** $Error, newest first. */
  errors: PSValue[];
  /** The script's text, for error positions. */
  lines: string[];
}

export class Interpreter implements MemberEngine {
  readonly languageMode: "FullLanguage" | "ConstrainedLanguage";
  /** What $ExecutionContext.SessionState.LanguageMode says (SessionFacts.reportedLanguageMode). */
  readonly reportedLanguageMode: "FullLanguage" | "ConstrainedLanguage";
  readonly psMajor: number;
  readonly staticMembers;
  /** Try blocks entered and not left (dynamically): a terminating error then reaches a catch. */
  private tryDepth = 0;
  readonly global: Scope;

  constructor(
    readonly run: RunState,
    readonly engineCommands: Record<string, EngineCommand>,
  ) {
    this.languageMode = run.host.session.languageMode;
    this.reportedLanguageMode = run.host.session.reportedLanguageMode ?? this.languageMode;
    this.psMajor = Number(run.host.session.psVersion.split(".")[0]);
    this.staticMembers = run.host.staticMembers;
    this.global = new Scope(null);
    this.global.set("erroractionpreference", "Continue");
    this.global.set("progresspreference", "Continue");
  }

  // MemberEngine -------------------------------------------------------------------------------

  invoke(sb: ScriptBlock, args: PSValue[]): PSValue[] {
    return this.invokeScriptBlock(sb, this.global, args.map((value) => ({ value, hasValue: true })), undefined, null);
  }
  createScriptBlock(text: string): ScriptBlock {
    const ast = parseScript(text);
    return new ScriptBlock(ast, text);
  }
  readStdin(): string {
    // Console.In.ReadToEnd: the whole of stdin once; an empty string after that.
    if (this.run.stdinRead) return "";
    this.run.stdinRead = true;
    return this.run.stdin;
  }
  writeStdout(text: string): void {
    this.run.stdout.push(text);
  }

  // Statements -----------------------------------------------------------------------------------

  /** Runs a statement_list (or nothing), writing output to `out`. */
  execList(list: Ast | undefined, scope: Scope, out: PSValue[]): void {
    if (!list) return;
    if (list.type !== "statement_list") {
      this.execStatement(list, scope, out);
      return;
    }
    for (const st of list.kids) this.execStatementGuarded(st, scope, out);
  }

  /**
   * A statement, with PowerShell's rule for a statement-terminating error outside any try: when
   * $ErrorActionPreference is not Stop it is written to the error stream and the next statement
   * runs (spec 8.5; about_Preference_Variables, $ErrorActionPreference).
   */
  private execStatementGuarded(st: Ast, scope: Scope, out: PSValue[]): void {
    try {
      this.execStatement(st, scope, out);
    } catch (e) {
      if (e instanceof PSError && !e.record.position) e.record.position = this.position(st);
      if (!(e instanceof PSError) || e.scope !== "statement" || this.tryDepth > 0) throw e;
      const pref = this.errorPreference(scope, st.line);
      if (pref === "stop") throw new PSError(e.record, "script");
      this.recordError(e.record, pref, st);
    }
  }

  recordError(record: ErrorRecord, pref: Preference, at?: Ast): void {
    if (at && !record.position) record.position = this.position(at);
    if (pref === "ignore") return;
    this.run.errors.unshift(record);
    if (pref === "continue") this.run.shownErrors.push(record);
  }

  position(at: Ast): { line: number; column: number; lineText: string } {
    return { line: at.line, column: at.col, lineText: this.run.lines[at.line - 1] ?? "" };
  }

  errorPreference(scope: Scope, line: number): Preference {
    return preferenceOf(scope.lookup("erroractionpreference")?.value ?? "Continue", line);
  }

  execStatement(st: Ast, scope: Scope, out: PSValue[]): void {
    switch (st.type) {
      case "pipeline":
        this.execPipeline(st, scope, out);
        return;
      case "if_statement":
        this.execIf(st, scope, out);
        return;
      case "foreach_statement":
        this.execForeach(st, scope, out);
        return;
      case "flow_control_statement":
        this.execFlow(st, scope, out);
        return;
      case "try_statement":
        this.execTry(st, scope, out);
        return;
      case "function_statement":
        this.defineFunction(st, scope);
        return;
      case "empty_statement":
        return;
      case "switch_statement":
      case "while_statement":
      case "do_statement":
      case "for_statement":
      case "trap_statement":
      case "data_statement":
      case "class_statement":
      case "enum_statement":
        throw notImplemented(st.type, st);
    }
    throw notImplemented(st.type, st);
  }

  private execIf(st: Ast, scope: Scope, out: PSValue[]): void {
    const [cond, block] = st.kids;
    if (toBool(this.statementValue(cond, scope))) {
      this.execList(block.kids[0], scope, out);
      return;
    }
    for (const k of st.kids.slice(2)) {
      if (k.type === "elseif_clauses") {
        for (const clause of k.kids) {
          if (toBool(this.statementValue(clause.kids[0], scope))) {
            this.execList(clause.kids[1].kids[0], scope, out);
            return;
          }
        }
      } else if (k.type === "else_clause") {
        this.execList(k.kids[0].kids[0], scope, out);
        return;
      } else throw notImplemented(k.type, k);
    }
  }

  /** foreach ($x in <pipeline>) (spec 8.4.4; about_Foreach): $null runs no iteration. */
  private execForeach(st: Ast, scope: Scope, out: PSValue[]): void {
    const [variable, coll, block] = st.kids;
    if (variable.type !== "variable" || st.kids.length !== 3) throw notImplemented("this form of foreach", st);
    const name = this.variableName(variable);
    const value = this.statementValue(coll, scope);
    const items = value === null ? [] : (enumerable(value) ?? [value]);
    const view = value instanceof HashtableView ? value : undefined;
    for (const item of items) {
      if (view && view.table.version !== view.version) throw this.collectionModified();
      scope.set(name, item);
      try {
        this.execList(block.kids[0], scope, out);
      } catch (e) {
        if (e instanceof BreakSignal && !e.label) break;
        if (e instanceof ContinueSignal && !e.label) continue;
        throw e;
      }
    }
    if (view && view.table.version !== view.version && items.length > 0) throw this.collectionModified();
  }

  private collectionModified(): PSError {
    return runtimeError("Collection was modified; enumeration operation may not execute.", "System.InvalidOperationException", "NotSpecified", "System.InvalidOperationException");
  }

  private execFlow(st: Ast, scope: Scope, out: PSValue[]): void {
    const keyword = st.all[0].text.toLowerCase();
    const arg = st.kids.find((k) => k.type === "pipeline");
    switch (keyword) {
      case "return":
        if (arg) this.execPipeline(arg, scope, out);
        throw new ReturnSignal();
      case "exit": {
        const v = arg ? this.statementValue(arg, scope) : new PSNumber("Int32", 0);
        throw new ExitSignal(toIntegral(v, "Int32").value);
      }
      case "break":
      case "continue": {
        if (st.kids.some((k) => k.type !== "pipeline") || arg) throw notImplemented(`${keyword} with a label`, st);
        throw keyword === "break" ? new BreakSignal() : new ContinueSignal();
      }
      case "throw": {
        if (!arg) {
          // throw alone rethrows the error a catch block handles, else "ScriptHalted".
          const current = scope.lookup("_")?.value;
          if (current instanceof ErrorRecord && this.inCatch(scope)) throw new PSError(current, "script");
          throw new PSError(this.at(new ErrorRecord("ScriptHalted", "OperationStopped", "ScriptHalted"), st), "script");
        }
        const v = this.statementValue(arg, scope);
        if (v instanceof ErrorRecord) throw new PSError(v, "script");
        const message = toStr(v);
        // throw "text": a RuntimeException whose message and error id are the text (about_Throw).
        throw new PSError(this.at(new ErrorRecord(message, "OperationStopped", message, "System.Management.Automation.RuntimeException", v), st), "script");
      }
    }
    throw notImplemented(`the flow statement ${keyword}`, st);
  }

  private catchDepth = new Map<Scope, number>();
  private inCatch(scope: Scope): boolean {
    for (let s: Scope | null = scope; s; s = s.parent) if ((this.catchDepth.get(s) ?? 0) > 0) return true;
    return false;
  }

  at(record: ErrorRecord, node: Ast): ErrorRecord {
    if (!record.position) record.position = this.position(node);
    return record;
  }

  /** try/catch/finally (about_Try_Catch_Finally): catch handles terminating errors, with $_ the ErrorRecord; finally always runs. */
  private execTry(st: Ast, scope: Scope, out: PSValue[]): void {
    const body = st.kids[0];
    const catches = st.kids.find((k) => k.type === "catch_clauses");
    const fin = st.kids.find((k) => k.type === "finally_clause");
    try {
      this.tryDepth++;
      let caught: PSError | undefined;
      try {
        this.execList(body.kids[0], scope, out);
      } catch (e) {
        if (!(e instanceof PSError) || !catches) throw e;
        caught = e;
      } finally {
        this.tryDepth--;
      }
      if (caught && catches) {
        const clause = catches.kids[0];
        if (catches.kids.length !== 1 || clause.kids.some((k) => k.type === "catch_type_list")) throw notImplemented("catch with a type list", clause);
        const block = clause.kids[clause.kids.length - 1];
        const previous = scope.vars.get("_");
        scope.set("_", caught.record);
        scope.set("psitem", caught.record);
        this.catchDepth.set(scope, (this.catchDepth.get(scope) ?? 0) + 1);
        try {
          this.execList(block.kids[0], scope, out);
        } finally {
          this.catchDepth.set(scope, (this.catchDepth.get(scope) ?? 1) - 1);
          if (previous) scope.set("_", previous.value);
        }
      }
    } finally {
      if (fin) this.execList(fin.kids[0].kids[0], scope, out);
    }
  }

  defineFunction(st: Ast, scope: Scope): void {
    const nameNode = st.kids.find((k) => k.type === "function_name");
    const keyword = st.all[0].text.toLowerCase();
    if (keyword !== "function" || !nameNode) throw notImplemented(`${keyword} definitions`, st);
    const block = st.kids.find((k) => k.type === "script_block");
    const def = this.blockDef(nameNode.text, block, st);
    scope.functions.set(nameNode.text.toLowerCase(), def);
  }

  /** The parameters and statements of a script_block (or a program or script_block_expression). */
  blockDef(name: string, block: Ast | undefined, node: Ast): FunctionDef {
    const key = block ?? node;
    const cached = definitions.get(key);
    if (cached && cached.name === name) return cached;
    const def = this.makeBlockDef(name, block, node);
    definitions.set(key, def);
    return def;
  }

  private makeBlockDef(name: string, block: Ast | undefined, node: Ast): FunctionDef {
    let paramBlock: Ast | undefined;
    let body: Ast | undefined;
    const parts = block ? (block.type === "script_block_expression" || block.type === "program" ? block.kids : block.kids) : [];
    for (const p of parts) {
      if (p.type === "param_block") paramBlock = p;
      else if (p.type === "script_block") {
        for (const q of p.kids) {
          if (q.type === "param_block") paramBlock = q;
          else if (q.type === "script_block_body") body = this.bodyOf(q);
          else if (q.type === "statement_list") body = q;
          else throw notImplemented(q.type, q);
        }
      } else if (p.type === "script_block_body") body = this.bodyOf(p);
      else if (p.type === "statement_list") body = p;
      else throw notImplemented(p.type, p);
    }
    const { params, advanced } = paramBlock ? this.paramDefs(paramBlock) : { params: [], advanced: false };
    return { name, params, advanced, body, node };
  }

  private bodyOf(b: Ast): Ast | undefined {
    if (b.kids.length === 0) return undefined;
    if (b.kids.length === 1 && b.kids[0].type === "statement_list") return b.kids[0];
    throw notImplemented(`a script block with ${b.kids.map((k) => k.type).join(", ")} (begin/process/end blocks)`, b);
  }

  private paramDefs(pb: Ast): { params: ParamDef[]; advanced: boolean } {
    let advanced = false;
    const params: ParamDef[] = [];
    for (const k of pb.kids) {
      if (k.type === "attribute_list") {
        for (const a of k.kids) {
          const name = a.kids.find((x) => x.type === "attribute_name")?.text.toLowerCase();
          if (name === "cmdletbinding") advanced = true;
          else throw notImplemented(`the attribute [${a.text}] on a param block`, a);
        }
        continue;
      }
      if (k.type !== "parameter_list") throw notImplemented(k.type, k);
      for (const sp of k.kids) {
        if (sp.type === "variable") {
          params.push({ name: this.variableName(sp), display: sp.text.replace(/^\$/, ""), mandatory: false, line: sp.line });
          continue;
        }
        if (sp.type !== "script_parameter") throw notImplemented(sp.type, sp);
        const def: ParamDef = { name: "", mandatory: false, line: sp.line };
        for (const part of sp.kids) {
          if (part.type === "variable") {
            def.name = this.variableName(part);
            def.display = part.text.replace(/^\$/, "");
          }
          else if (part.type === "attribute_list" || part.type === "attribute" || part.type === "type_literal") {
            const attrs = part.type === "attribute_list" ? part.kids : [part];
            for (const a of attrs) {
              const tl = a.type === "type_literal" ? a : a.kids.length === 1 && a.kids[0].type === "type_literal" ? a.kids[0] : undefined;
              if (tl) {
                def.type = resolveType(this.typeText(tl), tl.line, this.staticMembers);
                continue;
              }
              const an = a.kids.find((x) => x.type === "attribute_name")?.text.toLowerCase();
              if (an !== "parameter") throw notImplemented(`the parameter attribute [${a.text}]`, a);
              advanced = true;
              const argsNode = a.kids.find((x) => x.type === "attribute_arguments");
              for (const arg of argsNode?.kids ?? []) {
                const argName = arg.kids[0]?.text.toLowerCase();
                if (argName === "mandatory") {
                  def.mandatory = arg.kids.length < 2 ? true : toBool(this.evalExpr(arg.kids[1], this.global));
                } else throw notImplemented(`[Parameter(${arg.text})]`, arg);
              }
            }
          } else if (part.type === "script_parameter_default") {
            def.defaultValue = part.kids[0];
          } else throw notImplemented(`${part.type} in a parameter`, part);
        }
        params.push(def);
      }
    }
    return { params, advanced };
  }

  typeText(tl: Ast): string {
    return tl.text.slice(1, -1).trim();
  }

  variableName(v: Ast): string {
    let t = v.text;
    if (t.startsWith("$") || t.startsWith("@")) t = t.slice(1);
    if (t.startsWith("{") && t.endsWith("}")) t = t.slice(1, -1);
    return t.toLowerCase();
  }

  // Pipelines ------------------------------------------------------------------------------------

  /** A pipeline as a statement: its output goes to `out` (arrays unrolled one level). */
  execPipeline(p: Ast, scope: Scope, out: PSValue[]): void {
    const first = p.kids[0];
    if (first.type === "assignment_expression") {
      this.assign(first, scope);
      return;
    }
    if (first.type !== "pipeline_chain") throw notImplemented(first.type, first);
    const elements = first.kids;
    if (elements.some((e) => e.type === "redirections" || e.type === "redirection" || e.type === "verbatim_command_argument")) {
      throw notImplemented("redirection", first);
    }
    if (elements.length === 1 && elements[0].type !== "command") {
      const e = elements[0];
      // [void](...) discards its value.
      if (e.type === "cast_expression" && this.typeText(e.kids[0]).toLowerCase() === "void") {
        this.evalExpr(e.kids[1], scope);
        return;
      }
      // A void .NET method writes nothing.
      const called = e.type === "invokation_expression" ? this.invocation(e, scope) : this.evalExpr(e, scope);
      if (called === undefined) return;
      const v = called;
      const items = enumerable(v);
      if (items) out.push(...items);
      else out.push(v);
      return;
    }
    this.runChain(elements, scope, out);
  }

  /** Runs the elements of a pipeline_chain; the last element's output goes to `sink`. */
  private runChain(elements: Ast[], scope: Scope, sink: PSValue[]): void {
    let input: PSValue[] | undefined;
    elements.forEach((e, i) => {
      const last = i === elements.length - 1;
      const target: PSValue[] = last ? sink : [];
      if (e.type === "command") {
        this.runCommand(e, scope, input, target);
      } else {
        if (i > 0) throw notImplemented("an expression after | in a pipeline", e);
        const v = this.evalExpr(e, scope);
        const items = enumerable(v);
        if (items) target.push(...items);
        else target.push(v);
      }
      input = target;
    });
  }

  /** The value of a statement used as a value: an expression's own value, a command's output collected (none: $null; one: it; more: object[]). */
  statementValue(st: Ast, scope: Scope): PSValue {
    if (!STATEMENTS.has(st.type)) return this.evalExpr(st, scope);
    if (st.type === "pipeline") {
      const first = st.kids[0];
      if (first.type === "pipeline_chain" && first.kids.length === 1 && first.kids[0].type !== "command") return this.evalExpr(first.kids[0], scope);
      if (first.type === "assignment_expression") {
        this.assign(first, scope);
        return null;
      }
    }
    const out: PSValue[] = [];
    this.execStatement(st, scope, out);
    return collapse(out);
  }

  // Commands --------------------------------------------------------------------------------------

  private commandArgs(cmd: Ast, scope: Scope): CommandArg[] {
    const elements = cmd.kids.find((k) => k.type === "command_elements");
    const args: CommandArg[] = [];
    if (!elements) return args;
    let colonPending = false;
    for (const el of elements.all) {
      if (el.type === "command_argument_sep") {
        if (el.text === ":") colonPending = true;
        continue;
      }
      if (!el.named) throw notImplemented(`the token ${el.text} in a command`, el);
      if (el.type === "command_parameter") {
        const token = el.text;
        args.push({ name: token.replace(/^-/, "").replace(/:$/, ""), token, hasValue: false });
        if (token.endsWith(":")) colonPending = true;
        continue;
      }
      if (el.type === "redirection" || el.type === "stop_parsing" || el.type === "argument_list") throw notImplemented(el.type, el);
      let value: PSValue;
      if (el.type === "generic_token") {
        // A bareword argument is a string, or a number if it looks like one (about_Parsing, argument mode).
        value = /^[+-]?\d+$/.test(el.text) && fitsInt32(Number(el.text)) ? new PSNumber("Int32", Number(el.text)) : el.text;
      } else if (el.type === "variable" && el.text.startsWith("@")) {
        // Splatting (about_Splatting): a hashtable's entries as named parameters, an array's as positional ones.
        const splatted = scope.lookup(this.variableName(el))?.value ?? null;
        if (splatted instanceof PSHashtable) {
          for (const [k, v] of splatted.pairs()) args.push({ name: toStr(k), token: "-" + toStr(k), value: v, hasValue: true, colon: true });
        } else if (splatted instanceof PSArray) {
          for (const v of splatted.items) args.push({ value: v, hasValue: true });
        } else if (splatted !== null) args.push({ value: splatted, hasValue: true });
        continue;
      } else {
        value = this.evalExpr(el, scope);
      }
      const prev = args[args.length - 1];
      if (colonPending && prev && prev.name !== undefined && !prev.hasValue) {
        prev.value = value;
        prev.hasValue = true;
        prev.colon = true;
      } else args.push({ value, hasValue: true });
      colonPending = false;
    }
    return args;
  }

  private commandNotFound(name: string, node: Ast): PSError {
    return new PSError(
      this.at(
        new ErrorRecord(
          `The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
          "ObjectNotFound",
          "CommandNotFoundException",
          "System.Management.Automation.CommandNotFoundException",
          name,
          name,
        ),
        node,
      ),
      "statement",
    );
  }

  /** Resolves a command name as PowerShell does: functions first, then cmdlets (the engine's, then the host's). */
  resolveCommand(name: string, scope: Scope): { fn?: FunctionDef; engine?: EngineCommand; host?: HostCommand; name: string } | undefined {
    const key = name.toLowerCase();
    const fn = scope.findFunction(key);
    if (fn) return { fn, name: fn.name };
    this.commandIndex ??= {
      engine: new Map(Object.keys(this.engineCommands).map((k) => [k.toLowerCase(), k])),
      host: new Map(Object.keys(this.run.host.commands).map((k) => [k.toLowerCase(), k])),
    };
    const engineName = this.commandIndex.engine.get(key);
    if (engineName && this.psMajor >= (this.engineCommands[engineName].since ?? 0)) return { engine: this.engineCommands[engineName], name: engineName };
    const hostName = this.commandIndex.host.get(key);
    if (hostName) return { host: this.run.host.commands[hostName], name: hostName };
    return undefined;
  }
  private commandIndex: { engine: Map<string, string>; host: Map<string, string> } | undefined;

  private runCommand(cmd: Ast, scope: Scope, input: PSValue[] | undefined, out: PSValue[]): void {
    const invoke = cmd.kids.find((k) => k.type === "command_invokation_operator");
    const args = this.commandArgs(cmd, scope);
    if (invoke) {
      if (invoke.text !== "&") throw notImplemented("dot-sourcing (.)", cmd);
      const target = cmd.kids.find((k) => k.type !== "command_invokation_operator" && k.type !== "command_elements");
      if (!target) throw notImplemented("& without a command", cmd);
      const v = target.type === "command_name" ? target.text : this.evalExpr(target, scope);
      if (v instanceof ScriptBlock) {
        if (input) throw notImplemented("piping into a script block", cmd);
        const sb = v.body as Ast;
        const def = this.blockDef("<ScriptBlock>", sb, sb);
        out.push(...this.invokeFunction(def, scope, args, cmd, out));
        return;
      }
      this.callByName(toStr(v), cmd, scope, args, input, out);
      return;
    }
    const nameNode = cmd.kids.find((k) => k.type === "command_name");
    if (!nameNode) throw notImplemented("this command form", cmd);
    // tree-sitter-powershell parses a range such as 1..5 at the start of a pipeline as a command
    // named "1..5"; PowerShell would evaluate it. Refused rather than run as a missing command.
    if (/^[0-9.+-]/.test(nameNode.text)) throw notImplemented(`the expression ${nameNode.text} at the start of a pipeline (the grammar parses it as a command)`, cmd);
    this.callByName(nameNode.text, nameNode, scope, args, input, out);
  }

  private callByName(name: string, at: Ast, scope: Scope, args: CommandArg[], input: PSValue[] | undefined, out: PSValue[]): void {
    const found = this.resolveCommand(name, scope);
    if (!found) throw this.commandNotFound(name, at);
    if (found.fn) {
      if (input) throw notImplemented(`piping into the function ${found.name}`, at);
      // The function writes straight to `out` (its output is not captured by this statement).
      const result = this.invokeFunction(found.fn, scope, args, at, out);
      out.push(...result);
      return;
    }
    const command = (found.engine ?? found.host)!;
    const bound = this.bindCmdlet(found.name, command, args, at);
    const pref = bound.errorAction ?? this.errorPreference(scope, at.line);
    const writeError = (spec: ErrorSpec) => {
      const record = this.at(new ErrorRecord(spec.message, spec.category, spec.fullyQualifiedErrorId, spec.exceptionType ?? "System.Exception", spec.targetObject ?? null, found.name), at);
      if (pref === "stop") throw new PSError(record, "script");
      this.recordError(record, pref, at);
    };
    let result: PSValue[];
    try {
      if (found.engine) {
        result = found.engine.runEngine({ name: found.name, parameters: bound.parameters, input: input ?? [], hasInput: input !== undefined, interp: this, scope, line: at.line, writeError });
      } else {
        const r = found.host!.run({ name: found.name, parameters: bound.parameters, input: input ?? [], writeError });
        result = r === undefined ? [] : Array.isArray(r) ? r : [r];
      }
    } catch (e) {
      if (e instanceof CommandError) {
        const s = e.error;
        throw new PSError(this.at(new ErrorRecord(s.message, s.category, s.fullyQualifiedErrorId, s.exceptionType ?? "System.Exception", s.targetObject ?? null, found.name), at), "statement");
      }
      if (e instanceof PSError) {
        this.at(e.record, at);
      }
      throw e;
    }
    out.push(...result);
  }

  /** Binds a cmdlet's arguments to its declared parameters (about_Parameters; parameter names ignore case and may be abbreviated). */
  private bindCmdlet(name: string, command: HostCommand, args: CommandArg[], at: Ast): { parameters: Record<string, PSValue>; errorAction?: Preference } {
    const declared = Object.keys(command.parameters);
    const all = [...declared, ...COMMON_PARAMETERS, ...(command.supportsShouldProcess ? ["WhatIf", "Confirm"] : [])];
    const parameters: Record<string, PSValue> = {};
    let errorAction: Preference | undefined;
    const positional: PSValue[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a.name === undefined) {
        positional.push(a.value ?? null);
        continue;
      }
      const pname = this.matchParameter(a, all, name, at);
      const isSwitch = command.parameters[pname]?.switch || pname === "WhatIf" || pname === "Confirm" || pname === "Verbose" || pname === "Debug";
      let value: PSValue;
      if (a.hasValue) value = a.value ?? null;
      else if (isSwitch) value = true;
      else {
        const next = args[i + 1];
        if (!next || next.name !== undefined) {
          throw this.bindingError(`Missing an argument for parameter '${pname}'. Specify a parameter of type 'System.Object' and try again.`, "MissingArgument", name, at);
        }
        value = next.value ?? null;
        i++;
      }
      if (pname === "ErrorAction") {
        errorAction = preferenceOf(value, at.line);
        continue;
      }
      if (COMMON_PARAMETERS.includes(pname)) throw notImplemented(`the common parameter -${pname}`, at);
      if (pname in parameters) throw this.bindingError(`Cannot bind parameter because parameter '${pname}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".`, "ParameterAlreadyBound", name, at);
      parameters[pname] = isSwitch ? toBool(value) : value;
    }
    const byPosition = declared.filter((d) => command.parameters[d].position !== undefined).sort((x, y) => command.parameters[x].position! - command.parameters[y].position!);
    for (const v of positional) {
      const target = byPosition.find((d) => !(d in parameters));
      if (!target) throw this.bindingError(`A positional parameter cannot be found that accepts argument '${toStr(v)}'.`, "PositionalParameterNotFound", name, at);
      parameters[target] = v;
    }
    return { parameters, errorAction };
  }

  private matchParameter(a: CommandArg, names: string[], command: string, at: Ast): string {
    const lower = a.name!.toLowerCase();
    const exact = names.find((n) => n.toLowerCase() === lower);
    if (exact) return exact;
    const prefixed = names.filter((n) => n.toLowerCase().startsWith(lower));
    if (prefixed.length === 1) return prefixed[0];
    if (prefixed.length > 1) {
      throw this.bindingError(`Parameter cannot be processed because the parameter name '${a.name}' is ambiguous. Possible matches include: ${prefixed.map((p) => "-" + p).join(" ")}.`, "AmbiguousParameter", command, at);
    }
    throw this.bindingError(`A parameter cannot be found that matches parameter name '${a.name}'.`, "NamedParameterNotFound", command, at);
  }

  private bindingError(message: string, id: string, command: string, at: Ast, category: ErrorRecord["category"] = "InvalidArgument"): PSError {
    return new PSError(this.at(new ErrorRecord(message, category, `${id},${command}`, "System.Management.Automation.ParameterBindingException", null, command), at), "statement");
  }

  /**
   * Calls a function or script block (about_Functions; about_Functions_Advanced_Parameters): a
   * new scope, parameters bound by name (unambiguous prefixes too) then by position, typed
   * parameters converted, unbound ones $null (or "" / 0 / $false for [string] / numbers /
   * [bool]); a simple function's extra arguments are $args. Output goes to `sink` as it is written;
   * the return value is what is left to add (nothing).
   */
  invokeFunction(def: FunctionDef, caller: Scope, args: CommandArg[], at: Ast, sink?: PSValue[], dollarUnder?: PSValue): PSValue[] {
    const scope = new Scope(caller, caller.script);
    const bound = new Map<string, PSValue>();
    const extra: PSValue[] = [];
    const names = def.params.map((p) => p.name);
    const common = def.advanced ? COMMON_PARAMETERS.map((c) => c.toLowerCase()) : [];
    const positional: PSValue[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a.name === undefined) {
        positional.push(a.value ?? null);
        continue;
      }
      const lower = a.name.toLowerCase();
      const candidates = [...names, ...common];
      let match = candidates.find((n) => n === lower);
      if (!match) {
        const prefixed = candidates.filter((n) => n.startsWith(lower));
        if (prefixed.length > 1) throw this.bindingError(`Parameter cannot be processed because the parameter name '${a.name}' is ambiguous. Possible matches include: ${prefixed.map((p) => "-" + p).join(" ")}.`, "AmbiguousParameter", def.name, at);
        match = prefixed[0];
      }
      if (!match) {
        if (!def.advanced) throw notImplemented(`an unknown parameter -${a.name} to the simple function ${def.name} (it would go to $args)`, at);
        throw this.bindingError(`A parameter cannot be found that matches parameter name '${a.name}'.`, "NamedParameterNotFound", def.name, at);
      }
      let value: PSValue;
      const param = def.params.find((p) => p.name === match);
      const isSwitch = param?.type?.key === "switch";
      if (a.hasValue) value = a.value ?? null;
      else if (isSwitch) value = true;
      else {
        const next = args[i + 1];
        if (!next || next.name !== undefined) throw this.bindingError(`Missing an argument for parameter '${a.name}'. Specify a parameter of type '${param?.type?.fullName ?? "System.Object"}' and try again.`, "MissingArgument", def.name, at);
        value = next.value ?? null;
        i++;
      }
      if (!param) {
        if (match === "erroraction") scope.set("erroractionpreference", value);
        else throw notImplemented(`the common parameter -${a.name} of a function`, at);
        continue;
      }
      bound.set(match, value);
    }
    for (const v of positional) {
      const target = def.params.find((p) => !bound.has(p.name) && p.type?.key !== "switch");
      if (target) bound.set(target.name, v);
      else if (def.advanced) throw this.bindingError(`A positional parameter cannot be found that accepts argument '${toStr(v)}'.`, "PositionalParameterNotFound", def.name, at);
      else extra.push(v);
    }
    for (const p of def.params) {
      if (bound.has(p.name)) {
        const v = bound.get(p.name)!;
        if (p.mandatory && v === null) throw this.bindingError(`Cannot bind argument to parameter '${this.paramName(p)}' because it is null.`, "ParameterArgumentValidationErrorNullNotAllowed", def.name, at, "InvalidData");
        let converted: PSValue;
        try {
          converted = p.type ? (p.type.key === "switch" ? toBool(v) : cast(v, p.type, p.line)) : v;
        } catch (e) {
          if (e instanceof PSError) {
            throw this.bindingError(`Cannot process argument transformation on parameter '${this.paramName(p)}'. ${e.record.message}`, "ParameterArgumentTransformationError", def.name, at, "InvalidData");
          }
          throw e;
        }
        if (p.mandatory && converted === "" && p.type?.key === "string") {
          throw this.bindingError(`Cannot bind argument to parameter '${this.paramName(p)}' because it is an empty string.`, "ParameterArgumentValidationErrorEmptyStringNotAllowed", def.name, at, "InvalidData");
        }
        scope.set(p.name, converted);
      } else if (p.mandatory) {
        // powershell.exe -NonInteractive cannot prompt for it.
        throw this.bindingError(`Cannot process command because of one or more missing mandatory parameters: ${this.paramName(p)}.`, "MissingMandatoryParameter", def.name, at);
      } else if (p.defaultValue) {
        scope.set(p.name, this.statementValue(p.defaultValue, scope));
      } else {
        const k = p.type?.key;
        scope.set(p.name, k === "string" ? "" : k === "int" || k === "long" || k === "double" || k === "byte" ? cast(null, p.type!, p.line) : k === "bool" || k === "switch" ? false : null);
      }
    }
    scope.set("args", new PSArray(extra));
    if (dollarUnder !== undefined) scope.set("_", dollarUnder);
    const out = sink ?? [];
    try {
      this.execList(def.body, scope, out);
    } catch (e) {
      if (!(e instanceof ReturnSignal)) throw e;
    }
    return sink ? [] : out;
  }

  private paramName(p: ParamDef): string {
    return p.display ?? p.name;
  }

  /** Runs a script block value with positional arguments; `dollarUnder` sets $_ (ForEach-Object, Where-Object, Sort-Object). */
  invokeScriptBlock(sb: ScriptBlock, caller: Scope, args: CommandArg[], sink: PSValue[] | undefined, dollarUnder: PSValue | undefined | null): PSValue[] {
    const ast = sb.body as Ast;
    const def = this.blockDef("<ScriptBlock>", ast, ast);
    return this.invokeFunction(def, caller, args, ast, sink, dollarUnder === null ? undefined : dollarUnder);
  }

  // Assignment -----------------------------------------------------------------------------------

  /** $x = ..., $h[$k] = ..., $o.p = ..., += (spec 7.11; about_Assignment_Operators). */
  assign(node: Ast, scope: Scope): void {
    const [left, op, valueNode] = node.kids;
    const operator = op.text;
    const compute = (current: () => PSValue): PSValue => {
      const value = this.statementValue(valueNode, scope);
      switch (operator) {
        case "=":
          return value;
        case "+=":
          return this.add(current(), value, node);
        case "-=":
          return this.arith("-", current(), value, node);
        case "*=":
          return this.arith("*", current(), value, node);
        case "/=":
          return this.arith("/", current(), value, node);
        case "%=":
          return this.arith("%", current(), value, node);
      }
      if (operator === "??=") throw powershell7Only("the ??= operator", node);
      throw notImplemented(`the assignment operator ${operator}`, node);
    };
    if (left.type === "variable") {
      const name = this.variableName(left);
      if (name === "null") {
        compute(() => null);
        return;
      }
      if (AUTOMATIC_READONLY.has(name)) throw runtimeError(`Cannot overwrite variable ${name} because it is read-only or constant.`, "VariableNotWritable", "WriteError", "System.Management.Automation.SessionStateUnauthorizedAccessException");
      const { target, local } = this.variableTarget(name, scope, left);
      const v = compute(() => target.lookup(local)?.value ?? null);
      target.set(local, v);
      return;
    }
    if (left.type === "element_access") {
      const obj = this.evalExpr(left.kids[0], scope);
      const key = this.evalExpr(left.kids[1], scope);
      const v = compute(() => index(obj, key, left.line));
      if (obj instanceof PSHashtable) obj.set(key, v);
      else if (obj instanceof PSArray) {
        const i = toIntegral(key, "Int32").value;
        const j = i < 0 ? obj.items.length + i : i;
        if (j < 0 || j >= obj.items.length) throw runtimeError("Index was outside the bounds of the array.", "System.IndexOutOfRangeException", "NotSpecified", "System.IndexOutOfRangeException");
        obj.items[j] = v;
      } else if (obj === null) throw runtimeError("Cannot index into a null array.", "NullArray", "InvalidOperation");
      else throw notImplemented(`assigning an element of ${obj.constructor.name}`, left);
      return;
    }
    if (left.type === "member_access") {
      if (left.all.some((t) => t.text === "::")) throw notImplemented("assigning a static member", left);
      const obj = this.evalExpr(left.kids[0], scope);
      const name = this.memberName(left.kids[1], scope);
      const v = compute(() => getProperty(obj, name, left.line));
      setProperty(obj, name, v, left.line);
      return;
    }
    if (left.type === "cast_expression") throw notImplemented("typed variables ([type]$x = ...)", left);
    throw notImplemented(`assigning to ${left.type}`, left);
  }

  private variableTarget(name: string, scope: Scope, at: Ast): { target: Scope; local: string } {
    const colon = name.indexOf(":");
    if (colon < 0) return { target: scope, local: name };
    const qualifier = name.slice(0, colon);
    const local = name.slice(colon + 1);
    if (qualifier === "script") return { target: scope.script ?? this.global, local };
    if (qualifier === "global") return { target: this.global, local };
    if (qualifier === "local") return { target: scope, local };
    throw notImplemented(`the variable ${at.text}`, at);
  }

  // Expressions ----------------------------------------------------------------------------------

  evalExpr(n: Ast, scope: Scope): PSValue {
    switch (n.type) {
      case "variable":
        return this.readVariable(n, scope);
      case "string_literal":
        return this.evalExpr(n.kids[0], scope);
      case "verbatim_string_characters":
        return n.text.slice(1, -1).replace(/''/g, "'");
      case "expandable_string_literal":
        return this.expandString(n, scope);
      case "verbatim_here_string_characters":
        return hereBody(n.text);
      case "expandable_here_string_literal":
        return this.expandString(n, scope, true);
      case "integer_literal":
        return this.evalExpr(n.kids[0], scope);
      case "decimal_integer_literal":
      case "hexadecimal_integer_literal":
        return integerLiteral(n);
      case "real_literal":
        return realLiteral(n);
      case "array_literal_expression":
        return new PSArray(n.kids.map((k) => this.evalExpr(k, scope)));
      case "unary_expression":
        if (n.kids.length === 1) return this.evalExpr(n.kids[0], scope);
        break;
      case "expression_with_unary_operator":
        return this.unary(n, scope);
      case "cast_expression": {
        const t = resolveType(this.typeText(n.kids[0]), n.line, this.staticMembers);
        const v = this.evalExpr(n.kids[1], scope);
        if (t.key === "ref") {
          const target = n.kids[1];
          if (target.type !== "variable") throw notImplemented("[ref] of anything but a variable", n);
          const name = this.variableName(target);
          return new PSRef(v, (nv) => scope.set(name, nv));
        }
        if (t.key === "void") return null;
        return cast(v, t, n.line);
      }
      case "type_literal":
        return resolveType(this.typeText(n), n.line, this.staticMembers);
      case "parenthesized_expression":
        return this.statementValue(n.kids[0], scope);
      case "sub_expression": {
        const out: PSValue[] = [];
        this.execList(n.kids[0], scope, out);
        return collapse(out);
      }
      case "array_expression": {
        const out: PSValue[] = [];
        this.execList(n.kids[0], scope, out);
        return new PSArray(out);
      }
      case "hash_literal_expression":
        return this.hashLiteral(n, scope);
      case "script_block_expression":
        return new ScriptBlock(n, n.text.slice(1, -1));
      case "member_access":
        return this.memberAccess(n, scope);
      case "invokation_expression":
        return this.invocation(n, scope) ?? null;
      case "element_access":
        return index(this.evalExpr(n.kids[0], scope), this.evalExpr(n.kids[1], scope), n.line);
      case "logical_expression":
        return this.logical(n, scope);
      case "comparison_expression":
        return this.comparison(n, scope);
      case "additive_expression":
      case "multiplicative_expression": {
        const op = n.all[1].text;
        const l = this.evalExpr(n.kids[0], scope);
        const r = this.evalExpr(n.kids[1], scope);
        return op === "+" ? this.add(l, r, n) : this.arith(op, l, r, n);
      }
      case "format_expression":
        return this.format(this.evalExpr(n.kids[0], scope), this.evalExpr(n.kids[2], scope), n);
      case "range_expression": {
        const a = toIntegral(this.evalExpr(n.kids[0], scope), "Int32").value;
        const b = toIntegral(this.evalExpr(n.kids[1], scope), "Int32").value;
        const items: PSValue[] = [];
        for (let i = a; a <= b ? i <= b : i >= b; i += a <= b ? 1 : -1) items.push(new PSNumber("Int32", i));
        return new PSArray(items);
      }
      case "pipeline":
        return this.statementValue(n, scope);
      case "bitwise_expression":
        throw notImplemented(`the operator ${n.all[1]?.text}`, n);
      case "command_name":
        // A bare command inside ( ) is parsed as a command name alone.
        return this.statementValue({ ...n, type: "pipeline", kids: [{ ...n, type: "pipeline_chain", kids: [{ ...n, type: "command", kids: [n], all: [n] }] }] }, scope);
    }
    throw notImplemented(n.type, n);
  }

  private readVariable(n: Ast, scope: Scope): PSValue {
    if (n.text.startsWith("@")) throw notImplemented("splatting outside a command's arguments", n);
    const name = this.variableName(n);
    switch (name) {
      case "null":
        return null;
      case "true":
        return true;
      case "false":
        return false;
      case "psversiontable":
        return this.psVersionTable();
      case "executioncontext":
        return new EngineObject("System.Management.Automation.EngineIntrinsics", {
          SessionState: new EngineObject("System.Management.Automation.SessionState", {
            LanguageMode: new PSEnum("System.Management.Automation.PSLanguageMode", this.reportedLanguageMode, this.reportedLanguageMode === "FullLanguage" ? 0 : 3),
          }),
        });
      case "error":
        return new PSArray(this.run.errors);
      case "pscommandpath":
        // "The full path and file name of the script that's being run" (about_Automatic_Variables):
        // -File's path; none in an -EncodedCommand run (modelled as "", falsy as $null is).
        return this.run.file ?? "";
    }
    const colon = name.indexOf(":");
    if (colon >= 0) {
      const { target, local } = this.variableTarget(name, scope, n);
      return target.lookup(local)?.value ?? null;
    }
    if (name === "input" || name === "myinvocation" || name === "pscmdlet" || name === "psboundparameters" || name === "host" || name === "lastexitcode" || name === "?" || name === "$" || name === "^") {
      throw notImplemented(`the automatic variable $${name}`, n);
    }
    // -match sets $Matches (about_Automatic_Variables); the interpreter keeps only the Boolean, so
    // a script reading $Matches would get $null where PowerShell gives the groups: refused instead.
    if (name === "matches" && scope.lookup(name) === undefined) throw notImplemented("the automatic variable $Matches (set by -match)", n);
    // An unset variable is $null (outside Set-StrictMode).
    return scope.lookup(name)?.value ?? null;
  }

  private psVersionTable(): PSHashtable {
    const text = this.run.host.session.psVersion;
    const parts = text.split(".").map(Number);
    const version = new EngineObject(
      "System.Version",
      {
        Major: new PSNumber("Int32", parts[0] ?? 0),
        Minor: new PSNumber("Int32", parts[1] ?? 0),
        Build: new PSNumber("Int32", parts[2] ?? -1),
        Revision: new PSNumber("Int32", parts[3] ?? -1),
      },
      {},
      text,
    );
    const t = new PSHashtable();
    t.set("PSVersion", version);
    t.set("PSEdition", "Desktop");
    return t;
  }

  /** "..." strings (about_Quoting_Rules): $var and $(...) expand; ` escapes; "" is a quote. */
  private expandString(n: Ast, scope: Scope, here = false): string {
    const text = n.text;
    // The body between the quotes (here-strings: between @"<newline> and <newline>"@).
    let bodyStart = 1;
    let bodyEnd = text.length - 1;
    if (here) {
      bodyStart = text.indexOf("\n") + 1;
      bodyEnd = text.lastIndexOf("\n");
      if (bodyEnd > 0 && text[bodyEnd - 1] === "\r") bodyEnd--;
    }
    let out = "";
    let pos = n.start + bodyStart;
    const end = n.start + bodyEnd;
    const literal = (from: number, to: number) => {
      const s = text.slice(from - n.start, to - n.start);
      out += here ? s.replace(/`(.)/gs, (_, c: string) => escapeChar(c)) : unescapeDoubleQuoted(s);
    };
    for (const k of n.kids) {
      if (k.start < pos || k.end > end) continue;
      literal(pos, k.start);
      if (k.type === "variable") out += toStr(this.readVariable(k, scope));
      else if (k.type === "sub_expression") {
        const o: PSValue[] = [];
        this.execList(k.kids[0], scope, o);
        out += toStr(collapse(o));
      } else throw notImplemented(`${k.type} in a string`, k);
      pos = k.end;
    }
    literal(pos, end);
    return out;
  }

  private hashLiteral(n: Ast, scope: Scope): PSHashtable {
    const h = new PSHashtable();
    const body = n.kids[0];
    for (const entry of body?.kids ?? []) {
      if (entry.type !== "hash_entry") throw notImplemented(entry.type, entry);
      const [keyNode, valueNode] = entry.kids;
      const key = keyNode.type === "simple_name" ? keyNode.text : this.evalExpr(keyNode, scope);
      if (h.has(key)) {
        throw runtimeError(`Duplicate keys '${toStr(key)}' are not allowed in hash literals.`, "DuplicateKeyInHashLiteral", "ParserError", "System.Management.Automation.ParseException");
      }
      h.set(key, this.statementValue(valueNode, scope));
    }
    return h;
  }

  memberName(nameNode: Ast, scope: Scope): string {
    if (nameNode.type === "simple_name") return nameNode.text;
    return toStr(this.evalExpr(nameNode, scope));
  }

  private memberAccess(n: Ast, scope: Scope): PSValue {
    const isStatic = n.all.some((t) => t.text === "::");
    const name = this.memberName(n.kids[1], scope);
    if (isStatic) {
      const t = this.evalExpr(n.kids[0], scope);
      if (!(t instanceof PSType)) throw notImplemented("a static member of a non-type", n);
      return staticMember(this, t, name, undefined, n.line) ?? null;
    }
    const obj = this.evalExpr(n.kids[0], scope);
    return getProperty(obj, name, n.line);
  }

  private invocation(n: Ast, scope: Scope): PSValue | undefined {
    if (n.kids[0].type === "invokation_foreach_expression" || n.kids.length < 3) throw notImplemented("the .ForEach() / .Where() methods", n);
    const isStatic = n.all.some((t) => t.text === "::");
    const name = this.memberName(n.kids[1], scope);
    const argList = n.kids[2];
    const argNodes = argList.kids.length === 0 ? [] : argList.kids[0].type === "argument_expression_list" ? argList.kids[0].kids : argList.kids;
    const target = this.evalExpr(n.kids[0], scope);
    const args = argNodes.map((a) => this.evalExpr(a, scope));
    if (isStatic) {
      if (!(target instanceof PSType)) throw notImplemented("a static method of a non-type", n);
      return staticMember(this, target, name, args, n.line);
    }
    return callMethod(this, target, name, args, n.line);
  }

  private unary(n: Ast, scope: Scope): PSValue {
    if (n.all.length === 1) return this.evalExpr(n.kids[0], scope);
    const op = n.all[0].text.toLowerCase();
    const operand = n.kids[n.kids.length - 1];
    switch (op) {
      case ",":
        return new PSArray([this.evalExpr(operand, scope)]);
      case "-not":
      case "!":
        return !toBool(this.evalExpr(operand, scope));
      case "-":
      case "+": {
        const v = toNumber(this.evalExpr(operand, scope));
        if (op === "+") return v;
        if (v.type === "Int32" && v.value === -2147483648) return new PSNumber("Double", 2147483648);
        return new PSNumber(v.type, -v.value, v.decimalText === undefined ? undefined : v.decimalText.startsWith("-") ? v.decimalText.slice(1) : "-" + v.decimalText);
      }
      case "-join": {
        const v = this.evalExpr(operand, scope);
        return (enumerable(v) ?? [v]).map((i) => toStr(i)).join("");
      }
      case "-split":
        return new PSArray(toStr(this.evalExpr(operand, scope)).trim().split(/\s+/));
    }
    throw notImplemented(`the unary operator ${op}`, n);
  }

  private logical(n: Ast, scope: Scope): PSValue {
    const op = n.all[1].text.toLowerCase();
    const l = toBool(this.evalExpr(n.kids[0], scope));
    // -and and -or stop as soon as the result is known (about_Logical_Operators).
    if (op === "-and") return l ? toBool(this.evalExpr(n.kids[1], scope)) : false;
    if (op === "-or") return l ? true : toBool(this.evalExpr(n.kids[1], scope));
    if (op === "-xor") return l !== toBool(this.evalExpr(n.kids[1], scope));
    throw notImplemented(`the operator ${op}`, n);
  }

  /**
   * Comparison operators (about_Comparison_Operators). With a collection on the left, -eq,
   * -ne, -lt, -like, -match ... filter it and return the matching elements (so `@() -eq $null`
   * is an empty array, `$null -eq @()` is $false). Default and i-prefixed forms ignore case,
   * c-prefixed forms do not.
   */
  private comparison(n: Ast, scope: Scope): PSValue {
    let op = n.kids[1].text.toLowerCase();
    const left = this.evalExpr(n.kids[0], scope);
    if (op === "-is" || op === "-isnot") {
      const t = this.evalExpr(n.kids[2], scope);
      const type = t instanceof PSType ? t : resolveType(toStr(t), n.line, this.staticMembers);
      const r = isType(left, type);
      return op === "-is" ? r : !r;
    }
    if (op === "-as") throw notImplemented("the -as operator", n);
    const right = this.evalExpr(n.kids[2], scope);
    let ignoreCase = true;
    if (/^-c(eq|ne|gt|ge|lt|le|like|notlike|match|notmatch|contains|notcontains|in|notin|replace|split)$/.test(op)) {
      ignoreCase = false;
      op = "-" + op.slice(2);
    } else if (/^-i(eq|ne|gt|ge|lt|le|like|notlike|match|notmatch|contains|notcontains|in|notin|replace|split)$/.test(op)) {
      op = "-" + op.slice(2);
    }
    if ((op === "-in" || op === "-notin") && this.psMajor < 3) throw notImplemented(`${op} in PowerShell 2.0`, n);
    switch (op) {
      case "-contains":
      case "-notcontains": {
        const items = enumerable(left) ?? [left];
        const found = items.some((i) => psEquals(i, right, ignoreCase));
        return op === "-contains" ? found : !found;
      }
      case "-in":
      case "-notin": {
        const items = enumerable(right) ?? [right];
        const found = items.some((i) => psEquals(i, left, ignoreCase));
        return op === "-in" ? found : !found;
      }
      case "-replace":
        return this.replaceOp(left, right, ignoreCase, n);
      case "-split":
        throw notImplemented("the binary -split operator", n);
      case "-join": {
        // about_Join: the left operand's elements (a scalar is one), each as a string, with the right one between them.
        const items = enumerable(left) ?? [left];
        return items.map((i) => toStr(i)).join(toStr(right));
      }
    }
    const test = this.scalarComparison(op, right, ignoreCase, n);
    const items = enumerable(left);
    if (items) {
      const out: PSValue[] = [];
      for (const i of items) if (test(i, false)) out.push(i);
      return new PSArray(out);
    }
    return test(left, true);
  }

  private scalarComparison(op: string, right: PSValue, ignoreCase: boolean, n: Ast): (v: PSValue, scalar: boolean) => boolean {
    switch (op) {
      case "-eq":
        return (v) => psEquals(v, right, ignoreCase);
      case "-ne":
        return (v) => !psEquals(v, right, ignoreCase);
      case "-lt":
        return (v) => psCompare(v, right, ignoreCase) < 0;
      case "-le":
        return (v) => psCompare(v, right, ignoreCase) <= 0;
      case "-gt":
        return (v) => psCompare(v, right, ignoreCase) > 0;
      case "-ge":
        return (v) => psCompare(v, right, ignoreCase) >= 0;
      case "-like":
      case "-notlike": {
        const re = wildcardToRegExp(toStr(right), ignoreCase);
        return (v) => re.test(toStr(v)) === (op === "-like");
      }
      case "-match":
      case "-notmatch": {
        const re = dotnetRegExp(toStr(right), ignoreCase);
        return (v) => {
          const m = re.exec(toStr(v));
          // A scalar -match sets $Matches (about_Automatic_Variables); not modelled: reading it is refused (readVariable).
          return (m !== null) === (op === "-match");
        };
      }
    }
    throw notImplemented(`the operator ${op}`, n);
  }

  private replaceOp(left: PSValue, right: PSValue, ignoreCase: boolean, n: Ast): PSValue {
    const parts = enumerable(right) ?? [right];
    if (parts.length > 2) throw runtimeError(`The -replace operator allows only two elements to follow it, not ${parts.length}.`, "BadReplaceArgument", "InvalidOperation");
    const re = dotnetRegExp(toStr(parts[0]), ignoreCase, true);
    const replacement = parts.length > 1 ? toStr(parts[1]) : "";
    if (/\$(\{|[&`'+_])/.test(replacement)) throw notImplemented("this -replace substitution", n);
    const one = (v: PSValue) => toStr(v).replace(re, replacement.replace(/\$\$/g, "$$$$"));
    const items = enumerable(left);
    return items ? new PSArray(items.map(one)) : one(left);
  }

  /** + (spec 7.7): strings concatenate, arrays append, hashtables merge, numbers add. */
  add(l: PSValue, r: PSValue, n: Ast): PSValue {
    if (l === null) {
      if (r === null) return null;
      return r;
    }
    if (typeof l === "string") return l + toStr(r);
    if (l instanceof PSArray) return new PSArray([...l.items, ...(enumerable(r) ?? [r])]);
    if (l instanceof PSHashtable) {
      if (!(r instanceof PSHashtable)) throw runtimeError("A hash table can only be added to another hash table.", "AddHashTableToNonHashTable", "InvalidOperation");
      const h = new PSHashtable();
      for (const [k, v] of l.pairs()) h.set(k, v);
      for (const [k, v] of r.pairs()) {
        if (h.has(k)) throw runtimeError(`Item has already been added. Key in dictionary: '${toStr(k)}'  Key being added: '${toStr(k)}'`, "System.ArgumentException", "NotSpecified", "System.ArgumentException");
        h.set(k, v);
      }
      return h;
    }
    return this.arith("+", l, r, n);
  }

  /** Arithmetic on numbers (spec 7.6, 7.7): Int32 results that overflow become Double; / gives Double unless exact. */
  arith(op: string, l: PSValue, r: PSValue, n: Ast): PSValue {
    if (op === "*" && typeof l === "string") return l.repeat(toIntegral(r, "Int32").value);
    if (op === "*" && l instanceof PSArray) {
      const times = toIntegral(r, "Int32").value;
      return new PSArray(Array.from({ length: times }, () => l.items).flat());
    }
    const a = toNumber(l);
    const b = toNumber(r);
    if (a.type === "Decimal" || b.type === "Decimal") throw notImplemented("decimal arithmetic", n);
    const intTypes = new Set(["Int32", "Int64", "Byte", "UInt16", "UInt32"]);
    const integral = intTypes.has(a.type) && intTypes.has(b.type);
    let v: number;
    switch (op) {
      case "+":
        v = a.value + b.value;
        break;
      case "-":
        v = a.value - b.value;
        break;
      case "*":
        v = a.value * b.value;
        break;
      case "/":
        if (b.value === 0 && integral) throw runtimeError("Attempted to divide by zero.", "RuntimeException", "NotSpecified", "System.DivideByZeroException");
        v = a.value / b.value;
        break;
      case "%":
        if (b.value === 0 && integral) throw runtimeError("Attempted to divide by zero.", "RuntimeException", "NotSpecified", "System.DivideByZeroException");
        v = a.value % b.value;
        break;
      default:
        throw notImplemented(`the operator ${op}`, n);
    }
    if (!integral) return new PSNumber("Double", v);
    const wide = a.type === "Int64" || b.type === "Int64";
    if (!Number.isInteger(v)) return new PSNumber("Double", v);
    if (!wide && fitsInt32(v)) return new PSNumber("Int32", v);
    if (wide && Number.isSafeInteger(v)) return new PSNumber("Int64", v);
    return new PSNumber("Double", v);
  }

  /** -f (about_Operators, "Format operator"): .NET composite formatting with {index[,alignment][:format]}. */
  format(fmt: PSValue, args: PSValue, n: Ast): string {
    const values = enumerable(args) ?? [args];
    const f = toStr(fmt);
    let out = "";
    for (let i = 0; i < f.length; i++) {
      const c = f[i];
      if (c === "{") {
        if (f[i + 1] === "{") {
          out += "{";
          i++;
          continue;
        }
        const close = f.indexOf("}", i);
        const m = close < 0 ? null : /^(\d+)(?:,(-?\d+))?(?::(.*))?$/.exec(f.slice(i + 1, close));
        if (!m) throw runtimeError("Error formatting a string: Input string was not in a correct format..", "FormatError", "InvalidOperation", "System.FormatException");
        const idx = Number(m[1]);
        if (idx >= values.length) throw runtimeError("Error formatting a string: Index (zero based) must be greater than or equal to zero and less than the size of the argument list..", "FormatError", "InvalidOperation", "System.FormatException");
        let s = formatOne(values[idx], m[3], n);
        if (m[2]) {
          const w = Number(m[2]);
          s = w < 0 ? s.padEnd(-w) : s.padStart(w);
        }
        out += s;
        i = close;
        continue;
      }
      if (c === "}") {
        if (f[i + 1] === "}") i++;
        else throw runtimeError("Error formatting a string: Input string was not in a correct format..", "FormatError", "InvalidOperation", "System.FormatException");
        out += "}";
        continue;
      }
      out += c;
    }
    return out;
  }
}

function formatOne(v: PSValue, spec: string | undefined, n: Ast): string {
  if (spec === undefined || spec === "") return toStr(v);
  const m = /^([xXdD])(\d*)$/.exec(spec);
  if (m && v instanceof PSNumber && v.type !== "Double" && v.type !== "Decimal") {
    const width = m[2] ? Number(m[2]) : 0;
    if (m[1] === "d" || m[1] === "D") return (v.value < 0 ? "-" : "") + String(Math.abs(v.value)).padStart(width, "0");
    const hex = (v.value < 0 ? (v.type === "Int32" ? v.value >>> 0 : v.value) : v.value).toString(16);
    return (m[1] === "X" ? hex.toUpperCase() : hex).padStart(width, "0");
  }
  throw notImplemented(`the format {0:${spec}} for ${v === null ? "$null" : v.constructor.name}`, n);
}

/** Output collected as a value: nothing is $null, one object itself, more an object[]. */
export function collapse(out: PSValue[]): PSValue {
  if (out.length === 0) return null;
  if (out.length === 1) return out[0];
  return new PSArray(out);
}

function escapeChar(c: string): string {
  switch (c) {
    case "0":
      return "\0";
    case "a":
      return "\x07";
    case "b":
      return "\b";
    case "f":
      return "\f";
    case "n":
      return "\n";
    case "r":
      return "\r";
    case "t":
      return "\t";
    case "v":
      return "\v";
    default:
      // `u{...} is PowerShell 6+; in 5.1 `u is just u, and any other escaped character itself.
      return c;
  }
}

function unescapeDoubleQuoted(s: string): string {
  return s.replace(/`([\s\S])|""/g, (m, c: string | undefined) => (c === undefined ? '"' : escapeChar(c)));
}

function hereBody(text: string): string {
  const start = text.indexOf("\n") + 1;
  let end = text.lastIndexOf("\n");
  if (end > 0 && text[end - 1] === "\r") end--;
  return text.slice(start, end);
}

function integerLiteral(n: Ast): PSNumber {
  const t = n.text.toLowerCase();
  const m = /^(0x[0-9a-f]+|\d+)(l)?(kb|mb|gb|tb|pb)?$/.exec(t);
  if (!m) throw notImplemented(`the number literal ${n.text}`, n);
  let v = m[1].startsWith("0x") ? parseInt(m[1].slice(2), 16) : Number(m[1]);
  const mult: Record<string, number> = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };
  if (m[3]) v *= mult[m[3]];
  if (m[1].startsWith("0x") && !m[2] && v > 0x7fffffff && v <= 0xffffffff) v = v - 0x100000000; // 0xFFFFFFFF is -1 as an Int32
  if (m[2]) {
    if (!Number.isSafeInteger(v)) throw notImplemented("Int64 literals beyond 2^53", n);
    return new PSNumber("Int64", v);
  }
  if (fitsInt32(v)) return new PSNumber("Int32", v);
  if (Number.isSafeInteger(v)) return new PSNumber("Int64", v);
  return new PSNumber("Double", v);
}

function realLiteral(n: Ast): PSNumber {
  const t = n.text.toLowerCase();
  if (t.endsWith("d")) throw notImplemented("decimal literals (1.5d)", n);
  const m = /^([0-9.]+(?:e[+-]?\d+)?)(kb|mb|gb|tb|pb)?$/.exec(t);
  if (!m) throw notImplemented(`the number literal ${n.text}`, n);
  return new PSNumber("Double", Number(m[1]));
}

export { InterpreterError, PropertyCollection };
