// Generates the Pulumi package schema of the provider plugin (provider/plugin/schema.json, served
// by GetSchema, read by `pulumi import`, Pulumi YAML and `pulumi package gen-sdk`) from the
// definitions the dynamic resource is built on: property types from the zod schemas
// (domain/schema.ts), settings from the settings table (domain/settings.ts), descriptions from
// the doc comments of provider/resource.ts, configuration keys from plugin/config.ts. Nothing in
// it is written by hand; test/unit/plugin.test.ts fails when the committed file is stale.
//   node dist/tools/schema/generate.js --write    rewrites provider/plugin/schema.json
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { SETTINGS, SIDES } from "../../provider/domain/settings";
import { connectionSchema, CREDENTIAL_KEYS, DECLARED_KEYS, policySchema, SECRET_KEYS, SHARED_KEYS, UNKNOWN } from "../../provider/domain/schema";
import { PLUGIN_PACKAGE as PACKAGE, PLUGIN_RESOURCE_TYPE as RESOURCE_TOKEN } from "../../provider/domain/policy";
import { REPO_ROOT as ROOT } from "../repoRoot";
import { docComments } from "./docComments";

export const SCHEMA_FILE = path.join(ROOT, "provider", "plugin", "schema.json");
/**
 * The Go module `pulumi package gen-sdk --language go` writes (with its go.mod, as `meta.supportPack`
 * asks) and the import path of its package. It is published nowhere: a Go program requires it and
 * points a `replace` directive at the generated directory. Not a domain: nothing will fetch it.
 */
export const GO_MODULE = "pulumi-smb-signing/sdk/go";

type Json = Record<string, unknown>;
const ref = (name: string) => ({ $ref: `#/types/${PACKAGE}:index:${name}` });
const ANY = { $ref: "pulumi.json#/Any" };

/** A zod property's JSON Schema as a Pulumi schema type: the engine's unknown sentinel dropped. */
function pulumiType(js: Json): Json {
  if (Array.isArray(js.anyOf)) {
    const real = (js.anyOf as Json[]).filter((b) => b.const !== UNKNOWN);
    if (real.length === 1) return pulumiType(real[0]);
    const types = new Set(real.map((b) => pulumiType(b).type));
    if (types.size === 1) return { type: [...types][0] };
    return ANY;
  }
  if (js.type === "string" || js.type === "boolean" || js.type === "integer" || js.type === "number") return { type: js.type };
  if (js.type === "array" && js.items) {
    const items = pulumiType(js.items as Json);
    if (items !== ANY) return { type: "array", items };
  }
  return ANY;
}

function enumNote(js: Json): string {
  const values = (Array.isArray(js.anyOf) ? (js.anyOf as Json[]) : [js]).flatMap((b) => (Array.isArray(b.enum) ? (b.enum as string[]) : []));
  return values.length > 0 ? ` One of: ${values.map((v) => `"${v}"`).join(", ")}.` : "";
}

