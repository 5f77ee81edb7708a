// Parsing for the interpreter: tree-sitter-powershell (the grammar test/unit/scripts.test.ts
// already checks the scripts with) turns a script's text into a tree, which is copied once into
// plain objects (tree-sitter's nodes live in WebAssembly memory and are slow to walk) and cached
// per text: the tests run the same scripts thousands of times.
//
// The grammar nests every expression in its whole precedence chain (logical > bitwise >
// comparison > additive > ... > unary); a link of that chain with a single child stands for that
// child and is dropped here. Comments are dropped. Syntax errors are refused with the line; the
// PowerShell 7 operators the grammar does not know (??, ??=, ?., ?[], a ? b : c) come out as
// syntax errors and are named as PowerShell 7 only; && and || (which it parses) are refused here.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Language, Node as TSNode, Parser } from "web-tree-sitter";

/** A node of the copied tree. */
export interface Ast {
  type: string;
  /** The node's source text. */
  text: string;
  /** Named children, in order. */
  kids: Ast[];
  /** Every child, punctuation included (anonymous tokens have named false). */
  all: Ast[];
  named: boolean;
  /** 1-based line and column of its start. */
  line: number;
  col: number;
  /** UTF-16 offsets of its start and end in the script text. */
  start: number;
  end: number;
}

/** A construct the interpreter does not implement, or that Windows PowerShell 5.1 does not have. */
export class InterpreterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterpreterError";
  }
}

/** "not implemented: <what> at line N": the interpreter's refusal of anything it does not know. */
export function notImplemented(what: string, node?: { line: number }): InterpreterError {
  return new InterpreterError(`not implemented: ${what}${node ? ` at line ${node.line}` : ""}`);
}

/** A PowerShell 7 construct, which Windows PowerShell 5.1 does not have. */
export function powershell7Only(what: string, node?: { line: number }): InterpreterError {
  return new InterpreterError(`${what} is PowerShell 7 only (Windows PowerShell 5.1 has no such construct)${node ? ` at line ${node.line}` : ""}`);
}

// The precedence links that stand for their only child. The *_argument_expression links are the
// same chain inside a method call's argument list.
const PASS_THROUGH = new Set([
  "logical_expression",
  "bitwise_expression",
  "comparison_expression",
  "additive_expression",
  "multiplicative_expression",
  "format_expression",
  "range_expression",
  "array_literal_expression",
  "unary_expression",
  "expression_with_unary_operator",
  "left_assignment_expression",
  "argument_expression",
  "logical_argument_expression",
  "bitwise_argument_expression",
  "comparison_argument_expression",
  "additive_argument_expression",
  "multiplicative_argument_expression",
  "format_argument_expression",
  "range_argument_expression",
  "key_expression",
  "member_name",
  "command_name_expr",
]);
// The argument-list variants are the same operators.
const RENAME: Record<string, string> = {
  logical_argument_expression: "logical_expression",
  bitwise_argument_expression: "bitwise_expression",
  comparison_argument_expression: "comparison_expression",
  additive_argument_expression: "additive_expression",
  multiplicative_argument_expression: "multiplicative_expression",
  format_argument_expression: "format_expression",
  range_argument_expression: "range_expression",
};

function copy(n: TSNode): Ast {
  const all: Ast[] = [];
  for (const c of n.children) {
    if (!c || c.type === "comment") continue;
    all.push(copy(c));
  }
  const kids = all.filter((k) => k.named);
  if (n.isNamed && PASS_THROUGH.has(n.type) && all.length === 1 && kids.length === 1) return kids[0];
  return {
    type: RENAME[n.type] ?? n.type,
    text: n.text,
    kids,
    all,
    named: n.isNamed,
    line: n.startPosition.row + 1,
    col: n.startPosition.column + 1,
    start: n.startIndex,
    end: n.endIndex,
  };
}

let parser: Parser | undefined;
let loading: Promise<Parser> | undefined;

/** Loads the grammar once per process. */
export async function initParser(): Promise<void> {
  if (parser) return;
  loading ??= (async () => {
    await Parser.init();
    const p = new Parser();
    const wasm = require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm");
    p.setLanguage(await Language.load(fs.readFileSync(wasm)));
    return p;
  })();
  parser = await loading;
}

const cache = new Map<string, Ast>();

let treeDir: string | undefined;

