// The guard locator (tools/guards/locate.ts) finds a guard's code by the declaration that holds it
// and by tokens: it still finds it after a formatter rewrites the layout or the declaration moves
// to another file, and it refuses, saying why, code that is missing or not unique.
import assert from "node:assert/strict";
import { Locator, repoInMemory, tokenize } from "../../tools/guards/locate";

const ORIGINAL = `// Checks a host.
export function checkHost(host: string, options: { strict: boolean }): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9.-]+$/i.test(host)) problems.push(\`host \${host} is not a name\`);
  if (options.strict && host.length > 253) problems.push("too long");
  return problems;
}

export function other(): number {
  return 1;
}
`;

/** ORIGINAL as a formatter with other settings might leave it: line breaks, indent, trailing commas, quotes, a comment. */
const REFORMATTED = `// Checks a host.
export function checkHost(
    host: string,
    options: {
        strict: boolean,
    },
): string[] {
    const problems: string[] = [];
    if (!/^[a-z0-9.-]+$/i.test(host))
        problems.push(\`host \${host} is not a name\`);
    if (
        options.strict && // only when asked
        host.length > 253
    )
        problems.push('too long');
    return problems;
}

export function other(): number { return 1; }
`;

const guard = {
  id: "host-length",
  symbol: "checkHost",
  file: "provider/check.ts",
  find: 'if (options.strict && host.length > 253) problems.push("too long");',
  replace: "",
};

function locator(files: Record<string, string>): Locator {
  return new Locator(repoInMemory(new Map(Object.entries(files))));
}

