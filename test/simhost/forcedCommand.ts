// The simulated Windows host behind a real sshd: sshd's ForceCommand runs this for every exec
// request. It finds the host by the address the client connected to (SSH_CONNECTION), does what
// Windows would do with the command line (cmd.exe, then powershell.exe -EncodedCommand), checks
// the scripts it receives are the reviewed ones, and answers as smb-signing.ps1 would.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { parsePowerShell, WindowsCommandError } from "./commandLine";
import { asciiJson, clixml, loadState, runGenericCommand, runSigningScript, saveState, stateFile } from "./model";
import { REVIEWED_SCRIPTS } from "./reviewedScripts";

function sha256(text: string): string {
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

function fail(message: string, exitCode: number): never {
  process.stderr.write(clixml([{ kind: "error", text: message + "\r\n" }]));
  process.exit(exitCode);
}

/** Whether this session's TCP connection (SSH_CONNECTION) is still established (/proc/net/tcp). */
function clientStillConnected(): boolean {
  const [clientAddress, clientPort, serverAddress, serverPort] = (process.env.SSH_CONNECTION ?? "").split(" ");
  const hex = (address: string, port: string) =>
    address
      .split(".")
      .reverse()
      .map((o) => Number(o).toString(16).padStart(2, "0"))
      .join("")
      .toUpperCase() +
    ":" +
    Number(port).toString(16).padStart(4, "0").toUpperCase();
  const local = hex(serverAddress, serverPort);
  const remote = hex(clientAddress, clientPort);
  return fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === local && f[2] === remote && f[3] === "01";
    });
}

async function main(): Promise<void> {
  const stateDir = process.argv[2];
  const [, , serverAddress, serverPort] = (process.env.SSH_CONNECTION ?? "").split(" ");
  const file = stateFile(stateDir, serverAddress, Number(serverPort));
  if (!fs.existsSync(file)) fail(`simulated host: no host at ${serverAddress}:${serverPort}`, 255);
  const starting = loadState(file);
  starting.counters.runs++;
  saveState(file, starting);
  const startMs = (starting.powershellStartMs ?? 0) + (starting.faults.slowStartMs ?? 0);
  if (startMs > 0) {
    await new Promise((r) => setTimeout(r, startMs));
    // Windows runs the session in a job object that kills it when the client goes away.
    if (!clientStillConnected()) process.exit(137);
  }
  const state = loadState(file);

  let invocation;
  try {
    invocation = parsePowerShell(process.env.SSH_ORIGINAL_COMMAND ?? "");
  } catch (err) {
    if (err instanceof WindowsCommandError) fail(err.message, err.exitCode);
    throw err;
  }
  if (!invocation.encoded) {
    const outcome = runGenericCommand(state, invocation.command);
    if (outcome.changed) state.counters.writes++;
    saveState(file, state);
    process.stdout.write(outcome.stdout);
    process.exitCode = outcome.exitCode;
    return;
  }
  if (sha256(invocation.command) !== REVIEWED_SCRIPTS["bootstrap.ps1"]) {
    fail("simulated host: the -EncodedCommand is not the reviewed bootstrap.ps1; review test/simhost against it", 97);
  }

  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const stdin = Buffer.concat(chunks);
  // [Console]::In decodes with the OEM code page: only ASCII is safe to send.
  if (stdin.some((b) => b > 0x7f)) fail("simulated host: stdin holds non-ASCII bytes, which the OEM code page would corrupt", 96);
  let envelope: { script?: unknown; request?: unknown };
  try {
    envelope = JSON.parse(stdin.toString("ascii"));
  } catch (err) {
    fail(`ConvertFrom-Json : Invalid JSON primitive: ${(err as Error).message}`, 1);
  }
  if (typeof envelope.script !== "string" || sha256(envelope.script) !== REVIEWED_SCRIPTS["smb-signing.ps1"]) {
    fail("simulated host: the script on stdin is not the reviewed smb-signing.ps1; review test/simhost against it", 97);
  }
  if (state.faults.crash) {
    fail("Get-CimInstance : The WS-Management service cannot process the request. The WMI service returned an 'access denied' error.", 1);
  }

  const outcome = runSigningScript(state, String(envelope.request));
  if (Array.isArray(outcome.reply.changed) && outcome.reply.changed.length > 0) state.counters.writes++;
  saveState(file, state);

  let stdout = asciiJson(outcome.reply);
  if (state.faults.oemOutput) stdout = stdout.replace(/[^\x00-\x7f]/g, "?");
  if (state.faults.clixmlNoise) {
    process.stderr.write(clixml([{ kind: "progress", text: "Preparing modules for first use." }]));
  }
  if (state.faults.dropConnection) {
    process.stdout.write(stdout.slice(0, Math.floor(stdout.length / 2)), () => {
      // Kill our sshd session process: the TCP connection ends without an exit status.
      process.kill(process.ppid, "SIGKILL");
    });
    return;
  }
  process.stdout.write(stdout);
  process.exitCode = outcome.exitCode;
}

main().catch((err) => fail(`simulated host: ${(err as Error).stack}`, 98));
