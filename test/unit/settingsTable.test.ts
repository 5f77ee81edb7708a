// One truth for the settings: smb-signing.ps1 keeps its own lists (a static script cannot import
// the settings table), so this test reads them with the PowerShell grammar and fails when its
// property lists, registry mappings or Group Policy mappings differ from provider/domain/settings.ts;
// the simulated host's model, copied on its own for sshd, is held to the same table.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Language, Node, Parser } from "web-tree-sitter";
import { SETTINGS, Side, SIDES } from "../../provider/domain/settings";
import { SCRIPTS_DIR } from "../../provider/host/protocol";
import { AUDIT_LOG } from "../../provider/domain/impact";
import { AUDIT_LOGS, SECURITY_OPTIONS, SMB_AUDIT_EVENTS, TEMPLATE_SETTINGS } from "../simhost/model";

type Value = string | Value[] | { [key: string]: Value };

/** The literal a node stands for: @{...} as an object, @(...) as an array, '...' as a string. */
function literal(node: Node): Value {
  switch (node.type) {
    case "hash_literal_expression": {
      const out: Record<string, Value> = {};
      for (const entry of node.descendantsOfType("hash_entry")) {
        // Only the entries of this hash, not of hashes nested in it.
        if (entry?.parent?.parent?.id !== node.id) continue;
        const key = entry.childForFieldName("key") ?? entry.namedChildren.find((c) => c?.type === "key_expression");
        const value = entry.namedChildren[entry.namedChildren.length - 1];
        if (key && value) out[key.text] = literal(value);
      }
      return out;
    }
    case "array_expression":
      return node.descendantsOfType(["string_literal", "integer_literal"]).map((s) => (s!.type === "integer_literal" ? s!.text : unquote(s!.text)));
    case "string_literal":
      return unquote(node.text);
    case "integer_literal":
      // Kept as written, like $true.
      return node.text;
    case "variable":
      // $true, $false: kept as written.
      return node.text;
  }
  const inner = node.namedChildren.filter((c): c is Node => c !== null);
  if (inner.length === 1) return literal(inner[0]);
  throw new Error(`not a literal: ${node.type} "${node.text.slice(0, 60)}"`);
}

function unquote(text: string): string {
  return text.replace(/^['"]|['"]$/g, "");
}

/** The script's top-level `$Name = <literal>` assignments. */
function assignments(root: Node): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const a of root.descendantsOfType("assignment_expression")) {
    if (!a || a.parent?.parent?.type !== "statement_list" || a.parent.parent.parent?.type !== "program") continue;
    const name = a.namedChildren[0]?.text ?? "";
    const value = a.childForFieldName("value");
    if (name.startsWith("$") && value) {
      try {
        out.set(name.slice(1), literal(value));
      } catch {
        // Not a literal (a computed value): not part of the tables.
      }
    }
  }
  return out;
}

const bySide = (pick: (side: Side) => Value) => Object.fromEntries(SIDES.map((side) => [side, pick(side)]));
const sorted = (v: Value): Value => (Array.isArray(v) ? [...v].sort() : v);

