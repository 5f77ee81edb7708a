// The YAML language host that tools/pulumi-cli/install.sh builds (pulumi-language-yaml, beside
// `pulumi`): a Pulumi YAML program with outputs only goes through the real CLI's up, stack output
// and destroy, with nothing but the CLI's directory on PATH.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiProject, pulumiCliDir } from "./pulumiCli";

describe("Pulumi YAML programs through the CLI's directory (pulumi-language-yaml)", () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-host-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: yaml-host\nruntime: yaml\noutputs:\n  greeting: hello\n");
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("up, stack output and destroy run a YAML program", async () => {
    const cli = pulumiCliDir();
    // The CLI would also take a language host from elsewhere on PATH, or say only that the plugin
    // is missing: the directory must hold its own.
    const host = path.join(cli, "pulumi-language-yaml");
    const stat = fs.statSync(host, { throwIfNoEntry: false });
    assert.ok(stat?.isFile() && (stat.mode & 0o111) !== 0, `pulumi-language-yaml is missing from ${cli} (or not executable); tools/pulumi-cli/install.sh builds it`);

    const p = new PulumiProject(dir, "dev");
    // A YAML program needs neither node nor anything of this checkout.
    p.env.PATH = [cli, "/usr/bin", "/bin"].join(path.delimiter);
    await p.init();
    const up = await p.ok(["up", "--yes"]);
    assert.match(up.output, /greeting: "hello"/);
    assert.doesNotMatch(up.output, /\bwarning\b/i);
    const outputs = JSON.parse((await p.ok(["stack", "output", "--json"])).stdout);
    assert.deepEqual(outputs, { greeting: "hello" });
    await p.ok(["destroy", "--yes", "--skip-preview"]);
    assert.deepEqual(JSON.parse((await p.ok(["stack", "output", "--json"])).stdout), {});
  });
});
