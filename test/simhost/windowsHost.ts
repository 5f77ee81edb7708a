// What a simulated Windows host does with one remote command, whatever carried it (sshd's
// ForceCommand or the WinRM emulator): start PowerShell (with its start-up delay), parse the
// command line as cmd.exe and powershell.exe would, check the scripts are the reviewed ones,
// and answer from the host model. State is loaded and saved per run, as on a real host.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { parsePowerShell, WindowsCommandError } from "./commandLine";
import { asciiJson, clixml, loadState, runGenericCommand, runSigningScript, saveState } from "./model";
import { REVIEWED_SCRIPTS } from "./reviewedScripts";

export interface HostRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The dropConnection fault: send half the output, then cut the connection without an exit code. */
  dropConnection: boolean;
}

function sha256(text: string): string {
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
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

export async function runCommand(file: string, commandLine: string, stdin: Buffer, runAs: RunAs = { administrator: true }): Promise<HostRun> {
  if (!fs.existsSync(file)) return failure("simulated host: no such host", 255);
  const state = loadState(file);
  // A run without an administrator's token is what the model's nonAdmin fault stands for: set
  // for this run only, never saved as the host's own fault.
  const hostNonAdmin = state.faults.nonAdmin;
  if (!runAs.administrator) state.faults.nonAdmin = true;
  const save = () => saveState(file, { ...state, faults: { ...state.faults, nonAdmin: hostNonAdmin } });
  let invocation;
  try {
    invocation = parsePowerShell(commandLine);
  } catch (err) {
    if (err instanceof WindowsCommandError) return failure(err.message, err.exitCode);
    throw err;
  }
  if (!invocation.encoded) {
    const outcome = runGenericCommand(state, invocation.command);
    if (outcome.changed) state.counters.writes++;
    save();
    return { stdout: outcome.stdout, stderr: "", exitCode: outcome.exitCode, dropConnection: false };
  }
  if (sha256(invocation.command) !== REVIEWED_SCRIPTS["bootstrap.ps1"]) {
    return failure("simulated host: the -EncodedCommand is not the reviewed bootstrap.ps1; review test/simhost against it", 97);
  }
  // bootstrap.ps1's first checks, before it reads stdin: Windows PowerShell 2.0 has no
  // ConvertFrom-Json; Constrained Language Mode blocks [Console] and [ScriptBlock]::Create.
  const bootstrapRefusal = (reply: Record<string, string>): HostRun => ({ stdout: JSON.stringify(reply) + "\r\n", stderr: "", exitCode: 2, dropConnection: false });
  if (Number(state.powershellVersion.split(".")[0]) < 3) {
    return bootstrapRefusal({
      status: "error",
      kind: "unsupportedOs",
      message: `Windows PowerShell ${state.powershellVersion} is too old: install Windows Management Framework 5.1`,
    });
  }
  if (state.languageMode !== "FullLanguage") {
    return bootstrapRefusal({
      status: "error",
      kind: "constrainedLanguage",
      message: `PowerShell runs in ${state.languageMode} mode (AppLocker or WDAC)`,
    });
  }
  state.lastStdin = { bytes: stdin.length, sha256: crypto.createHash("sha256").update(stdin).digest("hex") };
  save();
  // [Console]::In decodes with the OEM code page: only ASCII is safe to send.
  if (stdin.some((b) => b > 0x7f)) return failure("simulated host: stdin holds non-ASCII bytes, which the OEM code page would corrupt", 96);
  let envelope: { script?: unknown; request?: unknown };
  try {
    envelope = JSON.parse(stdin.toString("ascii"));
  } catch (err) {
    return failure(`ConvertFrom-Json : Invalid JSON primitive: ${(err as Error).message}`, 1);
  }
  if (typeof envelope.script !== "string" || sha256(envelope.script) !== REVIEWED_SCRIPTS["smb-signing.ps1"]) {
    return failure("simulated host: the script on stdin is not the reviewed smb-signing.ps1; review test/simhost against it", 97);
  }
  if (state.faults.crash) {
    return failure("Get-CimInstance : The WS-Management service cannot process the request. The WMI service returned an 'access denied' error.", 1);
  }
  const outcome = runSigningScript(state, String(envelope.request));
  if (Array.isArray(outcome.reply.changed) && outcome.reply.changed.length > 0) state.counters.writes++;
  // A transient drop: this run's reply is lost, later runs answer.
  const drop = state.faults.dropConnection === true || (state.faults.dropConnectionRuns ?? 0) > 0;
  if ((state.faults.dropConnectionRuns ?? 0) > 0) state.faults.dropConnectionRuns!--;
  save();
  if (state.faults.slowReplyMs) await new Promise((r) => setTimeout(r, state.faults.slowReplyMs));
  let stdout = asciiJson(outcome.reply);
  if (state.faults.oemOutput) stdout = stdout.replace(/[^\x00-\x7f]/g, "?");
  const stderr = state.faults.clixmlNoise ? clixml([{ kind: "progress", text: "Preparing modules for first use." }]) : "";
  return { stdout, stderr, exitCode: outcome.exitCode, dropConnection: drop };
}
