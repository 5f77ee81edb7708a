// The provider plugin as `pulumi plugin install` takes it: tools/plugin/pack.sh's tarball,
// installed with `pulumi plugin install resource smbsigning <version> --file`, then used by a
// Pulumi YAML program outside this repository that names no plugin path, with nothing of this
// checkout on PATH: preview, up, refresh and destroy against a simulated host.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, pulumiCliDir, REPO_ROOT } from "./pulumiCli";

describe("the provider plugin's tarball through pulumi plugin install", () => {
  let fleet: SimulatedFleet;
  let scratch: string;

  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "smb-plugin-"));
    fleet = await SimulatedFleet.start([{ name: "fs01", preset: "server-2019" }]);
  });
  after(async () => {
    await fleet?.stop();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("installs under PULUMI_HOME and serves a YAML program that names no plugin path", async () => {
    const tarball = execFileSync("bash", [path.join(REPO_ROOT, "tools", "plugin", "pack.sh"), path.join(scratch, "out")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version as string;
    assert.match(path.basename(tarball), new RegExp(`^pulumi-resource-smbsigning-v${version.replace(/\./g, "\\.")}-linux-(amd64|arm64)\\.tar\\.gz$`));

    const dir = path.join(scratch, "program");
    fs.mkdirSync(dir);
    const h = fleet.host("fs01");
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      `name: smb-plugin-install\nruntime: yaml\nresources:\n  fs01:\n    type: smbsigning:index:SmbSigningPolicy\n    properties:\n      connection: { host: "${h.address}", port: ${h.port}, hostKey: "${h.hostKeyFingerprint}" }\n      client: { requireSigning: true }\n`,
    );
    const p = new PulumiProject(dir, "dev");
    // Only the CLI and node: the plugin must come from PULUMI_HOME.
    p.env.PATH = [pulumiCliDir(), path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter);
    await p.ok(["plugin", "install", "resource", "smbsigning", version, "--file", tarball]);
    const installed = path.join(p.env.PULUMI_HOME!, "plugins", `resource-smbsigning-v${version}`, "pulumi-resource-smbsigning");
    assert.ok(fs.existsSync(installed), `not installed at ${installed}`);
    assert.match((await p.ok(["plugin", "ls"])).output, new RegExp(`smbsigning\\s+resource\\s+${version.replace(/\./g, "\\.")}`));

    await p.init();
    await p.setConfig("smbsigning:user", SIM_USER);
    await p.setSecretConfig("smbsigning:password", SIM_PASSWORD);
    const preview = await p.ok(["preview", "--diff"]);
    assert.match(preview.output, /\+ smbsigning:index:SmbSigningPolicy: \(create\)/);
    const up = await p.ok(["up", "--yes"]);
    assert.doesNotMatch(up.output, /from \$PATH/);
    assert.equal(fleet.state("fs01").client.RequireSecuritySignature, true);
    await p.ok(["refresh", "--yes", "--expect-no-changes"]);
    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("fs01").client.RequireSecuritySignature, true, "onDelete's default (retain) leaves the host secured");
  });
});
