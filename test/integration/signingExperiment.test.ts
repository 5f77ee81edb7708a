// The real-host experiment (test/windows/signingExperiment.ts, run by the windows.yml job
// "real-host-experiment" on throw-away runners, never by this repository's CI against Windows),
// run here as the job runs it, phase by phase as child processes, against simulated hosts over
// SSH: each phase changes what it says, and the last one leaves the host exactly as it was.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import type { HostState, PresetName } from "../simhost/model";
import type { Phase, PhaseReport } from "../windows/signingExperiment";

const SCRIPT = path.join(__dirname, "..", "windows", "signingExperiment.js");
const PASSWORD_ENV = "SMB_ACCEPTANCE_PASSWORD";
const HOSTS = { current: "server-2025", older: "server-2022" } as const satisfies Record<string, PresetName>;

describe("the real-host experiment (test/windows/signingExperiment.ts) against simulated hosts", () => {
  let fleet: SimulatedFleet;
  let workDir: string;

  before(async () => {
    fleet = await SimulatedFleet.start(Object.entries(HOSTS).map(([name, preset]) => ({ name, preset })));
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "experiment-"));
  });
  after(async () => {
    await fleet?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function phase(name: keyof typeof HOSTS, which: Phase, outDir: string): Promise<{ code: number | null; stdout: string; report: PhaseReport }> {
    const h = fleet.host(name);
    const args = [SCRIPT, which, "--host", h.address, "--port", String(h.port), "--user", SIM_USER, "--host-key", h.hostKeyFingerprint, "--password-env", PASSWORD_ENV, "--out-dir", outDir];
    const child = spawn(process.execPath, args, { env: { ...process.env, [PASSWORD_ENV]: SIM_PASSWORD }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    assert.ok(!output.includes(SIM_PASSWORD), "the password is never printed");
    const report = JSON.parse(fs.readFileSync(path.join(outDir, `${which}.json`), "utf8")) as PhaseReport;
    return { code, stdout: output, report };
  }

  function assertAsBefore(name: string, start: HostState): void {
    const now = fleet.state(name);
    assert.deepEqual(now.client, start.client, "client settings as before");
    assert.deepEqual(now.server, start.server, "server settings as before");
    assert.equal(now.record, undefined, "no record left");
  }

  it("on Windows Server 2025: flip changes both requirements and puts them back; unsigned turns them off and the audits on; audit reads the logs; restore leaves the host as it was", async () => {
    const start = fleet.reset("current", HOSTS.current);
    const out = path.join(workDir, "current");

    const flip = await phase("current", "flip", out);
    assert.equal(flip.code, 0, flip.stdout);
    assert.deepEqual(flip.report.steps.map((s) => [s.name, s.ok]), [["read before", true], ["apply flipped requireSigning", true], ["read flipped", true], ["restore", true], ["read after", true]]);
    const flipped = flip.report.steps[2].result!.after;
    assert.equal(flipped.client.requireSigning, !start.client.RequireSecuritySignature);
    assert.equal(flipped.server.requireSigning, !start.server.RequireSecuritySignature);
    assert.ok(fleet.state("current").counters.writes >= 2, "the flip and its restore wrote");
    assertAsBefore("current", start);
    assert.match(flip.stdout, /^verdict {4}PASSED$/m);

    const unsigned = await phase("current", "unsigned", out);
    assert.equal(unsigned.code, 0, unsigned.stdout);
    const during = fleet.state("current");
    assert.equal(during.client.RequireSecuritySignature, false);
    assert.equal(during.server.RequireSecuritySignature, false);
    assert.equal(during.client.AuditServerDoesNotSupportSigning, true);
    assert.equal(during.server.AuditClientDoesNotSupportSigning, true);
    assert.ok(during.record, "the record keeps the originals meanwhile");

    const audit = await phase("current", "audit", out);
    assert.equal(audit.code, 0, audit.stdout);
    const logs = audit.report.steps[0].result!.readiness;
    assert.ok(logs, "the script read the audit logs");
    assert.deepEqual([logs.server.log, logs.client.log], ["available", "available"]);

    const restore = await phase("current", "restore", out);
    assert.equal(restore.code, 0, restore.stdout);
    assertAsBefore("current", start);
    assert.ok(!fs.readdirSync(out).some((f) => fs.readFileSync(path.join(out, f), "utf8").includes(SIM_PASSWORD)), "no file holds the password");
  });

  it("on Windows Server 2022 (no audit settings): unsigned says so and changes only the requirements; restore leaves the host as it was", async () => {
    const start = fleet.reset("older", HOSTS.older);
    const out = path.join(workDir, "older");
    assert.equal((await phase("older", "flip", out)).code, 0);

    const unsigned = await phase("older", "unsigned", out);
    assert.equal(unsigned.code, 0, unsigned.stdout);
    assert.match(unsigned.stdout, /note: server\.auditClientDoesNotSupportSigning: this build does not have it/);
    assert.match(unsigned.stdout, /note: client\.auditServerDoesNotSupportSigning: this build does not have it/);

    assert.equal((await phase("older", "restore", out)).code, 0);
    assertAsBefore("older", start);
  });

  it("restore fails when a value is not back as before the experiment", async () => {
    const start = fleet.reset("current", HOSTS.current);
    const out = path.join(workDir, "drifted");
    assert.equal((await phase("current", "flip", out)).code, 0);
    // Someone changes the host outside the experiment: restore cannot put that back.
    fleet.change("current", (s) => (s.server.RequireSecuritySignature = !start.server.RequireSecuritySignature));

    const restore = await phase("current", "restore", out);
    assert.equal(restore.code, 1, restore.stdout);
    assert.match(restore.stdout, /NOT AS EXPECTED: not as before the experiment: server\.requireSigning/);
    assert.match(restore.stdout, /^verdict {4}FAILED$/m);
  });
});
