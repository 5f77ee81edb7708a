// The simulated Windows host behind a real sshd: sshd's ForceCommand runs this for every exec
// request. It finds the host by the address the client connected to (SSH_CONNECTION) and hands
// the command line and stdin to windowsHost.ts. Each run is a process of its own, so the
// interpreter keeps the scripts' parsed trees on disk (fleet.ts makes the directory).
import * as fs from "node:fs";
import * as path from "node:path";
import { clixml, stateFile } from "./model";
import { keepTreesIn } from "./powershell/run";
import { runCommand, startPowerShell } from "./windowsHost";

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
  keepTreesIn(path.join(__dirname, "trees"));
  const [, , serverAddress, serverPort] = (process.env.SSH_CONNECTION ?? "").split(" ");
  const file = stateFile(process.argv[2], serverAddress, Number(serverPort));
  if (!fs.existsSync(file)) {
    process.stderr.write(clixml([{ kind: "error", text: `simulated host: no host at ${serverAddress}:${serverPort}` }]));
    process.exit(255);
  }
  if (!(await startPowerShell(file, clientStillConnected))) process.exit(137);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const run = await runCommand(file, process.env.SSH_ORIGINAL_COMMAND ?? "", Buffer.concat(chunks));
  process.stderr.write(run.stderr);
  if (run.dropConnection) {
    process.stdout.write(run.stdout.slice(0, Math.floor(run.stdout.length / 2)), () => {
      // Kill our sshd session process: the TCP connection ends without an exit status.
      process.kill(process.ppid, "SIGKILL");
    });
    return;
  }
  process.stdout.write(run.stdout);
  // Windows reports 32-bit exit codes (powershell.exe's 0xFFFD0000 for a command line it refuses);
  // a Linux process keeps only the low 8 bits, which would turn that one into 0: any code beyond
  // 255 leaves as 255, still a failure.
  process.exitCode = run.exitCode > 255 ? 255 : run.exitCode;
}

main().catch((err) => {
  process.stderr.write(clixml([{ kind: "error", text: `simulated host: ${(err as Error).stack}` }]));
  process.exit(98);
});
