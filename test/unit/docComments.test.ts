// What an IDE shows a user: a doc comment on the resource, on every input and output, and for each
// setting the description the settings table gives (provider/domain/settings.ts), read from the
// source with the TypeScript compiler. And every source file opens with a comment naming its job.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SETTINGS, SIDES } from "../../provider/domain/settings";
import { docComments } from "../../tools/schema/docComments";
import { REPO_ROOT } from "../e2e/pulumiCli";

const RESOURCE = path.join(REPO_ROOT, "provider", "resource.ts");

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

describe("doc comments", () => {
  const docs = docComments(RESOURCE);

  it("the resource class, its arguments and every input and output field have one", () => {
    const missing: string[] = [];
    for (const name of ["SmbSigningPolicy", "SmbSigningPolicyArgs", "ConnectionArgs", "ClientSigningArgs", "ServerSigningArgs"]) {
      const d = docs.get(name);
      assert.ok(d, `provider/resource.ts declares ${name}`);
      if (d.doc === "") missing.push(name);
      for (const [member, doc] of d.members) if (doc === "") missing.push(`${name}.${member}`);
    }
    assert.deepEqual(missing, []);
  });

  for (const side of SIDES) {
    const iface = side === "client" ? "ClientSigningArgs" : "ServerSigningArgs";
    it(`${iface}: each setting's comment begins with its description in the settings table and names its cmdlet property`, () => {
      const members = docs.get(iface)!.members;
      assert.deepEqual([...members.keys()].sort(), SETTINGS[side].map((d) => d.name).sort());
      for (const def of SETTINGS[side]) {
        const doc = members.get(def.name)!;
        assert.ok(doc.startsWith(`${capitalised(def.description)}.`), `${iface}.${def.name}: "${doc}" does not begin with "${capitalised(def.description)}."`);
        assert.ok(doc.includes(`\`${def.cmdletProperty}\``), `${iface}.${def.name}: "${doc}" does not name \`${def.cmdletProperty}\``);
      }
    });
  }

  it("can tell a stale comment (the reader sees a changed description)", () => {
    const dir = fs.mkdtempSync(path.join(REPO_ROOT, "test", ".work-docs-"));
    try {
      const copy = path.join(dir, "resource.ts");
      const def = SETTINGS.server[0];
      fs.writeFileSync(copy, fs.readFileSync(RESOURCE, "utf8").replace(`${capitalised(def.description)}.`, "Requires signing."));
      assert.ok(!docComments(copy).get("ServerSigningArgs")!.members.get(def.name)!.startsWith(capitalised(def.description)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("every TypeScript and PowerShell source file opens with a comment saying what it is for", () => {
    const files = execFileSync("git", ["ls-files", "*.ts", "*.ps1"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
    assert.ok(files.length > 50, `${files.length} files`);
    const bare = files.filter((f) => fs.existsSync(path.join(REPO_ROOT, f)) && !/^(\/\/|#|<#)/.test(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")));
    assert.deepEqual(bare, []);
  });
});
