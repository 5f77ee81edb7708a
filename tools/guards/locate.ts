// Finds a guard's code by behaviour-preserving landmarks rather than exact text: the declaration
// that holds it (`symbol`, searched across the repository's TypeScript with the compiler API, so
// it follows a function to another file) and its `find` compared token by token (the TypeScript
// scanner; whitespace, comments, quote style, trailing commas and grouping parentheses do not
// count), so a formatter or a move does not break a guard. Used by the runner (run.ts, also its --locate mode) and by
// test/unit/guards.test.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

/** What a guard needs to be located: where to look, and what to find there. */
export interface GuardSite {
  id: string;
  /** The declaration holding the guarded code: `name` (function, class, const, interface, type, enum) or `Class.member` / `object.property`. */
  symbol?: string;
  /** The file the guarded code is in: required without `symbol`; with it, only a hint that settles a symbol declared in several files. */
  file?: string;
  find: string;
}

/** Where a guard's `find` was found. */
export interface Located {
  file: string;
  /** Character range of the matched tokens in the file's text (no surrounding whitespace or comments). */
  start: number;
  end: number;
  /** 1-based line of `start`. */
  line: number;
}

/** The source files a guard may be in, read through one door so the runner can use its snapshot. */
export interface Repo {
  /** Every file (relative, forward slashes) whose declarations `symbol` is searched in. */
  sourceFiles(): string[];
  /** The file's text, or undefined if there is no such file. */
  read(file: string): string | undefined;
}

/** Directories whose TypeScript a symbol is searched in. */
export const SOURCE_DIRS = ["provider", "policy", "test", "tools", "examples"];

export function isSourceFile(file: string): boolean {
  return file.endsWith(".ts") && !file.endsWith(".d.ts") && SOURCE_DIRS.includes(file.split("/")[0]);
}

/** The checkout on disk (git's files are not needed: the source directories are walked). */
export function repoOnDisk(root: string): Repo {
  let listed: string[] | undefined;
  const walk = (dir: string, out: string[]): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(rel, out);
      } else if (isSourceFile(rel)) out.push(rel);
    }
  };
  return {
    sourceFiles() {
      if (!listed) {
        listed = [];
        for (const dir of SOURCE_DIRS) if (fs.existsSync(path.join(root, dir))) walk(dir, listed);
        listed.sort();
      }
      return listed;
    },
    read(file) {
      const at = path.join(root, file);
      return fs.existsSync(at) ? fs.readFileSync(at, "utf8") : undefined;
    },
  };
}