describe("guard locator", () => {
  it("finds a guard's code by its declaration, and replaces exactly the matched tokens", () => {
    const l = locator({ "provider/check.ts": ORIGINAL });
    const at = l.locate(guard);
    assert.equal(at.file, "provider/check.ts");
    assert.equal(at.line, 5);
    const { after } = l.remove({ ...guard, find: "host.length > 253", replace: "host.length > 999" });
    assert.equal(after, ORIGINAL.replace("253", "999"));
  });

  it("still finds it after reformatting: other line breaks and indent, trailing commas, quote style, a comment between tokens", () => {
    const l = locator({ "provider/check.ts": REFORMATTED });
    assert.equal(l.locate(guard).line, 11);
    // A find written in the original layout that spans a regular expression and a template.
    const regex = { ...guard, find: "if (!/^[a-z0-9.-]+$/i.test(host)) problems.push(`host ${host} is not a name`);" };
    assert.equal(l.locate(regex).line, 9);
    // A find written with the trailing comma the source now lacks, and one without the comma the source now has.
    assert.equal(l.locate({ ...guard, find: "checkHost(host: string, options: { strict: boolean, })" }).line, 2);
    assert.equal(l.locate({ ...guard, find: "{ strict: boolean }" }).line, 4);
  });

  it("replaces a find ending in a comma together with the source's trailing comma, so no comma is doubled", () => {
    const source = `export const settings = {\n  verify: !pinned && !skip,\n};\n`;
    const l = locator({ "provider/tls.ts": source });
    const { after } = l.remove({ id: "tls", symbol: "settings", find: "verify: !pinned && !skip,", replace: "verify: false," });
    assert.equal(after, `export const settings = {\n  verify: false,\n};\n`);
  });

  it("leaves out grouping parentheses a formatter adds or removes, and keeps the replaced range balanced", () => {
    const before = `export const own = (r: R) => (r.ours ? r.record : undefined);\nexport function judge(a: boolean, b: boolean) {\n  return a || b;\n}\n`;
    const after = `export const own = (r: R) =>\n  r.ours ? r.record : undefined;\nexport function judge(a: boolean, b: boolean) {\n  return (\n    a ||\n    b\n  );\n}\n`;
    for (const [text, line] of [[before, 1], [after, 2]] as const) {
      const l = locator({ "provider/o.ts": text });
      assert.equal(l.locate({ id: "o", symbol: "own", find: "(r.ours ? r.record : undefined)" }).line, line);
      // Replacing `return a || b` (no semicolon) takes the formatter's parentheses along.
      const { after: mutated } = l.remove({ id: "j", symbol: "judge", find: "return a || b", replace: "return a" });
      assert.match(mutated, /return a;\n\}/);
    }
    // A call's parentheses still count.
    assert.throws(() => locator({ "provider/o.ts": before }).locate({ id: "c", symbol: "judge", find: "return a() || b" }), /not in judge/);
  });

  it("follows the declaration to another file (the guard's file is then only a stale hint)", () => {
    const moved = ORIGINAL.replace("export function other", "function other");
    const l = locator({ "provider/check.ts": "export { checkHost } from './checks/host';\n", "provider/checks/host.ts": moved });
    const at = l.locate(guard);
    assert.equal(at.file, "provider/checks/host.ts");
    assert.equal(at.line, 5);
  });

  it("names class members as Class.member and object literal members as object.member", () => {
    const source = `export class Session {\n  unseal(x: number) {\n    if (x > 1) throw new Error("bad");\n  }\n}\nexport const rules = {\n  check(x: number) {\n    if (x > 1) throw new Error("bad");\n  },\n};\n`;
    const l = locator({ "provider/s.ts": source });
    const find = 'if (x > 1) throw new Error("bad");';
    assert.equal(l.locate({ id: "a", symbol: "Session.unseal", find }).line, 3);
    assert.equal(l.locate({ id: "b", symbol: "rules.check", find }).line, 8);
    // Without a symbol the file holds it twice.
    assert.throws(() => l.locate({ id: "c", file: "provider/s.ts", find }), /guard c: its code occurs 2 times in provider\/s\.ts .*provider\/s\.ts:3, provider\/s\.ts:8/);
  });

  it("refuses code found twice within the symbol, or in same-named declarations of files the hint does not settle", () => {
    const twice = ORIGINAL.replace("return problems;", 'if (options.strict && host.length > 253) problems.push("too long");\n  return problems;');
    assert.throws(() => locator({ "provider/check.ts": twice }).locate(guard), /guard host-length: its code occurs 2 times in checkHost .*must be exactly once/);
    const files = { "provider/a.ts": ORIGINAL, "provider/b.ts": ORIGINAL };
    assert.throws(() => locator(files).locate({ ...guard, file: undefined }), /occurs 2 times in checkHost \(provider\/a\.ts, provider\/b\.ts\)/);
    assert.equal(locator(files).locate({ ...guard, file: "provider/b.ts" }).file, "provider/b.ts");
  });

  it("refuses code that is missing, a symbol that is not declared, a file that is not there", () => {
    const l = locator({ "provider/check.ts": ORIGINAL });
    assert.throws(() => l.locate({ ...guard, find: "host.length > 254" }), /guard host-length: its code is not in checkHost \(provider\/check\.ts\): "host\.length > 254"/);
    // The code is in the file, but not in the declaration named.
    assert.throws(() => l.locate({ ...guard, symbol: "other" }), /its code is not in other/);
    assert.throws(() => l.locate({ ...guard, symbol: "checkHostname" }), /no declaration named checkHostname/);
    assert.throws(() => l.locate({ id: "x", file: "provider/gone.ts", find: "x" }), /no file provider\/gone\.ts/);
    assert.throws(() => l.remove({ ...guard, replace: guard.find }), /the replacement changes nothing/);
  });

  it("matches a script that is not TypeScript by its text, any whitespace matching any other", () => {
    const script = "if ($mode -ne 'FullLanguage') {\n    throw 'constrained'\n}\n";
    const l = locator({ "provider/scripts/boot.ps1": script });
    assert.equal(l.locate({ id: "ps", file: "provider/scripts/boot.ps1", find: "if ($mode  -ne\n'FullLanguage')" }).line, 1);
    assert.throws(() => l.locate({ id: "ps", file: "provider/scripts/boot.ps1", find: "-ne 'Full'" }), /not in provider\/scripts\/boot\.ps1/);
  });

  it("tokenizes without whitespace, comments or a trailing comma, and a string by its value", () => {
    const keys = (text: string) => tokenize(text).map((t) => t.key);
    assert.deepEqual(keys("f(a, 'b',)"), keys('f(a, /* c */ "b")'));
    assert.notDeepEqual(keys("f(a, b)"), keys("f(a)"));
    assert.deepEqual(keys("x = `a${b}c` / 2"), keys("x =\n  `a${b}c` /\n  2"));
  });
});
