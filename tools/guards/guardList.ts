// The guard list (tools/guards/guards.json): each security or integrity check in provider/, the
// exact source text that removes it, and the tests that must fail without it. Read by the
// runner (run.ts) and by the unit test that keeps the list, the sources and docs/guards.md agreeing.
import * as fs from "node:fs";
import * as path from "node:path";

export interface GuardTest {
  /** The compiled test file, relative to the checkout: dist/test/.../x.test.js. */
  file: string;
  /** The test's full title as mocha reports it (`fullTitle`): its suites' names and its own, joined by spaces. */
  name: string;
}

export interface Guard {
  id: string;
  description: string;
  /** The source file, relative to the checkout. */
  file: string;
  /** Text found exactly once in `file`; replacing it with `replace` removes the guard. */
  find: string;
  replace: string;
  /** Each of these must fail once the guard is removed. */
  tests: GuardTest[];
}

/** The checkout: this module runs as dist/tools/guards/guardList.js. */
import { REPO_ROOT } from "../repoRoot";
export { REPO_ROOT };
const GUARDS_FILE = path.join("tools", "guards", "guards.json");

export function loadGuards(root: string = REPO_ROOT): Guard[] {
  return (JSON.parse(fs.readFileSync(path.join(root, GUARDS_FILE), "utf8")) as { guards: Guard[] }).guards;
}

/** How often `find` occurs in `text` (non-overlapping). */
export function occurrences(text: string, find: string): number {
  if (find.length === 0) return 0;
  return text.split(find).length - 1;
}

/** The source of a compiled test file: dist/test/unit/x.test.js -> test/unit/x.test.ts. */
export function testSource(compiled: string): string {
  return compiled.replace(/^dist\//, "").replace(/\.js$/, ".ts");
}

/** `source` with the guard removed; throws unless its text occurs exactly once. */
export function removeGuard(guard: Guard, source: string): string {
  const found = occurrences(source, guard.find);
  if (found !== 1) {
    throw new Error(`guard ${guard.id}: the text to remove occurs ${found} times in ${guard.file} (must be exactly once): ${JSON.stringify(guard.find)}`);
  }
  return source.replace(guard.find, () => guard.replace);
}
