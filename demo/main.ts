// The main job (`npm run demo`): three simulated Windows hosts behind real sshd, the fleet
// example run through the real Pulumi CLI: a review (preview with consequences and the policy
// pack), up, out-of-band tampering, the drift gate (preview --refresh --expect-no-changes)
// catching it twice, up --refresh converging, the policy gate on the state, a deliberate
// onDelete restore and destroy putting the originals back; then the provider plugin: `pulumi import` of a host into a
// Pulumi YAML project and an up of the generated code that changes nothing, and a fourth host,
// joined to the simulated domain and refusing NTLM, managed over WinRM with Kerberos (the ticket
// cache `kinit -kt` wrote, no password); and everything torn down.
import * as fs from "node:fs";
import * as path from "node:path";
import { PresetName } from "../test/simhost/model";
import { SimulatedFleet } from "../test/simhost/fleet";
import { SIM_KERBEROS_USER, SIM_PASSWORD, SIM_REALM, SIM_USER, SIM_WINRM_PORT } from "../test/simhost/fleet";
import { CliResult, PulumiProject, REPO_ROOT } from "../test/e2e/pulumiCli";
import { fleetExampleStack, PLUGIN_PROJECT_LINES, TYPE_OF } from "../test/e2e/stacks";

const HOSTS: Array<{ name: string; preset: PresetName; edition: string }> = [
  { name: "ws-pro-01", preset: "win11-24h2-pro", edition: "workstation" },
  { name: "ws-home-02", preset: "win11-24h2-home", edition: "workstation" },
  { name: "srv-2025-03", preset: "server-2025", edition: "server" },
];
/** A host of the domain that refuses NTLM: the provider plugin manages it over WinRM with Kerberos. */
const KERBEROS_HOST = { name: "srv-krb-04", preset: "server-2022" as PresetName };

function step(title: string): void {
  console.log(`\n=== ${title} ${"=".repeat(Math.max(0, 70 - title.length))}`);
}

function show(r: CliResult): void {
  console.log(r.output.trimEnd());
}

function table(fleet: SimulatedFleet): void {
  console.log("host          address         client.require  server.require  writes");
  for (const h of [...HOSTS, KERBEROS_HOST]) {
    const s = fleet.state(h.name);
    console.log(
      `${h.name.padEnd(13)} ${fleet.host(h.name).address.padEnd(15)} ${String(s.client.RequireSecuritySignature).padEnd(15)} ${String(s.server.RequireSecuritySignature).padEnd(15)} ${s.counters.writes}`,
    );
  }
}