/** Files held in memory, by relative path (the runner's snapshot, or a test's fixture). */
export function repoInMemory(files: Map<string, string>): Repo {
  return {
    sourceFiles: () => [...files.keys()].filter(isSourceFile).sort(),
    read: (file) => files.get(file),
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens

export interface Token {
  /** What is compared: the kind and, for literals, the value (so 'a' and "a" are the same token). */
  key: string;
  start: number;
  end: number;
  /** The end of a comma right after this token that was dropped because a closing bracket follows it. */
  commaEnd?: number;
}

const CLOSERS = new Set([ts.SyntaxKind.CloseParenToken, ts.SyntaxKind.CloseBracketToken, ts.SyntaxKind.CloseBraceToken]);

/** Tokens after which a `/` divides; after any other, it opens a regular expression. */
const ENDS_EXPRESSION = new Set([
  ts.SyntaxKind.Identifier,
  ts.SyntaxKind.PrivateIdentifier,
  ts.SyntaxKind.NumericLiteral,
  ts.SyntaxKind.BigIntLiteral,
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.RegularExpressionLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateTail,
  ts.SyntaxKind.CloseParenToken,
  ts.SyntaxKind.CloseBracketToken,
  ts.SyntaxKind.CloseBraceToken,
  ts.SyntaxKind.ThisKeyword,
  ts.SyntaxKind.SuperKeyword,
  ts.SyntaxKind.TrueKeyword,
  ts.SyntaxKind.FalseKeyword,
  ts.SyntaxKind.NullKeyword,
  ts.SyntaxKind.PlusPlusToken,
  ts.SyntaxKind.MinusMinusToken,
]);

/** Whether `file` is TypeScript (token-matched); any other file (PowerShell) is matched by text with free whitespace. */
export function isTypeScript(file: string): boolean {
  return /\.[cm]?tsx?$/.test(file);
}

/** Tokens after which `(` opens a call, a declaration's parameters or a statement's condition, not a grouping. */
const CALLS_AFTER = new Set([
  ts.SyntaxKind.Identifier,
  ts.SyntaxKind.PrivateIdentifier,
  ts.SyntaxKind.CloseParenToken,
  ts.SyntaxKind.CloseBracketToken,
  ts.SyntaxKind.GreaterThanToken,
  ts.SyntaxKind.QuestionDotToken,
  ts.SyntaxKind.TemplateTail,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.IfKeyword,
  ts.SyntaxKind.WhileKeyword,
  ts.SyntaxKind.ForKeyword,
  ts.SyntaxKind.SwitchKeyword,
  ts.SyntaxKind.CatchKeyword,
  ts.SyntaxKind.FunctionKeyword,
  ts.SyntaxKind.ImportKeyword,
  ts.SyntaxKind.SuperKeyword,
  ts.SyntaxKind.ThisKeyword,
  ts.SyntaxKind.WithKeyword,
]);

/** A pair of grouping parentheses left out of the tokens: where each stands (the closing one may lie beyond a fragment). */
interface Group {
  open: number;
  close?: number;
}

interface Scanned {
  tokens: Token[];
  groups: Group[];
}

/**
 * The TypeScript tokens of `text` without whitespace and comments, without a comma that stands
 * right before a closing bracket, and without grouping parentheses (a `(` that does not follow a
 * callee, a declaration's name or `if`/`while`/...; with its `)`), which a formatter adds and
 * removes (`return (a || b);`, `=> (c ? x : y)`). The scanner alone cannot tell a regular
 * expression from a division, nor a template's `}` from a block's: the previous token and a stack
 * of open braces decide, as the parser would for ordinary code. `text` may be a fragment.
 */
function scan(text: string): Scanned {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, /*skipTrivia*/ true, ts.LanguageVariant.Standard, text);
  const raw: Array<Token & { kind: ts.SyntaxKind }> = [];
  const braces: Array<"block" | "template"> = [];
  let previous: ts.SyntaxKind | undefined;
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if ((kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) && (previous === undefined || !ENDS_EXPRESSION.has(previous))) {
      kind = scanner.reScanSlashToken();
    } else if (kind === ts.SyntaxKind.OpenBraceToken) {
      braces.push("block");
    } else if (kind === ts.SyntaxKind.TemplateHead) {
      braces.push("template");
    } else if (kind === ts.SyntaxKind.CloseBraceToken) {
      if (braces.pop() === "template") {
        kind = scanner.reScanTemplateToken(false);
        if (kind === ts.SyntaxKind.TemplateMiddle) braces.push("template");
      }
    }
    let key = String(kind);
    if (kind === ts.SyntaxKind.StringLiteral || kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral) key += `:${scanner.getTokenValue()}`;
    else if (kind === ts.SyntaxKind.Identifier || kind === ts.SyntaxKind.PrivateIdentifier) key += `:${scanner.getTokenValue() ?? scanner.getTokenText()}`;
    else key += `:${scanner.getTokenText()}`;
    raw.push({ kind, key, start: scanner.getTokenStart(), end: scanner.getTokenEnd() });
    previous = kind;
  }
  // Grouping parentheses, paired.
  const dropped = new Set<number>();
  const groups: Group[] = [];
  const open: Array<{ index: number; grouping: boolean }> = [];
  raw.forEach((t, i) => {
    if (t.kind === ts.SyntaxKind.OpenParenToken) {
      const grouping = i === 0 || !CALLS_AFTER.has(raw[i - 1].kind);
      open.push({ index: i, grouping });
      if (grouping) dropped.add(i);
    } else if (t.kind === ts.SyntaxKind.CloseParenToken && open.length > 0) {
      const o = open.pop()!;
      if (o.grouping) {
        dropped.add(i);
        groups.push({ open: raw[o.index].start, close: t.start });
      }
    }
  });
  for (const o of open) if (o.grouping) groups.push({ open: raw[o.index].start });
  const tokens: Token[] = [];
  for (let i = 0; i < raw.length; i++) {
    const { kind, key, start, end } = raw[i];
    if (dropped.has(i)) continue;
    const next = raw.slice(i + 1).find((_, j) => !dropped.has(i + 1 + j));
    if (kind === ts.SyntaxKind.CommaToken && next && CLOSERS.has(next.kind)) {
      if (tokens.length > 0) tokens[tokens.length - 1].commaEnd = end;
    } else tokens.push({ key, start, end });
  }
  return { tokens, groups };
}

/** The tokens `find` and the source are compared by (see scan). */
export function tokenize(text: string): Token[] {
  return scan(text).tokens;
}

const COMMA_KEY = `${ts.SyntaxKind.CommaToken}:,`;

/**
 * Where `find`'s tokens occur in `tokens` (indices of the first and last matched token), within
 * the character range [from, to). A comma ending `find` also matches where the source has none
 * because a closing bracket follows (a formatter's trailing comma).
 */
