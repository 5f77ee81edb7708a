// Every .ps1 in the repository (the shipped scripts and the Pester tests of test/windows/) parses
// with a real PowerShell grammar (tree-sitter-powershell); the shipped scripts are also ASCII and
// pinned at the version a person last reviewed (a prompt to re-read, not a condition of any run).
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Language, Node, Parser } from "web-tree-sitter";
import { SCRIPTS_DIR } from "../../provider/host/protocol";
import { REVIEWED_SCRIPTS } from "../simhost/reviewedScripts";
import { REPO_ROOT } from "../../tools/repoRoot";

const scripts = fs.readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".ps1"));

// Not the repository's own files: dependencies, build output, git internals and the tests'
// scratch directories (test/.work-*), which may hold copies.
const NOT_OURS = new Set([".git", "node_modules", "dist", ".pulumi-cli"]);

/** Every .ps1 under the checkout, as paths relative to it with forward slashes. */
function powershellFiles(dir = REPO_ROOT): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!NOT_OURS.has(entry.name) && !entry.name.startsWith(".work-")) found.push(...powershellFiles(full));
    } else if (entry.name.toLowerCase().endsWith(".ps1")) {
      found.push(path.relative(REPO_ROOT, full).split(path.sep).join("/"));
    }
  }
  return found.sort();
}
const everyScript = powershellFiles();

function firstError(node: Node): Node | undefined {
  if (node.type === "ERROR" || node.isMissing) return node;
  for (const child of node.children) {
    const found = child && firstError(child);
    if (found) return found;
  }
  return undefined;
}

describe("PowerShell scripts", () => {
  let parser: Parser;
  before(async () => {
    await Parser.init();
    parser = new Parser();
    parser.setLanguage(await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")));
  });

  it("ships the scripts the provider runs", () => {
    assert.deepEqual(scripts.sort(), ["bootstrap.ps1", "smb-signing.ps1"]);
  });

  it("finds the shipped scripts and the Pester tests of test/windows/ among the files it parses", () => {
    for (const name of scripts) assert.ok(everyScript.includes(`provider/scripts/${name}`), name);
    assert.ok(everyScript.includes("test/windows/smb-signing.Tests.ps1"), everyScript.join(", "));
  });

  for (const file of everyScript) {
    it(`${file} is ASCII (Windows PowerShell 5.1 reads a .ps1 without a byte order mark in the ANSI code page)`, () => {
      assert.ok(fs.readFileSync(path.join(REPO_ROOT, file)).every((b) => b < 0x80));
    });

    it(`${file} parses without syntax errors`, () => {
      const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
      const tree = parser.parse(text)!;
      const err = firstError(tree.rootNode);
      assert.equal(err, undefined, err && `syntax error at line ${err.startPosition.row + 1}: ${text.split("\n")[err.startPosition.row]}`);
    });
  }

  for (const name of scripts) {
    it(`${name} is ASCII (stdin and -EncodedCommand stay code-page proof)`, () => {
      const bytes = fs.readFileSync(path.join(SCRIPTS_DIR, name));
      assert.ok(bytes.every((b) => b < 0x80));
    });

    it(`${name} was last reviewed at this version (a prompt to re-read a changed script, nothing more)`, () => {
      const sha = crypto.createHash("sha256").update(fs.readFileSync(path.join(SCRIPTS_DIR, name))).digest("hex");
      assert.equal(sha, REVIEWED_SCRIPTS[name], `${name} changed: read the change against the Windows documentation, test/windows/*.Tests.ps1 and docs/windows-model.md, then update the pin in test/simhost/reviewedScripts.ts`);
    });
  }

  it("detects a syntax error (the grammar check can fail)", () => {
    const tree = parser.parse("function Broken { if ($x -eq 1) { 'a' \n")!;
    assert.notEqual(firstError(tree.rootNode), undefined);
  });
});
