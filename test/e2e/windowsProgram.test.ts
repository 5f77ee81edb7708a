// The Windows workflow's Pulumi program (test/windows/pulumi/), run here through the real CLI the
// way .github/workflows/windows.yml runs it on a Windows runner: an acceptance report first, then
// up, refresh --expect-no-changes, preview --expect-no-changes and destroy, which must leave the
// simulated host exactly as it was.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { runAcceptance } from "../../tools/acceptance/acceptance";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";

const PASSWORD_ENV = "SMB_ACCEPTANCE_PASSWORD";
const PROJECT = path.join(REPO_ROOT, "test", "windows", "pulumi", "Pulumi.yaml");

let fleet: SimulatedFleet;
let workRoot: string;

describe("the Windows workflow's Pulumi program (test/windows/pulumi) through the real CLI", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start([{ name: "runner", preset: "server-2025-dc" }]);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });
  it("declares the host's own values: up, refresh, preview and destroy change nothing on the host", async () => {
    const start = fleet.reset("runner", "server-2025-dc");
    const h = fleet.host("runner");
    const report = await runAcceptance(
      { host: h.address, port: h.port, user: SIM_USER, transport: "ssh", https: false, hostKey: h.hostKeyFingerprint, passwordEnv: PASSWORD_ENV, owner: `acceptance/${h.address}` },
      { [PASSWORD_ENV]: SIM_PASSWORD },
    );
    assert.equal(report.passed, true, JSON.stringify(report.steps));
    const reportFile = path.join(workRoot, "acceptance.json");
    fs.writeFileSync(reportFile, JSON.stringify(report));
    // Two levels below test/, as test/windows/pulumi is, so the project's relative main resolves alike.
    const dir = path.join(workRoot, "windows");
    fs.mkdirSync(dir);
    fs.copyFileSync(PROJECT, path.join(dir, "Pulumi.yaml"));
    const p = new PulumiProject(dir, "windows");
    p.env[PASSWORD_ENV] = SIM_PASSWORD;
    await p.init();
    await p.setConfig("acceptanceReport", reportFile);

    const outputs: string[] = [];
    const up = await p.ok(["up", "--yes"]);
    outputs.push(up.output);
    assert.match(up.output, /\+ 2 created/);
    outputs.push((await p.ok(["refresh", "--yes", "--expect-no-changes"])).output);
    outputs.push((await p.ok(["preview", "--expect-no-changes"])).output);
    const destroyed = await p.ok(["destroy", "--yes"]);
    outputs.push(destroyed.output);
    assert.match(destroyed.output, /- 2 deleted/);

    const now = fleet.state("runner");
    assert.deepEqual(now.client, start.client);
    assert.deepEqual(now.server, start.server);
    assert.equal(now.counters.writes, 0, "no run changed a setting");
    assert.equal(now.record, undefined, "destroy removed the record that up wrote");
    assert.ok(!outputs.join("").includes(SIM_PASSWORD), "the password is never printed");
    assert.ok(!(await p.exportState()).includes(SIM_PASSWORD), "the state holds the password only as a secret");
  });
});