async function main(): Promise<void> {
  step("Starting simulated Windows hosts (real OpenSSH sshd on loopback; WinRM, and a domain's KDC)");
  const fleet = await SimulatedFleet.start(
    [...HOSTS.map((h) => ({ name: h.name, preset: h.preset })), { ...KERBEROS_HOST, winrm: { restrictNtlmIncoming: true } }],
    { winrm: true, kerberos: true },
  );
  const dir = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-demo-"));
  try {
    table(fleet);
    const project = await fleetExampleStack(dir, "demo", fleet, HOSTS);

    // The review a pull request gets (examples/pipeline): the diff, each host's consequences as
    // warnings, and the policy pack's verdict, with the organisation's config.
    const pack = ["--policy-pack", path.join(REPO_ROOT, "policy", "launcher"), "--policy-pack-config", path.join(REPO_ROOT, "examples", "pipeline", "smb-signing-policy.json")];
    step("Review: pulumi preview --diff with the policy pack");
    show(await project.ok(["preview", "--diff", ...pack]));

    step("pulumi up: declare SMB signing on every host (the pack judges the whole stack first)");
    show(await project.ok(["up", "--yes", ...pack]));
    table(fleet);

    step("Tampering: an administrator turns off client signing on ws-home-02");
    fleet.change("ws-home-02", (s) => (s.client.RequireSecuritySignature = false));
    table(fleet);

    // The scheduled drift gate: it reads the hosts, writes nothing into the state, and exits 7
    // while a host differs from the program, on every run until the drift is converged.
    for (const run of ["the drift gate", "the drift gate again (next scheduled run)"]) {
      step(`pulumi preview --refresh --expect-no-changes --diff: ${run}`);
      const gate = await project.run(["preview", "--refresh", "--expect-no-changes", "--diff"]);
      show(gate);
      console.log(gate.code === 7 ? `>> drift detected: pulumi exited with code ${gate.code}` : `!! drift NOT detected (exit ${gate.code})`);
      if (gate.code !== 7) throw new Error("the drift gate did not catch the tampering");
    }

    step("pulumi up --refresh: converge");
    show(await project.ok(["up", "--refresh", "--yes", ...pack]));
    table(fleet);
    const clean = await project.run(["preview", "--refresh", "--expect-no-changes"]);
    console.log(clean.code === 0 ? ">> the drift gate passes again" : `!! the drift gate still fails (exit ${clean.code})`);
    if (clean.code !== 0) throw new Error("the drift gate did not pass after converging");

    step("Policy gate on the state: pulumi policy analyze");
    const analyzed = await project.run(["policy", "analyze", ...pack]);
    show(analyzed);
    if (analyzed.code !== 0) throw new Error("the policy gate failed on a converged stack with the resource's defaults");

    step("Deliberately: pulumi config set onDelete restore, up (the pack's advisory smb-restore-secure names the hosts a destroy would weaken)");
    await project.setConfig("onDelete", "restore");
    const restoring = await project.ok(["up", "--yes", ...pack]);
    show(restoring);
    if (!/smb-restore-secure/.test(restoring.output)) throw new Error("the policy pack did not report restoring ws-home-02's insecure originals");

    step("pulumi destroy: put back what each host had before (one warning per host that this weakens)");
    show(await project.ok(["destroy", "--yes", "--skip-preview"]));
    table(fleet);
    await project.ok(["stack", "rm", "--yes"]);

    // The same resource through the provider plugin (bin/pulumi-resource-smbsigning), from Pulumi
    // YAML, with the account and password as the provider's configuration.
    step("Provider plugin: pulumi import srv-2025-03 into a Pulumi YAML project");
    const h = fleet.host("srv-2025-03");
    const yamlDir = path.join(dir, "yaml");
    fs.mkdirSync(yamlDir);
    fs.writeFileSync(path.join(yamlDir, "Pulumi.yaml"), `name: smb-signing-imported\nruntime: yaml\n${PLUGIN_PROJECT_LINES}`);
    const yaml = new PulumiProject(yamlDir, "demo");
    await yaml.init();
    await yaml.setConfig("smbsigning:user", SIM_USER);
    await yaml.setSecretConfig("smbsigning:password", SIM_PASSWORD);
    const id = `ssh://${h.address}:${h.port}?hostKey=${h.hostKeyFingerprint}`;
    console.log(`$ pulumi import ${TYPE_OF.plugin} srv-2025-03 '${id}'`);
    show(await yaml.ok(["import", TYPE_OF.plugin, "srv-2025-03", id, "--yes", "--protect=false", "--out", "generated.yaml"]));
    const generated = fs.readFileSync(path.join(yamlDir, "generated.yaml"), "utf8");
    console.log(`--- the generated program (generated.yaml), appended to Pulumi.yaml:\n${generated.trimEnd()}`);
    fs.appendFileSync(path.join(yamlDir, "Pulumi.yaml"), generated);

    step("Provider plugin: pulumi up --expect-no-changes with the generated program");
    show(await yaml.ok(["up", "--yes", "--expect-no-changes", "--skip-preview"]));
    table(fleet);
    // A host of the domain that refuses NTLM, over WinRM with Kerberos, as a pipeline reaches it:
    // a ticket cache from `kinit -kt` with the service account's keytab, no password anywhere.
    step(`Provider plugin: ${KERBEROS_HOST.name}, in the domain and refusing NTLM, over WinRM with Kerberos`);
    const realm = fleet.realm!;
    const principal = `${SIM_KERBEROS_USER}@${SIM_REALM}`;
    const keytab = await realm.keytab(SIM_KERBEROS_USER, path.join(realm.dir, "svc.keytab"), { norandkey: true });
    const ccache = await realm.kinit(SIM_KERBEROS_USER, { keytab, ccache: path.join(realm.dir, "krb5cc_pipeline") });
    console.log(`$ kinit -kt svc.keytab -c ${ccache} ${principal}`);
    yaml.env.KRB5_CONFIG = realm.env.KRB5_CONFIG; // the simulated domain's krb5.conf, not this machine's
    const k = fleet.host(KERBEROS_HOST.name);
    const kerberosResource = [
      `  ${KERBEROS_HOST.name}:`,
      `    type: ${TYPE_OF.plugin}`,
      "    properties:",
      "      connection:",
      "        transport: winrm",
      "        authentication: kerberos",
      `        host: ${k.address}`,
      `        port: ${SIM_WINRM_PORT}`,
      `        servicePrincipal: ${JSON.stringify(SimulatedFleet.servicePrincipal(KERBEROS_HOST.name))}`,
      `        user: ${principal}`,
      `        kdc: ["${realm.kdcAddress}:${realm.port}"]`,
      `        ccache: ${JSON.stringify(ccache)}`,
      "      client: { requireSigning: true }",
      "      server: { requireSigning: true }",
      "",
    ].join("\n");
    console.log(`--- appended to Pulumi.yaml:\n${kerberosResource.trimEnd()}`);
    fs.appendFileSync(path.join(yamlDir, "Pulumi.yaml"), kerberosResource);
    const emulator = fleet.winrm.get(KERBEROS_HOST.name)!;
    const seen = emulator.requests;
    show(await yaml.ok(["up", "--yes", "--skip-preview"]));
    table(fleet);
    const tokens = emulator.recordsAfter(seen).map((r) => r.authorization);
    const kerberos = tokens.filter((t) => t === "Negotiate/gss").length;
    const ntlm = tokens.filter((t) => /^Negotiate\/\d/.test(t)).length;
    console.log(`>> ${KERBEROS_HOST.name} was managed over Kerberos: ${kerberos} logon(s) with a Kerberos ticket, ${ntlm} NTLM message(s)`);
    if (kerberos === 0 || ntlm !== 0 || !fleet.state(KERBEROS_HOST.name).server.RequireSecuritySignature) throw new Error(`${KERBEROS_HOST.name} was not managed over Kerberos`);

    step("Provider plugin: pulumi destroy (srv-2025-03 gets back what it had: what it has; srv-krb-04 stays secured, onDelete's default)");
    show(await yaml.ok(["destroy", "--yes", "--skip-preview"]));
    table(fleet);
    await yaml.ok(["stack", "rm", "--yes"]);
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