/**
 * Keeps parsed trees on disk as well, in `dir`, by the SHA-256 of their text: for a host that
 * starts a process per run (the sshd forced command), where parsing would cost more than the run.
 * A tree that cannot be read or written there is parsed again; nothing fails for the cache.
 */
export function keepTreesIn(dir: string): void {
  treeDir = dir;
}

/** A tree as compact JSON: [type, named, line, col, start, end, children, text if not the source's slice]. */
type StoredTree = [string, 0 | 1, number, number, number, number, StoredTree[], string?];

function store(n: Ast, source: string): StoredTree {
  const stored: StoredTree = [n.type, n.named ? 1 : 0, n.line, n.col, n.start, n.end, n.all.map((k) => store(k, source))];
  if (source.slice(n.start, n.end) !== n.text) stored.push(n.text);
  return stored;
}

function revive(s: StoredTree, source: string): Ast {
  const all = s[6].map((k) => revive(k, source));
  return { type: s[0], text: s[7] ?? source.slice(s[4], s[5]), kids: all.filter((k) => k.named), all, named: s[1] === 1, line: s[2], col: s[3], start: s[4], end: s[5] };
}

function storedTreeFile(text: string, dir = treeDir): string | undefined {
  return dir && path.join(dir, `${crypto.createHash("sha256").update(text, "utf8").digest("hex")}.json`);
}

function readStoredTree(text: string): Ast | undefined {
  const file = storedTreeFile(text);
  if (!file || !fs.existsSync(file)) return undefined;
  try {
    return revive(JSON.parse(fs.readFileSync(file, "utf8")) as StoredTree, text);
  } catch {
    return undefined;
  }
}

function writeStoredTree(text: string, ast: Ast, dir = treeDir): void {
  const file = storedTreeFile(text, dir);
  if (!file) return;
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(store(ast, text)));
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Parses each text (initParser() must have run) and writes its tree into `dir`, for the hosts
 * that keep their trees there (keepTreesIn): they then never load the grammar's parser.
 */
export function storeTrees(dir: string, texts: string[]): void {
  for (const text of texts) writeStoredTree(text, parseScript(text), dir);
}

/** The tree of a script; parsed once per text. initParser() must have run (unless the tree is kept on disk). */
export function parseScript(text: string): Ast {
  const found = cache.get(text);
  if (found) return found;
  const stored = readStoredTree(text);
  if (stored) {
    cache.set(text, stored);
    return stored;
  }
  if (!parser) throw new InterpreterError("the parser is not initialised: await initParser() first");
  const tree = parser.parse(text);
  if (!tree) throw new InterpreterError("tree-sitter-powershell returned no tree");
  try {
    refuseErrors(tree.rootNode, text);
    const ast = copy(tree.rootNode);
    refuseChains(ast);
    cache.set(text, ast);
    writeStoredTree(text, ast);
    return ast;
  } finally {
    tree.delete();
  }
}

function refuseErrors(root: TSNode, text: string): void {
  const err = firstError(root);
  if (!err) return;
  const line = err.startPosition.row + 1;
  // What the grammar could not parse, and the source from there to the end of its line.
  const lineText = text.split("\n")[err.startPosition.row] ?? "";
  const near = err.text + " " + lineText.slice(err.startPosition.column);
  const at = { line };
  if (/\?\?=/.test(near)) throw powershell7Only("the null-coalescing assignment operator ??=", at);
  if (/\?\?/.test(near)) throw powershell7Only("the null-coalescing operator ??", at);
  if (/^\?\s*[.[]/.test(err.text.trim()) || /\?\.[A-Za-z_]|\?\[/.test(lineText)) throw powershell7Only("the null-conditional member access ?. or ?[]", at);
  if (/(^|\s)\?\s/.test(near) && /\s:\s/.test(lineText)) throw powershell7Only("the ternary operator a ? b : c", at);
  throw new InterpreterError(`syntax error at line ${line}: ${lineText.trim()}`);
}

function firstError(node: TSNode): TSNode | undefined {
  if (node.type === "ERROR" || node.isMissing) return node;
  if (!node.hasError) return undefined;
  for (const child of node.children) {
    const found = child && firstError(child);
    if (found) return found;
  }
  return undefined;
}

function refuseChains(n: Ast): void {
  if (n.type === "pipeline_chain_tail") throw powershell7Only(`the pipeline chain operator ${n.text}`, n);
  for (const k of n.all) refuseChains(k);
}
