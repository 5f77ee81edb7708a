// What a simulated Windows host does with one remote command, whatever carried it (sshd's
// ForceCommand or the WinRM emulator): start PowerShell (with its start-up delay), parse the
// command line as cmd.exe and powershell.exe would, and run the -EncodedCommand text (the
// provider's bootstrap.ps1, which runs smb-signing.ps1 from stdin), or the file -File names (a
// signed copy of smb-signing.ps1, in the language mode the host's application control policy
// gives it), through the PowerShell interpreter on the host's Windows surface; cmd.exe's
// `type <path>` prints a file of the host. The reply is the script's own; what the transport
// does to it (dropped connections, slow replies, CLIXML noise, the OEM code page) is added here.
// State is loaded and saved per run, as on a real host.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { BAD_COMMAND_LINE_EXIT, parsePowerShell, parseTypeCommand, WindowsCommandError } from "./commandLine";
import { clixml, hostFile, loadState, runGenericCommand, saveState } from "./model";
import { InterpreterError, runPowerShell } from "./powershell/run";
import { windowsSurface } from "./windowsSurface";

export interface HostRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The dropConnection fault: send half the output, then cut the connection without an exit code. */
  dropConnection: boolean;
}

const failure = (message: string, exitCode: number): HostRun => ({
  stdout: "",
  stderr: clixml([{ kind: "error", text: message + "\r\n" }]),
  exitCode,
  dropConnection: false,
});

/** Counts the run and waits out PowerShell's start-up; false if the client left meanwhile. */
export async function startPowerShell(file: string, clientStillConnected: () => boolean): Promise<boolean> {
  const starting = loadState(file);
  starting.counters.runs++;
  saveState(file, starting);
  const startMs = (starting.powershellStartMs ?? 0) + (starting.faults.slowStartMs ?? 0);
  if (startMs > 0) {
    await new Promise((r) => setTimeout(r, startMs));
    // Windows runs the session in a job object that kills it when the client goes away.
    return clientStillConnected();
  }
  return true;
}

/**
 * Whose token a run has. Over SSH an administrator's session is always elevated (Win32-OpenSSH
 * issue 1713); over WinRM a Remote Management Users member's is not (winrmServer.ts).
 */
export interface RunAs {
  administrator: boolean;
}

/** Whether a reply (the script's stdout) reports a changed setting: what counters.writes counts. */
function changedSomething(stdout: string): boolean {
  try {
    const reply = JSON.parse(stdout) as { changed?: unknown };
    return Array.isArray(reply?.changed) && reply.changed.length > 0;
  } catch {
    return false;
  }
}

export async function runCommand(file: string, commandLine: string, stdin: Buffer, runAs: RunAs = { administrator: true }): Promise<HostRun> {
  if (!fs.existsSync(file)) return failure("simulated host: no such host", 255);
  const state = loadState(file);
  // A run without an administrator's token is what the model's nonAdmin fault stands for: set
  // for this run only, never saved as the host's own fault.
  const hostNonAdmin = state.faults.nonAdmin;
  if (!runAs.administrator) state.faults.nonAdmin = true;
  const save = () => saveState(file, { ...state, faults: { ...state.faults, nonAdmin: hostNonAdmin } });
  state.commandLines = [...(state.commandLines ?? []), commandLine].slice(-50);
  let invocation;
  try {
    const typed = parseTypeCommand(commandLine);
    if (typed !== undefined) {
      save();
      // cmd.exe's type: the file's bytes as they are; a missing one is cmd's own message, exit 1.
      const file = hostFile(state, typed);
      if (!file) return { stdout: "", stderr: "The system cannot find the file specified.\r\n", exitCode: 1, dropConnection: false };
      return { stdout: file.text, stderr: "", exitCode: 0, dropConnection: false };
    }
    invocation = parsePowerShell(commandLine);
  } catch (err) {
    if (err instanceof WindowsCommandError) {
      save();
      return failure(err.message, err.exitCode);
    }
    throw err;
  }
  if (invocation.file !== undefined) {
    if ((invocation.fileArgs ?? []).length > 0) {
      save();
      return failure("simulated host: script arguments after -File are not modelled", 95);
    }
    if (!hostFile(state, invocation.file)) {
      save();
      return failure(`The argument '${invocation.file}' to the -File parameter does not exist. Provide the path to an existing '.ps1' file as an argument to the -File parameter.`, BAD_COMMAND_LINE_EXIT);
    }
  } else if (!invocation.encoded) {
    const outcome = runGenericCommand(state, invocation.command);
    if (outcome.changed) state.counters.writes++;
    save();
    return { stdout: outcome.stdout, stderr: "", exitCode: outcome.exitCode, dropConnection: false };
  }
  state.lastStdin = { bytes: stdin.length, sha256: crypto.createHash("sha256").update(stdin).digest("hex") };
  save();
  // [Console]::In decodes with the OEM code page: only ASCII is safe to send.
  if (stdin.some((b) => b > 0x7f)) return failure("simulated host: stdin holds non-ASCII bytes, which the OEM code page would corrupt", 96);
  if (state.faults.crash) {
    return failure("Get-CimInstance : The WS-Management service cannot process the request. The WMI service returned an 'access denied' error.", 1);
  }
  let result;
  try {
    // The script's own answers, PowerShell 2.0's and Constrained Language Mode's included: the
    // surface gives the session's version and language mode, and bootstrap.ps1 answers them.
    // powershell.exe -File: the file's own text, its param block bound with no arguments, in
    // the language mode the host's application control policy gives that file.
    const file = invocation.file === undefined ? undefined : hostFile(state, invocation.file)!;
    result = await runPowerShell({
      script: file ? file.text : invocation.command,
      ...(file ? { file: invocation.file } : {}),
      stdin: stdin.toString("latin1"),
      host: windowsSurface(state, file ? { file: invocation.file } : {}),
    });
  } catch (err) {
    // Not an answer Windows would give: something the interpreter or the surface does not model
    // (a gap in the simulation, never in the script). Loud, with its own exit code.
    if (err instanceof InterpreterError || (err as Error)?.name === "SurfaceGap") {
      save();
      return failure(`simulated host: ${(err as Error).message}`, 95);
    }
    throw err;
  }
  if (changedSomething(result.stdout)) state.counters.writes++;
  // A transient drop: this run's reply is lost, later runs answer.
  const drop = state.faults.dropConnection === true || (state.faults.dropConnectionRuns ?? 0) > 0;
  if ((state.faults.dropConnectionRuns ?? 0) > 0) state.faults.dropConnectionRuns!--;
  state.finishedRuns = (state.finishedRuns ?? 0) + 1;
  save();
  if (state.faults.slowReplyMs) await new Promise((r) => setTimeout(r, state.faults.slowReplyMs));
  let stdout = result.stdout;
  if (state.faults.oemOutput) stdout = stdout.replace(/[^\x00-\x7f]/g, "?");
  const noise = state.faults.clixmlNoise ? clixml([{ kind: "progress", text: "Preparing modules for first use." }]) : "";
  return { stdout, stderr: noise + result.stderr, exitCode: result.exitCode, dropConnection: drop };
}