describe("smb-signing.ps1 and the settings table", () => {
  let tables: Map<string, Value>;
  before(async () => {
    await Parser.init();
    const parser = new Parser();
    parser.setLanguage(await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")));
    const tree = parser.parse(fs.readFileSync(path.join(SCRIPTS_DIR, "smb-signing.ps1"), "utf8"))!;
    tables = assignments(tree.rootNode);
  });

  it("manages the same cmdlet properties on each side ($Properties)", () => {
    const script = tables.get("Properties") as Record<string, Value>;
    assert.deepEqual(bySide((side) => sorted(script[side])), bySide((side) => sorted(SETTINGS[side].map((d) => d.cmdletProperty))));
  });

  it("falls back to the same registry values on hosts without the SmbShare module ($RegistryValue, $RegistryDefault)", () => {
    const expected = bySide((side) =>
      Object.fromEntries(SETTINGS[side].filter((d) => d.registryFallback).map((d) => [d.cmdletProperty, d.registryFallback as string])),
    );
    assert.deepEqual(tables.get("RegistryValue"), expected);
    const defaults = tables.get("RegistryDefault") as Record<string, Record<string, Value>>;
    assert.deepEqual(bySide((side) => sorted(Object.keys(defaults[side]))), bySide((side) => sorted(Object.keys((expected[side] as object) ?? {}))));
  });

  it("looks for the same Group Policy: Security Options through RSoP, Administrative Templates under Policies ($SecurityOptions, $AdministrativeTemplates)", () => {
    assert.deepEqual(
      bySide((side) => sorted((tables.get("SecurityOptions") as Record<string, Value>)[side])),
      bySide((side) => sorted(SETTINGS[side].filter((d) => d.groupPolicy.kind === "securityOption").map((d) => d.cmdletProperty))),
    );
    assert.deepEqual(
      tables.get("AdministrativeTemplates"),
      bySide((side) =>
        Object.fromEntries(
          SETTINGS[side].flatMap((d) => (d.groupPolicy.kind === "administrativeTemplate" ? [[d.cmdletProperty, d.groupPolicy.valueName]] : [])),
        ),
      ),
    );
  });

  it("the simulated host's model knows the same Group Policy mappings (it cannot import the table either)", () => {
    for (const side of SIDES) {
      assert.deepEqual([...SECURITY_OPTIONS].sort(), SETTINGS[side].filter((d) => d.groupPolicy.kind === "securityOption").map((d) => d.cmdletProperty).sort(), side);
      assert.deepEqual([...TEMPLATE_SETTINGS[side]].sort(), SETTINGS[side].filter((d) => d.groupPolicy.kind === "administrativeTemplate").map((d) => d.cmdletProperty).sort(), side);
    }
  });

  it("reads the SMB audit logs and providers the model's Windows has, tells signing events by a data item only they carry, and the provider names the same logs ($AuditLog)", () => {
    const table = tables.get("AuditLog") as Record<Side, Record<string, Value>>;
    assert.deepEqual(bySide((side) => ({ log: table[side].log, provider: table[side].provider })), bySide((side) => ({ ...AUDIT_LOGS[side] })));
    assert.deepEqual(bySide((side) => AUDIT_LOG[side]), bySide((side) => AUDIT_LOGS[side].log));
    for (const side of SIDES) {
      // The manifest's symbols say which events are about a peer that does not sign; the script's data item must pick exactly those, and each names the peer by the script's name item.
      const names = (e: (typeof SMB_AUDIT_EVENTS)[number]) => e.fields.map(([n]) => n);
      const picked = SMB_AUDIT_EVENTS.filter((e) => e.side === side && names(e).includes(table[side].signing as string)).map((e) => `${e.id}v${e.version}`);
      const signing = SMB_AUDIT_EVENTS.filter((e) => e.side === side && /DoesNotSupportSigning/.test(e.symbol)).map((e) => `${e.id}v${e.version}`);
      assert.deepEqual(picked, signing, side);
      for (const e of SMB_AUDIT_EVENTS.filter((e) => e.side === side && /DoesNotSupportSigning/.test(e.symbol))) assert.ok(names(e).includes(table[side].name as string), `${e.id}v${e.version}`);
    }
  });

  it("can tell when they differ (the reader sees a changed entry)", async () => {
    const parser = new Parser();
    parser.setLanguage(await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")));
    const changed = fs
      .readFileSync(path.join(SCRIPTS_DIR, "smb-signing.ps1"), "utf8")
      .replace("EnableInsecureGuestLogons = 'AllowInsecureGuestAuth'", "EnableInsecureGuestLogons = 'AllowGuest'");
    const other = assignments(parser.parse(changed)!.rootNode);
    assert.notDeepEqual(other.get("AdministrativeTemplates"), tables.get("AdministrativeTemplates"));
    const signing = assignments(parser.parse(fs.readFileSync(path.join(SCRIPTS_DIR, "smb-signing.ps1"), "utf8").replace("signing = 'ServerRequiresSigning'", "signing = 'ServerRequiresEncryption'"))!.rootNode);
    assert.notDeepEqual(signing.get("AuditLog"), tables.get("AuditLog"));
  });
});
