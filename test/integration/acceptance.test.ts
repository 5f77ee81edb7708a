// The acceptance command for real Windows hosts (tools/acceptance/acceptance.ts, `npm run
// acceptance`), run as a user runs it, a child process of the compiled script, against simulated
// hosts over SSH and WinRM: its report, its exit code, and that the host is left exactly as it was.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SIM_WINRM_HTTPS_PORT, SIM_WINRM_PORT, SimulatedFleet } from "../simhost/fleet";
import type { HostState, PresetName } from "../simhost/model";
import { fromCmdletProperties, Side } from "../../provider/domain/settings";
import type { AcceptanceReport } from "../../tools/acceptance/acceptance";
import { REPO_ROOT } from "../../tools/repoRoot";

const SCRIPT = path.join(REPO_ROOT, "dist", "tools", "acceptance", "acceptance.js");
const PASSWORD_ENV = "SMB_ACCEPTANCE_PASSWORD";
const LIFECYCLE = ["check", "read before", "create", "refresh", "diff", "update", "delete", "read after"];
const HOSTS = { dc: "server-2025-dc", home: "win11-24h2-home", plain: "server-2022", legacy: "server-2016" } as const satisfies Record<string, PresetName>;

let fleet: SimulatedFleet;
let workDir: string;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  report?: AcceptanceReport;
}

/**
 * Runs the compiled command with the password in the environment only. Asynchronously: the
 * WinRM emulator answers from this process, so a blocking spawn would never get a reply.
 */
