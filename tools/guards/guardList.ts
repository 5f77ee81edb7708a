// The guard list (tools/guards/guards.json): each security or integrity check in provider/, where
// its code is (the declaration holding it, and its tokens), the code that removes it, and the
// tests that must fail without it. Read by the runner (run.ts) and by the unit test that keeps
// the list, the sources and docs/guards.md agreeing; locate.ts finds each guard's code.
import * as fs from "node:fs";
import * as path from "node:path";
import { GuardSite, Located, Locator, Repo, repoOnDisk } from "./locate";

export interface GuardTest {
  /** The compiled test file, relative to the checkout: dist/test/.../x.test.js. */
  file: string;
  /** The test's full title as mocha reports it (`fullTitle`): its suites' names and its own, joined by spaces. */
  name: string;
}

export interface Guard extends GuardSite {
  id: string;
  description: string;
  /**
   * The declaration holding the guarded code (`fn`, `Class.method`, `CONST`, `object.member`),
   * searched in every source file, so the guard follows it to another file.
   */
  symbol?: string;
  /** The source file, relative to the checkout: without `symbol` where to look; with it, a hint. */
  file?: string;
  /**
   * The code the guard is, matched by TypeScript tokens (whitespace, comments, quote style and a
   * trailing comma before a closing bracket do not count; in a PowerShell script, by text with
   * any whitespace): it must occur exactly once in the symbol (or file). Replacing the matched
   * code with `replace` removes the guard.
   */
  find: string;
  replace: string;
  /** Each of these must fail once the guard is removed. */
  tests: GuardTest[];
}

/** The checkout: this module runs as dist/tools/guards/guardList.js. */
import { REPO_ROOT } from "../repoRoot";
export { REPO_ROOT };
export const GUARDS_FILE = path.join("tools", "guards", "guards.json");

export function loadGuards(root: string = REPO_ROOT): Guard[] {
  return (JSON.parse(fs.readFileSync(path.join(root, GUARDS_FILE), "utf8")) as { guards: Guard[] }).guards;
}

/** The source of a compiled test file: dist/test/unit/x.test.js -> test/unit/x.test.ts. */
export function testSource(compiled: string): string {
  return compiled.replace(/^dist\//, "").replace(/\.js$/, ".ts");
}

export interface Resolved {
  guard: Guard;
  /** Where its code is, or why it could not be placed uniquely. */
  at?: Located;
  error?: string;
}

/**
 * Every guard located (a dry run of the guard check: no copy, no build): each must resolve to
 * exactly one place, and its replacement must change the file. Shared by `run.js --locate` and
 * test/unit/guards.test.ts.
 */
export function locateAll(guards: Guard[], repo: Repo = repoOnDisk(REPO_ROOT)): Resolved[] {
  const locator = new Locator(repo);
  return guards.map((guard) => {
    try {
      return { guard, at: locator.remove(guard).at };
    } catch (err) {
      return { guard, error: (err as Error).message };
    }
  });
}