export function packageSchema(): Json {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string; description: string };
  const docs = docComments(path.join(ROOT, "provider", "resource.ts"));
  const doc = (iface: string, member: string): string => {
    const text = docs.get(iface)?.members.get(member);
    if (!text) throw new Error(`provider/resource.ts: ${iface}.${member} has no doc comment`);
    return text;
  };
  const connectionJs = z.toJSONSchema(connectionSchema, { io: "input", unrepresentable: "any" }) as Json;
  const policyJs = z.toJSONSchema(policySchema, { io: "input", unrepresentable: "any" }) as Json;
  const connectionProps = connectionJs.properties as Record<string, Json>;
  const policyProps = policyJs.properties as Record<string, Json>;

  const connectionProperty = (key: string): Json => ({
    ...pulumiType(connectionProps[key]),
    description: doc("ConnectionArgs", key) + enumNote(connectionProps[key]),
    ...((SECRET_KEYS as readonly string[]).includes(key) ? { secret: true } : {}),
  });
  const connection: Json = {
    type: "object",
    description:
      docs.get("ConnectionArgs")!.doc +
      ` Account, credentials, transport and timeouts may come from the provider's configuration (${PACKAGE}:user, ${PACKAGE}:password, ...).`,
    properties: Object.fromEntries(Object.keys(connectionProps).map((k) => [k, connectionProperty(k)])),
    required: ["host"],
  };
  const sideType = (side: "client" | "server"): Json => {
    const iface = side === "client" ? "ClientSigningArgs" : "ServerSigningArgs";
    return {
      type: "object",
      description: docs.get(iface)!.doc,
      properties: Object.fromEntries(SETTINGS[side].map((d) => [d.name, { type: "boolean", description: doc(iface, d.name) }])),
    };
  };
  const bySide = (description: string): Json => ({
    type: "object",
    description,
    properties: Object.fromEntries(SIDES.map((s) => [s, { type: "object", additionalProperties: { type: "boolean" } }])),
  });

  const inputs: Record<string, Json> = {};
  for (const key of DECLARED_KEYS) {
    const description = doc("SmbSigningPolicyArgs", key);
    if (key === "connection") inputs[key] = { ...ref("Connection"), description };
    else if (key === "client") inputs[key] = { ...ref("ClientSigning"), description };
    else if (key === "server") inputs[key] = { ...ref("ServerSigning"), description };
    else inputs[key] = { ...pulumiType(policyProps[key]), description: description + enumNote(policyProps[key]) };
  }
  const out = (key: string) => doc("SmbSigningPolicy", key);
  const outputs: Record<string, Json> = {
    ...inputs,
    owner: { type: "string", description: '"<project>/<stack>/<resource name>": the owner that records written before owner ids name.' },
    ownerId: { type: "string", description: out("ownerId") },
    resourceUrn: { type: "string", description: "The resource's URN, which the provider's warnings name." },
    observed: { ...ref("SettingsBySide"), description: out("observed") },
    originalSettings: { ...ref("SettingsBySide"), description: out("originalSettings") },
    hostFacts: { ...ref("HostFacts"), description: out("hostFacts") },
    settingsSource: { type: "string", description: out("settingsSource") },
    policyManaged: { ...ANY, description: out("policyManaged") },
    policyDrift: { type: "array", items: { type: "string" }, description: out("policyDrift") },
    policyVisibility: { ...ANY, description: out("policyVisibility") },
    consequences: { type: "array", items: { type: "string" }, description: out("consequences") },
    readiness: { ...ANY, description: out("readiness") },
    unavailableSides: { type: "object", properties: { client: { type: "string" }, server: { type: "string" } }, description: out("unavailableSides") },
    restartNeeded: { type: "array", items: { type: "string" }, description: out("restartNeeded") },
    scriptRun: { ...ANY, description: out("scriptRun") },
    authenticatedWith: { type: "string", description: out("authenticatedWith") },
  };
  const config = Object.fromEntries(
    SHARED_KEYS.map((k) => {
      const p = connectionProperty(k);
      const lent = (CREDENTIAL_KEYS as readonly string[]).includes(k)
        ? " Used by every resource that declares none of password, privateKey and agent; never written into a resource's state."
        : ` The default of every resource's connection.${k}.`;
      return [k, { ...p, description: `${p.description}${lent}` }];
    }),
  );
  return {
    name: PACKAGE,
    displayName: "SMB signing",
    version: pkg.version,
    description: pkg.description.replace("Pulumi dynamic provider that keeps", "Keeps"),
    keywords: ["windows", "smb", "signing", "category/infrastructure", "kind/native"],
    license: "Apache-2.0",
    // supportPack: gen-sdk writes a complete SDK (Go: go.mod, and the version the SDK pins its
    // resources' provider to, the package's own); language.go: the module path (GO_MODULE).
    meta: { supportPack: true },
    language: { go: { importBasePath: `${GO_MODULE}/${PACKAGE}` } },
    config: { variables: config },
    provider: { description: `Connection defaults for a fleet's ${RESOURCE_TOKEN} resources.`, inputProperties: config },
    types: {
      [`${PACKAGE}:index:Connection`]: connection,
      [`${PACKAGE}:index:ClientSigning`]: sideType("client"),
      [`${PACKAGE}:index:ServerSigning`]: sideType("server"),
      [`${PACKAGE}:index:SettingsBySide`]: bySide("Signing settings by side, by name (null: the host's build lacks it)."),
      [`${PACKAGE}:index:HostFacts`]: {
        type: "object",
        description: "What the host reports of itself.",
        properties: {
          productName: { type: "string" },
          edition: { type: "string" },
          displayVersion: { type: "string" },
          build: { type: "string" },
          domainRole: { type: "integer" },
          processBits: {
            type: "integer",
            description: "The bitness of the PowerShell that ran the provider's script: 32 under WOW64 (a 32-bit OpenSSH build).",
          },
          osBits: { type: "integer", description: "The bitness of Windows." },
        },
      },
    },
    resources: {
      [RESOURCE_TOKEN]: {
        description: docs.get("SmbSigningPolicy")!.doc,
        inputProperties: inputs,
        requiredInputs: ["connection"],
        properties: outputs,
        required: ["connection", "onDelete", "observed", "originalSettings", "hostFacts", "settingsSource"],
      },
    },
  };
}

export function schemaText(): string {
  return `${JSON.stringify(packageSchema(), null, 2)}\n`;
}

if (require.main === module) {
  if (process.argv.includes("--write")) fs.writeFileSync(SCHEMA_FILE, schemaText());
  else process.stdout.write(schemaText());
}