function acceptance(args: string[], whileRunning?: () => Promise<void>): Promise<Outcome> {
  const reportFile = path.join(workDir, `report-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  const child = spawn(process.execPath, [SCRIPT, ...args, "--report-file", reportFile], {
    env: { ...process.env, [PASSWORD_ENV]: SIM_PASSWORD },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  return Promise.all([exited, whileRunning?.()]).then(([code]) => ({
    code,
    stdout,
    stderr,
    report: fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, "utf8")) as AcceptanceReport) : undefined,
  }));
}

function sshArgs(name: string): string[] {
  const h = fleet.host(name);
  return ["--host", h.address, "--port", String(h.port), "--user", SIM_USER, "--transport", "ssh", "--host-key", h.hostKeyFingerprint, "--password-env", PASSWORD_ENV];
}

function winrmArgs(name: string, listener: "http" | "https"): string[] {
  const h = fleet.host(name);
  const tls = listener === "https" ? ["--https", "--certificate-fingerprint", fleet.certificateFingerprint] : [];
  const port = listener === "https" ? SIM_WINRM_HTTPS_PORT : SIM_WINRM_PORT;
  return ["--host", h.address, "--port", String(port), "--user", SIM_USER, "--transport", "winrm", ...tls, "--password-env", PASSWORD_ENV];
}

/** The report's line for a step: its name, then the result column. */
function stepLine(stdout: string, step: string): string {
  const line = stdout.split("\n").find((l) => l.startsWith(step.padEnd(13)));
  assert.ok(line, `no line for step "${step}" in:\n${stdout}`);
  return line;
}

function assertUntouched(name: string, start: HostState): void {
  const now = fleet.state(name);
  assert.deepEqual(now.client, start.client, "client settings unchanged");
  assert.deepEqual(now.server, start.server, "server settings unchanged");
  assert.equal(now.counters.writes, 0, "no run changed a setting");
  assert.equal(now.record, start.record, "the record is as it was");
}

function assertPassed(o: Outcome, name: string, start: HostState): void {
  assert.equal(o.code, 0, o.stdout + o.stderr);
  assert.match(o.stdout, /^verdict {5}PASSED: every step OK, no setting changed$/m);
  for (const step of LIFECYCLE) assert.match(stepLine(o.stdout, step), /^\S+( \S+)? +OK /, step);
  assert.match(o.stdout, /^changes {5}none$/m);
  assert.match(o.stdout, /^record {5}before: none; after: none$/m);
  // One PowerShell run per step that contacts the host, as the report says and the host counted.
  assert.match(o.stdout, /^remote runs 6 /m);
  assert.equal(fleet.state(name).counters.runs, 6);
  assertUntouched(name, start);
  assert.ok(!(o.stdout + o.stderr).includes(SIM_PASSWORD), "the password is never printed");
  assert.equal(o.report?.passed, true);
  assert.ok(!JSON.stringify(o.report).includes(SIM_PASSWORD), "the report file holds no password");
}

/** The host's values in our names, as the report's declared values should be (absent ones left out). */
function hostValues(state: HostState): Record<Side, Record<string, boolean>> {
  const known = (side: Side) => Object.fromEntries(Object.entries(fromCmdletProperties(side, state[side])).filter(([, v]) => v !== null));
  return { client: known("client"), server: known("server") } as Record<Side, Record<string, boolean>>;
}

describe("the acceptance command (tools/acceptance/acceptance.ts) against simulated hosts", () => {
  before(async () => {
    fleet = await SimulatedFleet.start(Object.entries(HOSTS).map(([name, preset]) => ({ name, preset })), { winrm: true });
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "acceptance-"));
  });
  after(async () => {
    await fleet?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });
  it("over SSH, on a domain controller: every step OK, the GPO reported, the host exactly as before", async () => {
    const start = fleet.reset("dc", HOSTS.dc);

    const o = await acceptance(sshArgs("dc"));

    assertPassed(o, "dc", start);
    assert.match(o.stdout, /^host {7}Windows Server 2025 Datacenter \(ServerDatacenter\) 24H2, build 26100\.4061, domain role 5 \(primary domain controller\)$/m);
    assert.match(o.stdout, /^server\.requireSigning +true +true +true +true by "Default Domain Controllers Policy"$/m);
    assert.deepEqual(o.report?.declared, hostValues(start));
    assert.deepEqual(o.report?.policyManaged?.server.requireSigning, { value: true, gpo: "Default Domain Controllers Policy" });
    assert.deepEqual(o.report?.before, o.report?.after);
  });

  it("over WinRM, on a host with insecure defaults: declared with the acknowledgement, nothing changed", async () => {
    const start = fleet.reset("home", HOSTS.home);

    const o = await acceptance(winrmArgs("home", "http"));

    assertPassed(o, "home", start);
    assert.match(o.stdout, /declared with acknowledgeInsecureSettings/);
    assert.equal(o.report?.acknowledgeInsecureSettings, true);
    assert.deepEqual(o.report?.declared, hostValues(start));
  });

  it("over WinRM with HTTPS and a pinned certificate", async () => {
    const start = fleet.reset("plain", HOSTS.plain);

    const o = await acceptance(winrmArgs("plain", "https"));

    assertPassed(o, "plain", start);
    assert.match(o.stdout, /^target {5}winrm \(https\) /m);
  });

  it("over SSH with a key file instead of a password", async () => {
    const start = fleet.reset("legacy", HOSTS.legacy);
    const args = sshArgs("legacy");
    args.splice(args.indexOf("--password-env"), 2, "--key-file", path.join(fleet.workDir, "client_key"));

    const o = await acceptance(args);

    assertPassed(o, "legacy", start);
  });

  it("fails with a clear report on a host whose record another owner holds, and leaves it alone", async () => {
    fleet.reset("plain", HOSTS.plain);
    const start = fleet.change("plain", (s) => {
      s.record = JSON.stringify({ version: 1, owner: "infra/prod/fs01", originals: { client: { RequireSecuritySignature: false }, server: {} } });
    });

    const o = await acceptance(sshArgs("plain"));

    assert.equal(o.code, 1, o.stdout + o.stderr);
    assert.match(stepLine(o.stdout, "create"), /FAILED .*ownedElsewhere: .*owned by another resource: infra\/prod\/fs01 \(written by a release before owner ids\)/);
    for (const step of ["refresh", "diff", "update"]) assert.match(stepLine(o.stdout, step), /skipped .*create failed/);
    assert.match(stepLine(o.stdout, "delete"), /skipped .*create was refused \(ownedElsewhere\) before anything was written/);
    assert.match(o.stdout, /^remote runs 3 /m);
    assert.equal(fleet.state("plain").counters.runs, start.counters.runs + 3);
    assert.match(o.stdout, /^record {5}before: owned by infra\/prod\/fs01; after: owned by infra\/prod\/fs01$/m);
    assert.match(o.stdout, /^verdict {5}FAILED \(failed: create\)$/m);
    assert.equal(o.report?.passed, false);
    assertUntouched("plain", start);
  });

  it("refuses to start over a stale record of an earlier acceptance run, which its delete would restore", async () => {
    fleet.reset("plain", HOSTS.plain);
    const owner = `acceptance/${fleet.host("plain").address}`;
    // Recorded when outbound signing was still off; an administrator has turned it on since.
    const start = fleet.change("plain", (s) => {
      s.client.RequireSecuritySignature = true;
      s.record = JSON.stringify({ version: 1, owner, originals: { client: { RequireSecuritySignature: false }, server: {} } });
    });

    const o = await acceptance(sshArgs("plain"));

    assert.equal(o.code, 1, o.stdout + o.stderr);
    assert.match(stepLine(o.stdout, "read before"), /FAILED .*earlier run by acceptance\/\S+ whose originals differ from the host's values in client\.requireSigning/);
    for (const step of ["create", "refresh", "diff", "update", "delete", "read after"]) assert.match(stepLine(o.stdout, step), /skipped/, step);
    assertUntouched("plain", start);
  });

  it("removes a record an earlier acceptance run left, when it recorded the values the host has", async () => {
    fleet.reset("plain", HOSTS.plain);
    const owner = `acceptance/${fleet.host("plain").address}`;
    const start = fleet.change("plain", (s) => {
      s.record = JSON.stringify({ version: 1, owner, originals: { client: { RequireSecuritySignature: false }, server: {} } });
    });

    const o = await acceptance(sshArgs("plain"));

    assert.equal(o.code, 0, o.stdout + o.stderr);
    assert.match(o.stdout, /^record {5}before: owned by acceptance\/\S+; after: none$/m);
    assert.equal(fleet.state("plain").record, undefined);
    assert.deepEqual(fleet.state("plain").client, start.client);
    assert.equal(fleet.state("plain").counters.writes, 0);
  });

  it("cleans up after a create whose connection dropped once the host had written the record", async () => {
    fleet.reset("plain", HOSTS.plain);
    // The first read's reply is held back; meanwhile the next run (create) is set to drop.
    const start = fleet.change("plain", (s) => (s.faults.slowReplyMs = 3000));
    const network = async () => {
      const until = Date.now() + 30_000;
      // Once the first read's script has run and the host is saved (its reply still held back),
      // a change here cannot be overwritten by that run: no timing assumption.
      while ((fleet.state("plain").finishedRuns ?? 0) < 1) {
        if (Date.now() > until) throw new Error("the first read never finished");
        await new Promise((r) => setTimeout(r, 20));
      }
      fleet.change("plain", (s) => {
        s.faults.dropConnectionRuns = 1;
        delete s.faults.slowReplyMs;
      });
    };

    const o = await acceptance(sshArgs("plain"), network);

    assert.equal(o.code, 1, o.stdout + o.stderr);
    assert.match(stepLine(o.stdout, "create"), /FAILED .*connectionDropped/);
    assert.equal(fleet.state("plain").counters.recordWrites, 1, "create wrote the record before its connection dropped");
    assert.match(stepLine(o.stdout, "delete"), /^delete +OK /);
    assert.match(o.stdout, /^record {5}before: none; after: none$/m);
    assert.match(o.stdout, /^changes {5}none$/m);
    assertUntouched("plain", start);
  });

  it("fails, naming the setting, when a setting changes during the run", async () => {
    fleet.reset("plain", HOSTS.plain);
    // Create's reply is held back for two seconds; meanwhile an administrator changes a setting.
    const start = fleet.change("plain", (s) => (s.faults.slowReplyMs = 2000));
    const administrator = async () => {
      const until = Date.now() + 30_000;
      while (fleet.state("plain").record === undefined) {
        if (Date.now() > until) throw new Error("create never wrote its record");
        await new Promise((r) => setTimeout(r, 20));
      }
      fleet.change("plain", (s) => {
        s.client.EnableSecuritySignature = false;
        delete s.faults.slowReplyMs;
      });
    };

    const o = await acceptance(sshArgs("plain"), administrator);

    assert.equal(o.code, 1, o.stdout + o.stderr);
    assert.match(o.stdout, /^ {2}client\.enableSigning: true before, false at refresh$/m);
    assert.match(o.stdout, /^verdict {5}FAILED \(.*a setting changed/m);
    assert.equal(start.client.EnableSecuritySignature, true);
    assert.ok(o.report?.changes.includes("client.enableSigning: true before, false at refresh"), JSON.stringify(o.report?.changes));
  });

  it("refuses a password given on the command line, without echoing it, before contacting any host", async () => {
    const start = fleet.reset("plain", HOSTS.plain);
    for (const mistake of [[SIM_PASSWORD], [`--password=${SIM_PASSWORD}`]]) {
      const o = await acceptance([...sshArgs("plain"), ...mistake]);

      assert.equal(o.code, 2, o.stdout + o.stderr);
      assert.match(o.stderr, /^acceptance: (unexpected argument|unknown option --password)/);
      assert.ok(!(o.stdout + o.stderr).includes(SIM_PASSWORD), "the password is not echoed");
    }
    assert.equal(fleet.state("plain").counters.runs, start.counters.runs);
  });
});
