// The provider plugin from a Go program, through the real CLI: `pulumi package gen-sdk --language
// go` (with the Go language host tools/pulumi-cli/install.sh builds) writes the Go SDK of
// provider/plugin/schema.json into a temporary directory; a Go program whose go.mod points the
// SDK's module there (`replace`) declares one SmbSigningPolicy with client.requireSigning on a
// simulated host, its connection from stack config and the account and password as provider
// configuration (smbsigning:user, secret smbsigning:password). up applies it, refresh
// --expect-no-changes finds nothing, destroy restores the host's value. The language host builds
// the program (`go build`) on every CLI run: with an empty Go build cache the first up took 133 s
// (the whole test 140 s) on 2 shared cores, with a warm one 16-20 s (the fresh SDK compiling; the
// whole test 26 s). Modules come from the Go module cache, or the module proxy when missing
// (GOFLAGS=-mod=mod).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_PASSWORD, SIM_USER, SimulatedFleet } from "../simhost/fleet";
import { GO_MODULE } from "../../tools/schema/generate";
import { PulumiProject, REPO_ROOT, pulumiCliDir } from "./pulumiCli";
import { PLUGIN_PROJECT_LINES, TYPE_OF } from "./stacks";

const SCHEMA = path.join(REPO_ROOT, "provider", "plugin", "schema.json");

const PROGRAM = `package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"${GO_MODULE}/smbsigning"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		policy, err := smbsigning.NewSmbSigningPolicy(ctx, "gw01", &smbsigning.SmbSigningPolicyArgs{
			Connection: &smbsigning.ConnectionArgs{
				Host:    pulumi.String(cfg.Require("host")),
				Port:    pulumi.Int(cfg.RequireInt("port")),
				HostKey: pulumi.String(cfg.Require("hostKey")),
			},
			Client:   &smbsigning.ClientSigningArgs{RequireSigning: pulumi.Bool(true)},
			OnDelete: pulumi.String("restore"),
		})
		if err != nil {
			return err
		}
		ctx.Export("observedClient", policy.Observed.Client())
		return nil
	})
}
`;

describe("the provider plugin from a Go program (SDK from pulumi package gen-sdk)", () => {
  let fleet: SimulatedFleet;
  let workRoot: string;
  let p: PulumiProject;
  const outputs: string[] = [];
  const ok = async (args: string[]) => {
    const started = Date.now();
    const r = await p.run(args);
    outputs.push(r.output);
    assert.equal(r.code, 0, r.output);
    console.log(`      pulumi ${args[0]}${args[1] && !args[1].startsWith("-") ? ` ${args[1]}` : ""}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return r;
  };

  before(async () => {
    const host = path.join(pulumiCliDir(), "pulumi-language-go");
    assert.ok(fs.existsSync(host), `${host} is missing; tools/pulumi-cli/install.sh builds it`);
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-go-"));
    fleet = await SimulatedFleet.start([{ name: "gw01", preset: "server-2022" }]);
    const dir = path.join(workRoot, "program");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: smb-go\nruntime: go\n${PLUGIN_PROJECT_LINES}`);
    fs.writeFileSync(path.join(dir, "main.go"), PROGRAM);
    fs.writeFileSync(
      path.join(dir, "go.mod"),
      `module smb-go\n\ngo 1.25\n\nrequire (\n\tgithub.com/pulumi/pulumi/sdk/v3 v3.276.0\n\t${GO_MODULE} v0.0.0\n)\n\nreplace ${GO_MODULE} => ../sdk/go\n`,
    );
    p = new PulumiProject(dir, "dev");
    // go build may add go.sum lines; GOWORK=off: no go.work of a parent directory applies.
    p.env.GOFLAGS = "-mod=mod";
    p.env.GOWORK = "off";
    await p.init();
    await p.setConfig("smbsigning:user", SIM_USER);
    await p.setSecretConfig("smbsigning:password", SIM_PASSWORD);
    const h = fleet.host("gw01");
    await p.setConfig("host", h.address);
    await p.setConfig("port", String(h.port));
    await p.setConfig("hostKey", h.hostKeyFingerprint);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  it("gen-sdk --language go writes a Go module of the schema's package, pinned to its version", async () => {
    await ok(["package", "gen-sdk", SCHEMA, "--language", "go", "--out", path.join(workRoot, "sdk")]);
    const sdk = path.join(workRoot, "sdk", "go");
    assert.match(fs.readFileSync(path.join(sdk, "go.mod"), "utf8"), new RegExp(`^module ${GO_MODULE}$`, "m"));
    const version = (JSON.parse(fs.readFileSync(SCHEMA, "utf8")) as { version: string }).version;
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(sdk, "smbsigning", "pulumi-plugin.json"), "utf8")), { resource: true, name: "smbsigning", version });
    assert.match(fs.readFileSync(path.join(sdk, "smbsigning", "smbSigningPolicy.go"), "utf8"), /func NewSmbSigningPolicy\(/);
  });

  it("up builds and runs the program: the host requires outbound signing", async () => {
    assert.equal(fleet.state("gw01").client.RequireSecuritySignature, false, "server-2022 starts without outbound signing required");
    const up = await ok(["up", "--yes"]);
    assert.match(up.output, /\+ 2 created/); // the stack and the policy (the default provider is not counted)
    assert.equal(fleet.state("gw01").client.RequireSecuritySignature, true);
    const observed = JSON.parse((await ok(["stack", "output", "observedClient", "--json"])).stdout);
    assert.equal(observed.requireSigning, true);
  });

  it("refresh --expect-no-changes finds nothing; the password is in no output or state", async () => {
    await ok(["refresh", "--expect-no-changes", "--yes"]);
    const exported = await p.exportState();
    outputs.push(exported);
    const resources = JSON.parse(exported).deployment.resources as Array<{ type: string; inputs: Record<string, unknown> }>;
    const policy = resources.find((r) => r.type === TYPE_OF.plugin);
    assert.equal((policy?.inputs.connection as Record<string, unknown>).user, SIM_USER, "the configured account is the resource's checked input");
    for (const text of outputs) assert.ok(!text.includes(SIM_PASSWORD), "a CLI output or the state holds the password");
  });

  it("destroy restores the value the host had (onDelete: restore)", async () => {
    await ok(["destroy", "--yes", "--skip-preview"]);
    assert.equal(fleet.state("gw01").client.RequireSecuritySignature, false);
    assert.equal(fleet.state("gw01").record, undefined);
  });
});
