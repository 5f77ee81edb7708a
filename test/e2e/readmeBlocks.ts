// Reads the code blocks README.md marks for test/e2e/readme.test.ts: an HTML comment
// `<!-- readme-test: <label> -->` right before a fenced block (a reader of the rendered page does
// not see it). `<!-- readme-test: file <name> -->` marks a file to write into the project; any
// other label marks shell commands to run, as written, under that label.
import * as fs from "node:fs";
import * as path from "node:path";

export type ReadmeBlock =
  | { kind: "file"; name: string; text: string; line: number }
  | { kind: "run"; label: string; script: string; line: number };

const MARKER = /^<!-- readme-test: (.+?) -->$/;
/** A fence opening a block, possibly indented (a block inside a list item): its indentation and language. */
const FENCE = /^(\s*)```([\w-]*)\s*$/;

/** The marked blocks of a Markdown text, in document order; throws where a marker is not followed by a fenced block. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split("\n");
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i].trim());
    if (!marker) continue;
    const open = FENCE.exec(lines[i + 1] ?? "");
    if (!open) throw new Error(`README.md line ${i + 1}: "${lines[i].trim()}" must be followed at once by a fenced code block`);
    const indent = open[1];
    const close = lines.findIndex((l, j) => j > i + 1 && l.trim() === "```");
    if (close < 0) throw new Error(`README.md line ${i + 2}: the code block is not closed`);
    const text = lines.slice(i + 2, close).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart())).join("\n") + "\n";
    const [label, ...rest] = marker[1].split(/\s+/);
    if (label === "file") {
      if (rest.length !== 1) throw new Error(`README.md line ${i + 1}: "readme-test: file" takes one file name`);
      blocks.push({ kind: "file", name: rest[0], text, line: i + 3 });
    } else {
      if (rest.length !== 0 || open[2] !== "sh") throw new Error(`README.md line ${i + 1}: a "readme-test: ${label}" block is one label before a \`\`\`sh block`);
      blocks.push({ kind: "run", label, script: text, line: i + 3 });
    }
    i = close;
  }
  return blocks;
}

/** The names a block of `export NAME=...` lines sets. */
export function exportedNames(script: string): string[] {
  return [...script.matchAll(/^export ([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]);
}

/** The blocks of README.md at the repository's root, read now (never a copy). */
export function readmeBlocksOf(repoRoot: string): ReadmeBlock[] {
  return readmeBlocks(fs.readFileSync(path.join(repoRoot, "README.md"), "utf8"));
}
