// The main job (`npm run demo`): three simulated Windows hosts behind real sshd, the fleet
// example run through the real Pulumi CLI: up, out-of-band tampering, refresh catching the
// drift, up converging, destroy restoring, and everything torn down.
import * as fs from "node:fs";
import * as path from "node:path";
import { PresetName } from "../simhost/model";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { CliResult, PulumiProject, REPO_ROOT } from "../e2e/pulumiCli";

const HOSTS: Array<{ name: string; preset: PresetName; edition: string }> = [
  { name: "ws-pro-01", preset: "win11-24h2-pro", edition: "workstation" },
  { name: "ws-home-02", preset: "win11-24h2-home", edition: "workstation" },
  { name: "srv-2025-03", preset: "server-2025", edition: "server" },
];

function step(title: string): void {
  console.log(`\n=== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}`);
}

function show(r: CliResult): void {
  console.log(r.output.trimEnd());
}

function table(fleet: SimulatedFleet): void {
  console.log("host          address         client.require  server.require  writes");
  for (const h of HOSTS) {
    const s = fleet.state(h.name);
    console.log(
      `${h.name.padEnd(13)} ${fleet.host(h.name).address.padEnd(15)} ${String(s.client.RequireSecuritySignature).padEnd(15)} ${String(s.server.RequireSecuritySignature).padEnd(15)} ${s.counters.writes}`,
    );
  }
}

async function main(): Promise<void> {
  step("Starting simulated Windows hosts (real OpenSSH sshd on loopback)");
  const fleet = await SimulatedFleet.start(HOSTS.map((h) => ({ name: h.name, preset: h.preset })));
  const dir = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-demo-"));
  try {
    table(fleet);
    const main = path.relative(dir, path.join(REPO_ROOT, "examples", "fleet"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: smb-signing-fleet\nruntime: nodejs\nmain: ${main}/index.ts\n`);
    const project = new PulumiProject(dir, "demo");
    await project.init();
    const hosts = HOSTS.map((h) => {
      const s = fleet.host(h.name);
      return { name: h.name, host: s.address, port: s.port, hostKey: s.hostKeyFingerprint, edition: h.edition };
    });
    fs.appendFileSync(
      path.join(dir, "Pulumi.demo.yaml"),
      `config:\n  smb-signing-fleet:user: ${SIM_USER}\n  smb-signing-fleet:hosts: ${JSON.stringify(hosts)}\n`,
    );
    await project.setSecretConfig("password", SIM_PASSWORD);

    step("pulumi up: declare SMB signing on every host");
    show(await project.ok(["up", "--yes", "--skip-preview"]));
    table(fleet);

    step("Tampering: an administrator turns off client signing on ws-home-02");
    fleet.change("ws-home-02", (s) => (s.client.RequireSecuritySignature = false));
    table(fleet);

    step("pulumi refresh --expect-no-changes: the drift gate");
    const gate = await project.run(["refresh", "--expect-no-changes", "--yes", "--skip-preview"]);
    show(gate);
    console.log(gate.code === 0 ? "!! drift NOT detected" : `>> drift detected: pulumi exited with code ${gate.code}`);
    if (gate.code === 0) throw new Error("the drift gate did not catch the tampering");

    step("pulumi up: converge");
    show(await project.ok(["up", "--yes", "--skip-preview"]));
    table(fleet);

    step("pulumi destroy: restore what each host had before");
    show(await project.ok(["destroy", "--yes", "--skip-preview"]));
    table(fleet);
    await project.ok(["stack", "rm", "--yes"]);
  } finally {
    step("Tearing down the simulated hosts");
    await fleet.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    console.log("done");
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
