// Credentials a program passes as plain strings (read from a file or plain config rather than
// config.requireSecret) are still stored only as secrets, through the real Pulumi CLI: ciphertext
// in the state's inputs and outputs, and plaintext in no file the CLI writes (the backend,
// PULUMI_HOME) nor in its output.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { SIM_KEY_PASSPHRASE, SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";
import { programStack } from "./stacks";

const TYPE = "pulumi-nodejs:dynamic/smb:SmbSigningPolicy";
/** One resource per way to authenticate: password and private key may not be given together. */
const CREDENTIALS: Record<string, string[]> = { "with-password": ["password"], "with-key": ["privateKey", "passphrase"] };

let fleet: SimulatedFleet;
let workRoot: string;
let stack: PulumiProject;
let exported: string;
const cliOutput: string[] = [];

/** Every file under `dir` as text, gzip-compressed checkpoints unpacked. */
function filesUnder(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    let bytes = fs.readFileSync(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
    out.push({ file: path.relative(stack.dir, file), text: bytes.toString("latin1") });
  }
  return out;
}

describe("credentials a program passes as plain strings", () => {
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    fleet = await SimulatedFleet.start([
      { name: "pw", preset: "server-2025" },
      { name: "key", preset: "server-2025" },
    ]);
    stack = await programStack(workRoot, "plain-credentials", {});
    const spec = {
      resources: [
        { name: "with-password", credentials: "plain", args: { connection: fleet.connection("pw", "password"), server: { requireSigning: true } } },
        { name: "with-key", credentials: "plain", args: { connection: fleet.connection("key", "encryptedKey"), server: { requireSigning: true } } },
      ],
    };
    fs.writeFileSync(path.join(stack.dir, "program.json"), JSON.stringify(spec, null, 2));
    // up writes the credentials through create; refresh writes them again through read.
    cliOutput.push((await stack.ok(["up", "--yes"])).output);
    cliOutput.push((await stack.ok(["refresh", "--yes"])).output);
    exported = await stack.exportState();
    cliOutput.push(exported);
  });
  after(async () => {
    await fleet?.stop();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });
  it("are ciphertext in the state's inputs and outputs: password, privateKey and passphrase", () => {
    const policies = JSON.parse(exported).deployment.resources.filter((r: { type: string }) => r.type === TYPE);
    const name = (r: { urn: string }) => r.urn.split("::").pop()!;
    assert.deepEqual(policies.map(name).sort(), Object.keys(CREDENTIALS).sort());
    for (const r of policies) {
      for (const key of CREDENTIALS[name(r)]) {
        assert.equal(typeof r.inputs.connection[key]?.ciphertext, "string", `${name(r)}: input connection.${key} is not a secret`);
        assert.equal(typeof r.outputs.connection[key]?.ciphertext, "string", `${name(r)}: output connection.${key} is not a secret`);
      }
    }
    // The plain credentials did reach the hosts.
    assert.equal(fleet.state("pw").server.RequireSecuritySignature, true);
    assert.equal(fleet.state("key").server.RequireSecuritySignature, true);
  });

  it("appear in plaintext nowhere: not in the backend's files, PULUMI_HOME, or the CLI's output", () => {
    // The key is looked for line by line: state would hold it as one JSON string with "\n" escapes.
    const keyLines = fleet.encryptedClientKey.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"));
    assert.ok(keyLines.length > 0);
    const secrets: Array<[string, string]> = [
      ["password", SIM_PASSWORD],
      ["passphrase", SIM_KEY_PASSPHRASE],
      ...keyLines.map((line, n): [string, string] => [`privateKey (line ${n + 1})`, line]),
    ];
    const backend = filesUnder(path.join(stack.dir, ".pulumi-state"));
    assert.ok(
      backend.some((f) => f.text.includes("with-password") && f.text.includes("ciphertext")),
      "no checkpoint of the stack found in the backend directory",
    );
    const texts = [...backend, ...filesUnder(path.join(stack.dir, ".pulumi-home")), ...cliOutput.map((text, n) => ({ file: `CLI output ${n + 1}`, text }))];
    for (const { file, text } of texts) {
      for (const [what, value] of secrets) assert.ok(!text.includes(value), `${file} holds the ${what} in plaintext`);
    }
  });
});
