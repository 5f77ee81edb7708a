// A child process of the benchmark that registers resources under Pulumi's mocks (no engine) and
// reports the program's CPU per resource: SmbSigningPolicy against a bare dynamic resource with
// the same connection and settings, so the difference is what our constructor costs.
import * as pulumi from "@pulumi/pulumi";

async function main(kind: "ours" | "bare", n: number): Promise<number> {
  pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "bench", "program", false);
  const { SmbSigningPolicy } = await import("../../provider/resource");
  const bare: pulumi.dynamic.ResourceProvider = { create: async (inputs) => ({ id: "x", outs: inputs }) };
  class Bare extends pulumi.dynamic.Resource {}
  const make = (name: string) => {
    const args = { connection: { host: name, user: "u", password: pulumi.secret("p"), hostKey: "SHA256:x" }, client: { requireSigning: true }, server: { requireSigning: true } };
    return kind === "ours" ? new SmbSigningPolicy(name, args) : new Bare(bare, name, args, {}, "smb", "SmbSigningPolicy");
  };
  const settle = (rs: pulumi.Resource[]) => Promise.all(rs.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
  await settle(Array.from({ length: 200 }, (_, i) => make(`warm-${i}`)));
  const c0 = process.cpuUsage();
  await settle(Array.from({ length: n }, (_, i) => make(`h-${i}`)));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

process.once("message", (m: { kind: "ours" | "bare"; n: number }) => {
  main(m.kind, m.n).then(
    (ms) => process.send!(ms, () => process.exit(0)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
});
