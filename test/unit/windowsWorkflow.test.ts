// .github/workflows/windows.yml never runs here (no Windows): what can be checked without it is
// that the files its steps run exist, and that the real-host experiment job keeps its rules: no
// PowerShell but the reviewed static files under test/windows/, no expression spliced into a
// command line, and its label saying that this repository's CI does not run it.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/repoRoot";

const WORKFLOW = ".github/workflows/windows.yml";
const text = fs.readFileSync(path.join(REPO_ROOT, WORKFLOW), "utf8");

/** A job's lines: from `  <id>:` to the next job or the end. */
function job(id: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(`  ${id}:`);
  assert.ok(start >= 0, `${WORKFLOW} has no job ${id}`);
  const end = lines.findIndex((line, i) => i > start && /^ {2}[A-Za-z][\w-]*:\s*$/.test(line));
  return lines.slice(start, end < 0 ? undefined : end);
}

const toPath = (p: string) => p.replace(/\\/g, "/");

describe(`${WORKFLOW} (never run here)`, () => {
  it("runs only PowerShell files and compiled entries that exist", () => {
    const files = [...text.matchAll(/-File (\S+\.ps1)/g)].map((m) => toPath(m[1]));
    const entries = [...text.matchAll(/node (dist[\\/]test[\\/]windows[\\/]\S+)\.js/g)].map((m) => toPath(m[1]).replace(/^dist\//, "") + ".ts");
    assert.ok(files.length > 0 && entries.length > 0);
    for (const f of [...files, ...entries]) assert.ok(fs.existsSync(path.join(REPO_ROOT, f)), `${WORKFLOW} runs ${f}, which does not exist`);
  });

  it("real-host-experiment: labelled as not run by this repository's CI; PowerShell only as reviewed files under test/windows/, no expression in a command", () => {
    const lines = job("real-host-experiment");
    assert.match(lines.find((l) => /^ {4}name:/.test(l)) ?? "", /not run by this repository's CI/);
    assert.ok(!lines.some((l) => /shell:\s*(powershell|pwsh)\b/.test(l)), "a step runs PowerShell source written into the workflow");
    const commands = lines.filter((l) => /^\s+(run:|call |node |powershell)/.test(l));
    assert.ok(commands.length > 0);
    for (const c of commands) {
      assert.ok(!c.includes("${{"), `an expression spliced into a command: ${c.trim()}`);
      if (/powershell/i.test(c)) assert.match(c, /powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File test\\windows\\\S+\.ps1( |$)/, c.trim());
    }
  });
});
