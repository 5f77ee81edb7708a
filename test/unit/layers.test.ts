// The provider's layers import in one direction: domain, errors and the engine's diagnostics
// channel (engineLog) at the bottom, transports on them, the host protocol on the transports, an
// operation's plan on the host, operations on both, the resource on top; and no module imports
// itself back through others (no cycle, type-only imports included), within a layer as across.
// Read from the sources' import statements;
// CONTRIBUTING.md (Layout) describes the same graph.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../e2e/pulumiCli";

const PROVIDER = path.join(REPO_ROOT, "provider");

/** The layer of a file under provider/, by its path. */
function layerOf(file: string): string {
  const rel = path.relative(PROVIDER, file).split(path.sep);
  return rel.length > 1 ? rel[0] : rel[0].replace(/\.ts$/, "");
}

/** What each layer may import (besides itself and packages). */
const ALLOWED: Record<string, string[]> = {
  errors: [],
  engineLog: [],
  domain: [],
  types: [],
  transport: ["domain", "errors", "types"],
  host: ["transport", "domain", "errors"],
  plan: ["host", "domain"],
  operations: ["plan", "host", "transport", "domain", "errors", "engineLog"],
  dynamicProvider: ["domain"],
  secrets: ["domain"],
  resource: ["dynamicProvider", "domain", "secrets"],
  plugin: ["operations", "domain", "errors", "engineLog"],
  sdk: ["resource", "domain", "secrets"],
  index: ["resource", "sdk", "domain", "errors", "dynamicProvider"],
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith(".ts") ? [full] : [];
  });
}

/** Relative imports of a source file (`import type` and `export ... from` included), resolved to files. */
function importsOf(file: string): string[] {
  return importsOfText(file, fs.readFileSync(file, "utf8"));
}

function importsOfText(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from|import|require)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return specifiers.map((s) => path.resolve(path.dirname(file), s) + ".ts");
}

/** Every cycle of the import graph, each as its files in import order, the first repeated at the end (depth-first search). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (file: string): void => {
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (onStack.has(target)) found.push([...stack.slice(stack.indexOf(target)), target].map((f) => path.relative(PROVIDER, f)));
      else if (!done.has(target)) visit(target);
    }
    stack.pop();
    onStack.delete(file);
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) if (!done.has(file)) visit(file);
  return found;
}

/** Every import that goes against the allowed direction, as "from -> to". */
function violations(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    assert.ok(from in ALLOWED, `provider/${path.relative(PROVIDER, file)} is in no known layer (${from})`);
    for (const target of imports) {
      const to = layerOf(target);
      if (to !== from && !ALLOWED[from].includes(to)) found.push(`${path.relative(PROVIDER, file)} -> ${path.relative(PROVIDER, target)}`);
    }
  }
  return found;
}

describe("the provider's layers", () => {
  const graph = new Map(sources(PROVIDER).map((f) => [f, importsOf(f)]));

  it("import in one direction: domain and errors <- transport <- host <- operations <- resource", () => {
    assert.ok(graph.size > 15, `${graph.size} files`);
    for (const imports of graph.values()) for (const target of imports) assert.ok(fs.existsSync(target), `${target} exists`);
    assert.deepEqual(violations(graph), []);
  });

  it("hold no import cycle: no module imports itself back through others, type imports included", () => {
    assert.deepEqual(cycles(graph), []);
  });

  it("can tell a cycle, a type-only import closing it (the settings' shapes imported back from policy.ts)", () => {
    const settings = path.join(PROVIDER, "domain", "settings.ts");
    const policy = path.join(PROVIDER, "domain", "policy.ts");
    assert.ok(graph.get(policy)!.includes(settings), "policy.ts imports settings.ts");
    const bad = new Map(graph);
    bad.set(settings, [...graph.get(settings)!, policy]);
    const found = cycles(bad);
    assert.ok(found.some((c) => c.includes("domain/settings.ts") && c.includes("domain/policy.ts")), JSON.stringify(found));
    const typeOnly = 'import type { PolicyOutputs } from "./policy";\n';
    assert.deepEqual(importsOfText(settings, typeOnly), [policy]);
  });

  it("can tell an import against the direction (a transport using the host protocol)", () => {
    const ssh = path.join(PROVIDER, "transport", "ssh.ts");
    const bad = new Map(graph);
    bad.set(ssh, [...graph.get(ssh)!, path.join(PROVIDER, "host", "protocol.ts")]);
    assert.deepEqual(violations(bad), ["transport/ssh.ts -> host/protocol.ts"]);
  });
});