function tokenMatches({ tokens, groups }: Scanned, find: Token[], from: number, to: number): Array<{ start: number; end: number }> {
  let wanted = find;
  let optionalComma = false;
  if (wanted.length > 1 && wanted[wanted.length - 1].key === COMMA_KEY) {
    wanted = wanted.slice(0, -1);
    optionalComma = true;
  }
  const found: Array<{ start: number; end: number }> = [];
  if (wanted.length === 0) return found;
  for (let i = 0; i + wanted.length <= tokens.length; i++) {
    if (tokens[i].start < from) continue;
    if (tokens[i + wanted.length - 1].end > to) break;
    let j = 0;
    while (j < wanted.length && tokens[i + j].key === wanted[j].key) j++;
    if (j < wanted.length) continue;
    const last = tokens[i + wanted.length - 1];
    const next = tokens[i + wanted.length];
    let end = last.end;
    // The comma `find` ends with is part of the match (and of what `replace` stands for) whether
    // the source keeps it as a token or it was dropped before a closing bracket.
    if (optionalComma && next?.key === COMMA_KEY && next.end <= to) end = next.end;
    else if (optionalComma && last.commaEnd !== undefined && last.commaEnd <= to) end = last.commaEnd;
    found.push(balanced(groups, tokens[i].start, end));
    i += wanted.length - 1;
  }
  return found;
}

/** [start, end) widened so that it holds both or neither of each pair of grouping parentheses: replacing it leaves them balanced. */
function balanced(groups: Group[], start: number, end: number): { start: number; end: number } {
  for (let changed = true; changed;) {
    changed = false;
    for (const g of groups) {
      if (g.close === undefined) continue;
      const openIn = g.open >= start && g.open < end;
      const closeIn = g.close >= start && g.close < end;
      if (openIn && !closeIn) {
        end = g.close + 1;
        changed = true;
      } else if (closeIn && !openIn) {
        start = g.open;
        changed = true;
      }
    }
  }
  return { start, end };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** For files that are not TypeScript: `find` as text, any run of whitespace in it matching any other (leading and trailing ignored). */
function textMatches(text: string, find: string, from: number, to: number): Array<{ start: number; end: number }> {
  const words = find.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const pattern = new RegExp(words.map(escapeRegExp).join("\\s+"), "g");
  const found: Array<{ start: number; end: number }> = [];
  pattern.lastIndex = from;
  for (let m = pattern.exec(text); m && m.index + m[0].length <= to; m = pattern.exec(text)) found.push({ start: m.index, end: m.index + m[0].length });
  return found;
}

// ---------------------------------------------------------------------------------------------
// Declarations

export interface Declaration {
  name: string;
  file: string;
  start: number;
  end: number;
}

function propertyName(name: ts.PropertyName | ts.BindingName | undefined, file: ts.SourceFile): string | undefined {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name)) return `[${name.expression.getText(file)}]`;
  return undefined;
}

function objectLiteralOf(expression: ts.Expression | undefined): ts.ObjectLiteralExpression | undefined {
  let e = expression;
  while (e && (ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isParenthesizedExpression(e))) e = e.expression;
  return e && ts.isObjectLiteralExpression(e) ? e : undefined;
}

/**
 * The named declarations of one file: module-level functions, classes, variables, interfaces,
 * types and enums by name, class members as `Class.member`, and the members of a module-level
 * object literal as `name.member`. A declaration's range is its whole statement (with `export`).
 */
