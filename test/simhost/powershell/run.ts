// The entry point: one run of `powershell.exe -NoProfile -NonInteractive -EncodedCommand <script>`
// with stdin, on a host. The script's output stream is written to stdout as the console host
// formats strings and numbers (one per line, \r\n); [Console]::Out writes go straight to stdout;
// an uncaught terminating error ends the run with exit code 1 and the error on stderr as the CLIXML
// error records powershell.exe writes when its output is redirected; `exit N` ends it with N.
import { Ast, InterpreterError, initParser, keepTreesIn, notImplemented, parseScript, storeTrees } from "./ast";
import { ENGINE_COMMANDS } from "./cmdlets";
import { toStr } from "./convert";
import { ExitSignal, PSError } from "./errors";
import { Interpreter, RunState, Scope } from "./evaluator";
import { RunRequest, RunResult } from "./host";
import { EngineObject, ErrorRecord, PSChar, PSEnum, PSNumber, PSValue } from "./values";
import { clixml } from "../model";

export { initParser, InterpreterError, keepTreesIn, storeTrees };

/** Formats one object of the output stream as the console host writes it. */
function formatOutput(v: PSValue): string {
  if (v === null) return "";
  if (typeof v === "string" || typeof v === "boolean" || v instanceof PSNumber || v instanceof PSChar || v instanceof PSEnum) return toStr(v) + "\r\n";
  if (v instanceof EngineObject && v.typeName === "System.Version") throw notImplemented("formatting a Version for the console (a table)");
  throw notImplemented(`formatting a ${v.constructor.name} for the console (Out-Default's tables and lists)`);
}

/** The error as the console host shows it (ErrorView NormalView), one line per CLIXML record. */
export function errorLines(e: ErrorRecord): string[] {
  const lines: string[] = [];
  lines.push((e.commandName ? `${e.commandName} : ` : "") + e.message);
  if (e.position) {
    lines.push(`At line:${e.position.line} char:${e.position.column}`);
    lines.push(`+ ${e.position.lineText.replace(/\r$/, "")}`);
    lines.push(`+ ${" ".repeat(Math.max(0, e.position.column - 1))}~`);
  }
  const reason = e.exceptionType.split(".").pop();
  const target = e.targetObject === null ? "" : toStr(e.targetObject);
  lines.push(`    + CategoryInfo          : ${e.category}: (${target}:${e.targetObject === null ? "" : typeof e.targetObject === "string" ? "String" : ""}) [${e.commandName}], ${reason}`);
  lines.push(`    + FullyQualifiedErrorId : ${e.fullyQualifiedErrorId}`);
  lines.push(" ");
  return lines.map((l) => l + "\r\n");
}

/**
 * Runs a script. The grammar must be loaded (initParser, which runPowerShell awaits); the run
 * itself is synchronous, so a test can also call runPowerShellSync after one initParser().
 */
export async function runPowerShell(request: RunRequest): Promise<RunResult> {
  await initParser();
  return runPowerShellSync(request);
}

export function runPowerShellSync(request: RunRequest): RunResult {
  const { output: _output, uncaught: _uncaught, ...result } = execute(request, false);
  return result;
}

/**
 * For tests: runs a script and returns the objects of its output stream unformatted (stdout has
 * only [Console]::Out's writes), with the uncaught error if any.
 */
export function evaluate(script: string, host: RunRequest["host"], stdin = ""): RunResult & { output: PSValue[]; uncaught?: ErrorRecord } {
  return execute({ script, stdin, host }, true);
}

function execute(request: RunRequest, keepObjects: boolean): RunResult & { output: PSValue[]; uncaught?: ErrorRecord } {
  const ast = parseScript(request.script);
  const objects: PSValue[] = [];
  const state: RunState = {
    host: request.host,
    stdin: request.stdin,
    stdinRead: false,
    file: request.file,
    stdout: [],
    shownErrors: [],
    errors: [],
    lines: request.script.split("\n"),
  };
  const interp = new Interpreter(state, ENGINE_COMMANDS);
  const scope = new Scope(interp.global, null);
  (scope as { script: Scope | null }).script = scope;
  let exitCode = 0;
  let uncaught: ErrorRecord | undefined;
  const flush = (out: PSValue[]) => {
    if (keepObjects) objects.push(...out);
    else for (const v of out) state.stdout.push(formatOutput(v));
    out.length = 0;
  };
  const out: PSValue[] = [];
  try {
    const def = interp.blockDef(request.file ?? "<EncodedCommand>", ast, ast);
    if (request.file !== undefined) {
      // powershell.exe -File <path> with no script arguments: the param block bound with none.
      interp.invokeFunction(def, scope, [], ast, out);
    } else {
      if (def.params.length > 0) throw notImplemented("a param block in the -EncodedCommand script", ast);
      runStatements(interp, def.body, scope, out, flush);
    }
  } catch (e) {
    flush(out);
    if (e instanceof ExitSignal) exitCode = e.code;
    else if (e instanceof PSError) {
      uncaught = e.record;
      exitCode = 1;
    } else throw e;
  }
  flush(out);
  const records = [...state.shownErrors, ...(uncaught ? [uncaught] : [])];
  const stderr = records.length ? clixml(records.flatMap((r) => errorLines(r).map((text) => ({ kind: "error" as const, text })))) : "";
  return { stdout: state.stdout.join(""), stderr, exitCode, output: objects, uncaught };
}

/** Top-level statements, each one's output written before the next runs. */
function runStatements(interp: Interpreter, list: Ast | undefined, scope: Scope, out: PSValue[], flush: (out: PSValue[]) => void): void {
  if (!list) return;
  for (const st of list.kids) {
    interp.execList({ ...list, kids: [st] }, scope, out);
    flush(out);
  }
}
