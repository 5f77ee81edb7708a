// Check failures as a user reads them in `pulumi preview`, for both front ends (the dynamic
// resource and the provider plugin): the offending property with its value
// (secrets redacted), the nested path and what is allowed, before any host is contacted. The
// engine prints "property P value V has a problem: R" and looks P up among the top-level inputs,
// so the provider names the top-level input and leads the reason with the nested path.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { FRONTS, programStack, titleFor, TYPE_OF } from "./stacks";
import { PulumiProject, REPO_ROOT } from "./pulumiCli";

const PASSWORD = "Check-Failure-Pa55-6d1e";
/** No host is ever contacted: check fails first. A TEST-NET-1 address (RFC 5737) would not answer anyway. */
const HOST = "192.0.2.10";
const FP = "SHA256:" + "A".repeat(43);

let workRoot: string;
let project: PulumiProject;

function declare(args: Record<string, unknown>): void {
  const spec = { resources: [{ name: "fs01", args: { connection: { host: HOST, user: "admin", hostKey: FP }, ...args } }] };
  fs.writeFileSync(path.join(project.dir, "program.json"), JSON.stringify(spec));
}

/** The CLI's lines for this resource's check failures, without the URN prefix. */
function problems(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.includes("has a problem"))
    .map((l) => l.replace(/^.*?error: /, ""))
    // The CLI prints each diagnostic as it happens and again in its Diagnostics summary.
    .filter((l, i, all) => all.indexOf(l) === i);
}

for (const front of FRONTS) describe(titleFor("check failures as the CLI prints them", front), () => {
  const TYPE = TYPE_OF[front];
  before(async () => {
    workRoot = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-e2e-"));
    project = await programStack(workRoot, "check", { password: PASSWORD }, front);
  });
  after(() => {
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  it("a nested setting: the side's value and the nested path with what is allowed, not {<nil>}", async () => {
    declare({ client: { requireSigning: "yes" } });
    const r = await project.run(["preview"]);
    assert.notEqual(r.code, 0);
    assert.deepEqual(problems(r.output), [`${TYPE} resource 'fs01': property client value {map[requireSigning:{yes}]} has a problem: client.requireSigning must be true or false`]);
    assert.doesNotMatch(r.output, /<nil>/);
  });

  it("a connection property: the connection's value with the password redacted", async () => {
    declare({ connection: { host: HOST, user: "admin", hostKey: FP, port: 70000 } });
    const r = await project.run(["preview"]);
    assert.notEqual(r.code, 0);
    const [line, ...rest] = problems(r.output);
    assert.deepEqual(rest, []);
    assert.match(line, new RegExp(`^${TYPE} resource 'fs01': property connection value \\{map\\[.*port:\\{70000\\}.*\\]\\} has a problem: connection\\.port `));
    assert.match(line, /password:\{\[secret\]\}/);
    assert.ok(!r.output.includes(PASSWORD), "the password is never printed");
  });

  it("an unknown setting: the allowed names", async () => {
    declare({ server: { requireSignature: true } });
    const r = await project.run(["preview"]);
    assert.deepEqual(problems(r.output), [
      `${TYPE} resource 'fs01': property server value {map[requireSignature:{true}]} has a problem: server.requireSignature is not a known property; allowed: requireSigning, enableSigning, auditClientDoesNotSupportSigning, auditInsecureGuestLogon`,
    ]);
  });

  it("a top-level input keeps its own name", async () => {
    declare({ onDelete: "forget" });
    const r = await project.run(["preview"]);
    assert.deepEqual(problems(r.output), [`${TYPE} resource 'fs01': property onDelete value {forget} has a problem: must be "restore" or "retain"`]);
  });
});