export function declarationsOf(file: string, text: string): Declaration[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Declaration[] = [];
  const add = (name: string | undefined, node: ts.Node) => {
    if (name) out.push({ name, file, start: node.getStart(source), end: node.getEnd() });
  };
  const members = (owner: string, list: readonly ts.Node[]) => {
    for (const m of list) {
      if (ts.isConstructorDeclaration(m)) add(`${owner}.constructor`, m);
      else if (
        ts.isMethodDeclaration(m) ||
        ts.isPropertyDeclaration(m) ||
        ts.isGetAccessor(m) ||
        ts.isSetAccessor(m) ||
        ts.isPropertyAssignment(m) ||
        ts.isShorthandPropertyAssignment(m)
      ) {
        const name = propertyName(m.name, source);
        if (name) add(`${owner}.${name}`, m);
      }
    }
  };
  for (const statement of source.statements) {
    if (
      ts.isFunctionDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isEnumDeclaration(statement)
    ) {
      add(statement.name?.text, statement);
    } else if (ts.isClassDeclaration(statement) && statement.name) {
      add(statement.name.text, statement);
      members(statement.name.text, statement.members);
    } else if (ts.isVariableStatement(statement)) {
      const list = statement.declarationList.declarations;
      for (const d of list) {
        if (!ts.isIdentifier(d.name)) continue;
        add(d.name.text, list.length === 1 ? statement : d);
        const object = objectLiteralOf(d.initializer);
        if (object) members(d.name.text, object.properties);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Locating

/** Parses each file once; tokens and declarations are computed when first asked for. */
export class Locator {
  private readonly tokenCache = new Map<string, Scanned>();
  private declarationCache?: Map<string, Declaration[]>;
  private readonly fileDeclarations = new Map<string, Declaration[]>();

  constructor(readonly repo: Repo) {}

  private scanned(file: string): Scanned {
    let scanned = this.tokenCache.get(file);
    if (!scanned) {
      scanned = scan(this.text(file));
      this.tokenCache.set(file, scanned);
    }
    return scanned;
  }

  text(file: string): string {
    const text = this.repo.read(file);
    if (text === undefined) throw new Error(`no file ${file}`);
    return text;
  }

  /** The named declarations of one file. */
  declarationsIn(file: string): Declaration[] {
    let found = this.fileDeclarations.get(file);
    if (!found) {
      found = isTypeScript(file) ? declarationsOf(file, this.text(file)) : [];
      this.fileDeclarations.set(file, found);
    }
    return found;
  }

  /** Every declaration named `name` in the repository's source files. */
  declarations(name: string): Declaration[] {
    if (!this.declarationCache) {
      this.declarationCache = new Map();
      for (const file of this.repo.sourceFiles()) {
        for (const d of this.declarationsIn(file)) this.declarationCache.set(d.name, [...(this.declarationCache.get(d.name) ?? []), d]);
      }
    }
    return this.declarationCache.get(name) ?? [];
  }

  /** Occurrences of `find` in `file` within [from, to). */
  matches(file: string, find: string, from = 0, to = Infinity): Array<{ start: number; end: number }> {
    if (!isTypeScript(file)) return textMatches(this.text(file), find, from, to);
    return tokenMatches(this.scanned(file), tokenize(find), from, to);
  }

  /**
   * Where the guard's code is: exactly one occurrence of its `find`, within the declarations
   * named `symbol` (wherever they are; `file` settles one declared in several files) or, without
   * a symbol, within `file`. Throws, saying why, when there is none or more than one.
   */
  locate(site: GuardSite): Located {
    const describe = JSON.stringify(site.find);
    let found: Array<{ file: string; start: number; end: number }> = [];
    let where: string;
    if (site.symbol) {
      const candidates = this.declarations(site.symbol);
      if (candidates.length === 0) throw new Error(`guard ${site.id}: no declaration named ${site.symbol} in ${SOURCE_DIRS.join("/, ")}/`);
      const seen = new Set<string>();
      for (const d of candidates) {
        for (const m of this.matches(d.file, site.find, d.start, d.end)) {
          const key = `${d.file}:${m.start}`;
          if (!seen.has(key)) found.push({ file: d.file, ...m });
          seen.add(key);
        }
      }
      where = `${site.symbol} (${[...new Set(candidates.map((d) => d.file))].join(", ")})`;
      if (found.length > 1 && site.file && found.some((f) => f.file === site.file)) {
        found = found.filter((f) => f.file === site.file);
        where = `${site.symbol} in ${site.file}`;
      }
    } else {
      if (!site.file) throw new Error(`guard ${site.id}: names neither a symbol nor a file`);
      if (this.repo.read(site.file) === undefined) throw new Error(`guard ${site.id}: no file ${site.file}`);
      found = this.matches(site.file, site.find).map((m) => ({ file: site.file!, ...m }));
      where = site.file;
    }
    if (found.length !== 1) {
      const at = found.map((f) => `${f.file}:${lineOf(this.text(f.file), f.start)}`).join(", ");
      throw new Error(
        found.length === 0
          ? `guard ${site.id}: its code is not in ${where}: ${describe}`
          : `guard ${site.id}: its code occurs ${found.length} times in ${where} (must be exactly once; at ${at}): ${describe}`,
      );
    }
    const [only] = found;
    return { ...only, line: lineOf(this.text(only.file), only.start) };
  }

  /** The guard's file with its matched code replaced by `replace`; throws as `locate` does, or if nothing changes. */
  remove(site: GuardSite & { replace: string }): { file: string; before: string; after: string; at: Located } {
    const at = this.locate(site);
    const before = this.text(at.file);
    const after = before.slice(0, at.start) + site.replace + before.slice(at.end);
    if (after === before) throw new Error(`guard ${site.id}: the replacement changes nothing`);
    return { file: at.file, before, after, at };
  }
}

export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** The innermost named declaration of `file` whose range holds [start, end), if any. */
export function innermostDeclaration(locator: Locator, file: string, start: number, end: number): Declaration | undefined {
  let best: Declaration | undefined;
  for (const d of locator.declarationsIn(file)) {
    if (d.start <= start && end <= d.end && (!best || d.end - d.start < best.end - best.start)) best = d;
  }
  return best;
}
