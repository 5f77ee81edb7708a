// The provider's layers import in one direction: domain, errors and the engine's diagnostics
// channel (engineLog) at the bottom, transports on them, the host protocol on the transports,
// operations on the host, the resource on top. Read from the sources' import statements;
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
  operations: ["host", "transport", "domain", "errors", "engineLog"],
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

/** Relative imports of a source file, resolved to files. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from|import|require)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return specifiers.map((s) => path.resolve(path.dirname(file), s) + ".ts");
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

  it("can tell an import against the direction (a transport using the host protocol)", () => {
    const ssh = path.join(PROVIDER, "transport", "ssh.ts");
    const bad = new Map(graph);
    bad.set(ssh, [...graph.get(ssh)!, path.join(PROVIDER, "host", "protocol.ts")]);
    assert.deepEqual(violations(bad), ["transport/ssh.ts -> host/protocol.ts"]);
  });
});
