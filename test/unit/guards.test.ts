// The guard list (tools/guards/guards.json) stays true to the code and to docs/guards.md: each
// guard's code is found exactly once (by its declaration and tokens, as `npm run guards --
// --locate` finds it), its tests' files exist, and the table of docs/guards.md (which README.md's
// Security section links) lists the same guards with the files their code is in now and the same
// tests. `npm run guards` proves the tests fail.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadGuards, locateAll, REPO_ROOT, testSource } from "../../tools/guards/guardList";

const guards = loadGuards();
/** Where each guard's code is now (the same search the runner makes). */
const resolved = locateAll(guards);

/** The guard table of docs/guards.md. */
const GUARD_TABLE = "docs/guards.md";

/** The rows of docs/guards.md's table, by guard id. */
function tableRows(): Map<string, string> {
  const table = fs.readFileSync(path.join(REPO_ROOT, GUARD_TABLE), "utf8");
  const rows = new Map<string, string>();
  for (const line of table.split("\n")) {
    const row = /^\| `([a-z0-9-]+)` \|/.exec(line);
    if (row) rows.set(row[1], line);
  }
  assert.ok(rows.size > 0, `${GUARD_TABLE} has no guard table`);
  return rows;
}

describe("guard list", () => {
  it("names each guard once, and finds each guard's code exactly once, where its replacement changes it", () => {
    assert.ok(guards.length > 0);
    assert.equal(new Set(guards.map((g) => g.id)).size, guards.length, "duplicate guard ids");
    assert.deepEqual(resolved.filter((r) => r.error).map((r) => r.error), []);
    for (const g of guards) {
      assert.ok(g.symbol || g.file, `${g.id}: needs a symbol or a file`);
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

  it("matches the table of docs/guards.md: the same guards, each with its file and tests", () => {
    const rows = tableRows();
    assert.deepEqual([...rows.keys()], guards.map((g) => g.id));
    for (const { guard: g, at } of resolved) {
      const row = rows.get(g.id)!;
      const file = at?.file ?? g.file;
      assert.ok(row.includes(`\`${file}\``), `${g.id}: ${GUARD_TABLE} names another file than ${file}, where its code is`);
      for (const t of g.tests) {
        assert.ok(row.includes(`\`${testSource(t.file)}\`: "${t.name.replace(/\|/g, "\\|")}"`), `${g.id}: ${GUARD_TABLE} lacks ${testSource(t.file)}: "${t.name}"`);
      }
      assert.equal((row.match(/\.test\.ts`:/g) ?? []).length, g.tests.length, `${g.id}: ${GUARD_TABLE} lists other tests`);
    }
  });
});
