// Every shipped .ps1 parses with a real PowerShell grammar (tree-sitter-powershell), is ASCII,
// and is the version the simulated host was reviewed against.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { Language, Node, Parser } from "web-tree-sitter";
import { SCRIPTS_DIR } from "../../provider/host/protocol";
import { REVIEWED_SCRIPTS } from "../simhost/reviewedScripts";

const scripts = fs.readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".ps1"));

function firstError(node: Node): Node | undefined {
  if (node.type === "ERROR" || node.isMissing) return node;
  for (const child of node.children) {
    const found = child && firstError(child);
    if (found) return found;
  }
  return undefined;
}

describe("shipped PowerShell scripts", () => {
  let parser: Parser;
  before(async () => {
    await Parser.init();
    parser = new Parser();
    parser.setLanguage(await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")));
  });

  it("ships the scripts the provider runs", () => {
    assert.deepEqual(scripts.sort(), ["bootstrap.ps1", "smb-signing.ps1"]);
  });

  for (const name of scripts) {
    it(`${name} parses without syntax errors`, () => {
      const text = fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
      const tree = parser.parse(text)!;
      const err = firstError(tree.rootNode);
      assert.equal(err, undefined, err && `syntax error at line ${err.startPosition.row + 1}: ${text.split("\n")[err.startPosition.row]}`);
    });

    it(`${name} is ASCII (stdin and -EncodedCommand stay code-page proof)`, () => {
      const bytes = fs.readFileSync(path.join(SCRIPTS_DIR, name));
      assert.ok(bytes.every((b) => b < 0x80));
    });

    it(`${name} is the version the simulated host was reviewed against`, () => {
      const sha = crypto.createHash("sha256").update(fs.readFileSync(path.join(SCRIPTS_DIR, name))).digest("hex");
      assert.equal(sha, REVIEWED_SCRIPTS[name], `review test/simhost/model.ts against ${name}, then update reviewedScripts.ts`);
    });
  }

  it("detects a syntax error (the grammar check can fail)", () => {
    const tree = parser.parse("function Broken { if ($x -eq 1) { 'a' \n")!;
    assert.notEqual(firstError(tree.rootNode), undefined);
  });
});
