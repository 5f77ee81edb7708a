// The guard list (tools/guards/guards.json) stays true to the code and to README.md: each guard's
// text is still in its file exactly once, its tests' files exist, and the README's Security table
// lists the same guards with the same files and tests. `npm run guards` proves the tests fail.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadGuards, occurrences, removeGuard, REPO_ROOT, testSource } from "../../tools/guards/guardList";

const guards = loadGuards();

/** The rows of README.md's Security table, by guard id. */
function readmeRows(): Map<string, string> {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = /^## Security\n([\s\S]*?)(?=^## )/m.exec(readme);
  assert.ok(section, "README.md has no Security section");
  const rows = new Map<string, string>();
  for (const line of section[1].split("\n")) {
    const row = /^\| `([a-z0-9-]+)` \|/.exec(line);
    if (row) rows.set(row[1], line);
  }
  return rows;
}

describe("guard list", () => {
  it("names each guard once, and each guard's text occurs exactly once in its file", () => {
    assert.ok(guards.length > 0);
    assert.equal(new Set(guards.map((g) => g.id)).size, guards.length, "duplicate guard ids");
    for (const g of guards) {
      const source = fs.readFileSync(path.join(REPO_ROOT, g.file), "utf8");
      assert.equal(occurrences(source, g.find), 1, `${g.id}: ${JSON.stringify(g.find)} in ${g.file}`);
      assert.notEqual(removeGuard(g, source), source, `${g.id}: the replacement changes nothing`);
      assert.ok(g.description.length > 0 && g.tests.length > 0, `${g.id}: needs a description and a test`);
    }
  });

  it("names compiled test files whose sources exist", () => {
    for (const g of guards) {
      for (const t of g.tests) {
        assert.match(t.file, /^dist\/test\/.+\.test\.js$/, `${g.id}: ${t.file}`);
        assert.ok(fs.existsSync(path.join(REPO_ROOT, testSource(t.file))), `${g.id}: no ${testSource(t.file)}`);
      }
    }
  });

  it("matches README.md's Security table: the same guards, each with its file and tests", () => {
    const rows = readmeRows();
    assert.deepEqual([...rows.keys()], guards.map((g) => g.id));
    for (const g of guards) {
      const row = rows.get(g.id)!;
      assert.ok(row.includes(`\`${g.file}\``), `${g.id}: README names another file`);
      for (const t of g.tests) {
        assert.ok(row.includes(`\`${testSource(t.file)}\`: "${t.name.replace(/\|/g, "\\|")}"`), `${g.id}: README lacks ${testSource(t.file)}: "${t.name}"`);
      }
      assert.equal((row.match(/\.test\.ts`:/g) ?? []).length, g.tests.length, `${g.id}: README lists other tests`);
    }
  });
});
