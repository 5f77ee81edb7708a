// fast-check generators of SmbSigningPolicy inputs as the Pulumi engine sends them: valid ones,
// and valid ones with exactly one field broken (wrong type, wrong value, extra key, missing,
// contradiction, unacknowledged weakening), for the property tests of check, diff and create.
import * as crypto from "node:crypto";
import fc from "fast-check";
import { UNKNOWN } from "../../provider/domain/schema";
import { SETTINGS, Side } from "../../provider/domain/settings";

export type Inputs = Record<string, unknown>;

/** Every top-level input; a check failure must name one of these (or "(inputs)"). */
export const INPUT_ROOTS = [
  "connection",
  "client",
  "server",
  "acknowledgeInsecureSettings",
  "onDelete",
  "importId",
  "owner",
  "takeOwnership",
  "customTimeouts",
] as const;

const CONNECTION_KEYS = [
  "transport",
  "host",
  "port",
  "user",
  "password",
  "privateKey",
  "passphrase",
  "agent",
  "hostKey",
  "dangerouslyAcceptAnyHostKey",
  "https",
  "authentication",
  "caCertificate",
  "certificateFingerprint",
  "dangerouslySkipCertificateCheck",
  "connectTimeoutSeconds",
  "commandTimeoutSeconds",
];
const SSH_ONLY = ["privateKey", "agent", "hostKey", "dangerouslyAcceptAnyHostKey"];
const WINRM_ONLY = ["https", "authentication", "caCertificate", "certificateFingerprint", "dangerouslySkipCertificateCheck"];

/** Property names that exist on every JavaScript object: a careless `in` or `[]` lookup finds them. */
export const PROTOTYPE_NAMES = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"];

/** An RSA key in PEM, the one private key format Node writes that ssh2 also reads. */
export const PLAIN_PRIVATE_KEY = crypto
  .generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } })
  .privateKey;

function encryptedKey(passphrase: string): string {
  return crypto.createPrivateKey(PLAIN_PRIVATE_KEY).export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase }) as string;
}

// ---- valid values ---------------------------------------------------------------------------

const hostName = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6(),
  fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,14}[A-Za-z0-9])?$/),
);
const account = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
  fc.tuple(fc.stringMatching(/^[A-Z]{1,15}$/), fc.stringMatching(/^[a-z0-9.]{1,20}$/)).map(([d, u]) => `${d}\\${u}`),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,20}$/), fc.domain()).map(([u, d]) => `${u}@${d}`),
);
/** Secrets of any characters, long enough that seeing one inside a message is no coincidence. */
export const secret = fc.oneof(
  fc.string({ minLength: 8, maxLength: 40 }),
  fc.string({ minLength: 8, maxLength: 40, unit: "grapheme" }),
  fc.string({ minLength: 8, maxLength: 40, unit: "binary-ascii" }),
);
const fingerprint = fc.stringMatching(/^[A-Za-z0-9+/]{43}$/).map((b) => `SHA256:${b}`);
const certFingerprint = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .chain((b) => fc.boolean().map((colons) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(colons ? ":" : "")));
const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** Drops keys whose value is undefined, as Pulumi does with absent inputs. */
function defined(o: Record<string, unknown>): Inputs {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

const timeouts = fc.record({
  port: optional(fc.integer({ min: 1, max: 65535 })),
  connectTimeoutSeconds: optional(fc.integer({ min: 1, max: 300 })),
  commandTimeoutSeconds: optional(fc.integer({ min: 1, max: 3600 })),
});

const sshCredential = fc.oneof(
  secret.map((password) => ({ password })),
  fc.constant({ privateKey: PLAIN_PRIVATE_KEY }),
  secret.map((passphrase) => ({ privateKey: encryptedKey(passphrase), passphrase })),
  fc.stringMatching(/^\/[a-z0-9/._-]{1,40}$/).map((agent) => ({ agent })),
);

const sshConnection = fc
  .record({
    transport: optional(fc.constant("ssh")),
    host: hostName,
    user: account,
    credential: sshCredential,
    pin: fc.oneof(fingerprint.map((hostKey) => ({ hostKey })), fc.constant({ dangerouslyAcceptAnyHostKey: true })),
    numbers: timeouts,
  })
  .map(({ credential, pin, numbers, ...rest }) => defined({ ...rest, ...credential, ...pin, ...numbers }));

const winrmConnection = fc
  .record({
    host: hostName,
    user: account,
    password: secret,
    tls: fc.oneof(
      fc.record({ authentication: optional(fc.constant("ntlm")) }),
      fc.record({
        https: fc.constant(true),
        authentication: optional(fc.constantFrom("ntlm", "basic")),
        trust: fc.oneof(
          fc.constant({}),
          certFingerprint.map((certificateFingerprint) => ({ certificateFingerprint })),
          fc.constant({ caCertificate: CA_PEM }),
          fc.constant({ dangerouslySkipCertificateCheck: true }),
        ),
      }),
    ),
    numbers: timeouts,
  })
  .map(({ tls, numbers, ...rest }) => {
    const { trust, ...https } = tls as { trust?: Record<string, unknown> };
    return defined({ transport: "winrm", ...rest, ...https, ...trust, ...numbers });
  });

export const validConnection = fc.oneof(sshConnection, winrmConnection);

function sideSettings(side: Side) {
  const shape = Object.fromEntries(SETTINGS[side].map((d) => [d.name, optional(fc.boolean())]));
  return fc.record(shape).map(defined);
}

/**
 * Valid inputs around a given connection: settings that pass the safety rules (a weakening is
 * acknowledged; guest logons never together with required client signing).
 */
export function validPolicy(connection: fc.Arbitrary<Inputs>): fc.Arbitrary<Inputs> {
  return fc
    .record({
      connection,
      client: optional(sideSettings("client")),
      server: optional(sideSettings("server")),
      acknowledgeInsecureSettings: optional(fc.boolean()),
      onDelete: optional(fc.constantFrom("restore", "retain")),
      importHost: fc.boolean(),
      // Any name Pulumi accepts: non-ASCII, and longer than any label a record keeps.
      owner: optional(fc.oneof(fc.stringMatching(/^[\x20-\x7e]{1,60}$/), fc.constant("proj/dev/fs-Zürich"), fc.constant(`proj/dev/${"n".repeat(1200)}`))),
      takeOwnership: optional(fc.boolean()),
      customTimeouts: optional(
        fc.record(
          { create: fc.integer({ min: 1, max: 86400 }), update: fc.integer({ min: 1, max: 86400 }), delete: fc.integer({ min: 1, max: 86400 }) },
          { requiredKeys: [] },
        ),
      ),
    })
    .map(({ importHost, ...p }) => {
      const client = p.client as Record<string, boolean> | undefined;
      if (client?.enableInsecureGuestLogons === true && client.requireSigning === true) delete client.enableInsecureGuestLogons;
      const server = p.server as Record<string, boolean> | undefined;
      const weakens = client?.requireSigning === false || server?.requireSigning === false || client?.enableInsecureGuestLogons === true;
      const importId = importHost ? (p.connection as Inputs).host : undefined;
      return defined({ ...p, importId, acknowledgeInsecureSettings: weakens ? true : p.acknowledgeInsecureSettings });
    });
}

export const validInputs = validPolicy(validConnection);

// ---- one field broken -----------------------------------------------------------------------

/** A JSON value (what the engine can send) other than those `ok` accepts. */
const jsonExcept = (ok: (v: unknown) => boolean) => fc.jsonValue().filter((v) => !ok(v));
const notBoolean = jsonExcept((v) => typeof v === "boolean");
const notString = jsonExcept((v) => typeof v === "string");
const notObject = jsonExcept((v) => typeof v === "object" && v !== null && !Array.isArray(v));
/** A string with one of these characters in it. */
const withOneOf = (chars: string[]) =>
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...chars), fc.string({ maxLength: 10 })).map(([a, c, b]) => a + c + b);
// Shell metacharacters and others that no DNS name or IP address literal contains.
const notInHostNames = withOneOf([" ", ";", "&", "|", "`", "$(", "\n", '"', "*", "<", ">", "\u0000", "=", "/", "_x"]);
// "User Name Formats" (Microsoft Learn): characters no Windows account name contains.
const notInAccountNames = withOneOf(['"', "/", "[", "]", ":", ";", "|", "=", ",", "+", "*", "?", "<", ">", "\n", "\u0000", "\u007f"]);
const badNumber = (max: number) =>
  fc.oneof(
    fc.integer({ max: 0 }),
    fc.integer({ min: max + 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: 1.0001, max: max - 0.0001 }).filter((n) => !Number.isInteger(n)),
    jsonExcept((v) => typeof v === "number"),
  );
const unknownKey = (known: readonly string[]) => fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.includes(k) && !k.startsWith("__"));

export interface Mutation {
  /** What was broken, for the shrunk counterexample. */
  describe: string;
  apply(inputs: Inputs): Inputs;
}

const deepCopy = (v: Inputs): Inputs => structuredClone(v);

/** A copy of `value` with `leaf` at `path`, making objects on the way where there are none. */
export function withValueAt<T extends object>(value: T, path: string[], leaf: unknown): T {
  const out = structuredClone(value);
  let node = out as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = leaf;
  return out;
}

function setAt(path: string[], value: unknown, describe: string): Mutation {
  return { describe, apply: (inputs) => withValueAt(inputs, path, value) };
}

function removeAt(path: string[]): Mutation {
  return {
    describe: `remove ${path.join(".")}`,
    apply(inputs) {
      const out = deepCopy(inputs);
      let node = out as Record<string, unknown> | undefined;
      for (const key of path.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
      if (node) delete node[path[path.length - 1]];
      return out;
    },
  };
}

const mutate = (path: string[], value: fc.Arbitrary<unknown>, why: string) =>
  value.map((v) => setAt(path, v, `${path.join(".")} = ${JSON.stringify(v)} (${why})`));

function settingMutations(side: Side): fc.Arbitrary<Mutation>[] {
  const names = SETTINGS[side].map((d) => d.name);
  return [
    mutate([side], notObject, "not an object"),
    fc.constantFrom(...names).chain((name) => mutate([side, name], notBoolean, "not a Boolean")),
    unknownKey(names).chain((key) => mutate([side, key], fc.boolean(), "unknown setting")),
  ];
}

/**
 * One field of a valid input broken so that no reading of the schema or the safety rules could
 * accept it. `transport` is the base's ("ssh" or "winrm"): what is wrong for one is right for the other.
 */
export function brokenField(transport: "ssh" | "winrm"): fc.Arbitrary<Mutation> {
  const c = (key: string) => ["connection", key];
  const wrongTransport = transport === "ssh" ? WINRM_ONLY : SSH_ONLY;
  const mutations: fc.Arbitrary<Mutation>[] = [
    mutate(["connection"], notObject, "not an object"),
    fc.constantFrom("host", "user", "connection").map((k) => removeAt(k === "connection" ? ["connection"] : c(k))),
    fc.constant<Mutation>({ describe: "remove every credential", apply: removeCredentials }),
    mutate(c("transport"), jsonExcept((v) => v === "ssh" || v === "winrm"), "not a transport"),
    mutate(c("host"), fc.oneof(notInHostNames, fc.constant(""), notString), "not a host name"),
    mutate(c("port"), badNumber(65535), "not a port"),
    mutate(c("user"), fc.oneof(notInAccountNames, fc.constant(""), fc.constant("a".repeat(105)), notString), "not an account name"),
    fc.constantFrom("password", "privateKey", "passphrase", "agent").chain((k) => mutate(c(k), fc.oneof(fc.constant(""), notString), "empty or not text")),
    mutate(c("hostKey"), fc.oneof(fc.string({ maxLength: 60 }), fingerprint.map((f) => f.slice(0, -1)), notString), "not a fingerprint"),
    fc
      .constantFrom("dangerouslyAcceptAnyHostKey", "https", "dangerouslySkipCertificateCheck")
      .chain((k) => mutate(c(k), notBoolean, "not a Boolean")),
    mutate(c("authentication"), jsonExcept((v) => v === "ntlm" || v === "basic"), "not an authentication"),
    mutate(c("caCertificate"), fc.oneof(fc.string({ maxLength: 40 }), notString), "not PEM"),
    mutate(c("certificateFingerprint"), fc.oneof(fc.stringMatching(/^[0-9a-f]{0,63}$/), fc.string({ maxLength: 40 }).map((s) => s + "g"), notString), "not a SHA-256"),
    mutate(c("connectTimeoutSeconds"), badNumber(300), "out of range"),
    mutate(c("commandTimeoutSeconds"), badNumber(3600), "out of range"),
    unknownKey(CONNECTION_KEYS).chain((k) => mutate(c(k), fc.jsonValue(), "unknown connection property")),
    fc.constantFrom(...wrongTransport).map((k) => setAt(c(k), validValueOf(k), `${k} given for transport ${transport}`)),
    secondCredential(transport),
    ...settingMutations("client"),
    ...settingMutations("server"),
    fc.constantFrom("acknowledgeInsecureSettings", "takeOwnership").chain((k) => mutate([k], notBoolean, "not a Boolean")),
    mutate(["onDelete"], jsonExcept((v) => v === "restore" || v === "retain"), "not restore/retain"),
    mutate(["importId"], fc.oneof(fc.constant(""), notString), "empty or not text"),
    fc.constant<Mutation>({
      describe: "importId names another host",
      apply: (i) => ({ ...deepCopy(i), importId: `other-${String((i.connection as Inputs).host)}` }),
    }),
    mutate(["owner"], fc.oneof(fc.constant(""), fc.string({ minLength: 0, maxLength: 10 }).map((s) => s + "\n"), fc.string({ maxLength: 10 }).map((s) => "\u0000" + s), notString), "empty, a control character or not text"),
    mutate(["customTimeouts"], notObject, "not an object"),
    fc.constantFrom("create", "update", "delete").chain((k) => mutate(["customTimeouts", k], badNumber(86400), "out of range")),
    unknownKey(["create", "update", "delete"]).chain((k) => mutate(["customTimeouts", k], fc.integer({ min: 1, max: 100 }), "unknown timeout")),
    unknownKey(INPUT_ROOTS).chain((k) => mutate([k], fc.jsonValue(), "unknown property")),
    fc.constantFrom<Side>("client", "server").map((side) => unacknowledgedWeakening(side)),
    fc.constant<Mutation>({
      describe: "guest logons together with client.requireSigning",
      apply: (i) => ({ ...deepCopy(i), client: { ...(i.client as object), requireSigning: true, enableInsecureGuestLogons: true } }),
    }),
  ];
  return fc.oneof(...mutations);
}

function removeCredentials(inputs: Inputs): Inputs {
  const out = deepCopy(inputs);
  const conn = out.connection as Inputs;
  for (const k of ["password", "privateKey", "passphrase", "agent"]) delete conn[k];
  return out;
}

function validValueOf(key: string): unknown {
  const values: Record<string, unknown> = {
    privateKey: PLAIN_PRIVATE_KEY,
    agent: "/run/agent.sock",
    hostKey: "SHA256:" + "A".repeat(43),
    dangerouslyAcceptAnyHostKey: true,
    https: true,
    authentication: "ntlm",
    caCertificate: CA_PEM,
    certificateFingerprint: "ab".repeat(32),
    dangerouslySkipCertificateCheck: true,
  };
  return values[key];
}

/** A second credential beside the one the base has (ssh), or a key or agent over WinRM. */
function secondCredential(transport: "ssh" | "winrm"): fc.Arbitrary<Mutation> {
  return fc.nat().map((n) => ({
    describe: "a second credential",
    apply(inputs) {
      const out = deepCopy(inputs);
      const conn = out.connection as Inputs;
      const candidates = transport === "winrm" ? ["privateKey", "agent"] : ["password", "privateKey", "agent"].filter((k) => conn[k] === undefined);
      const key = candidates[n % candidates.length];
      conn[key] = key === "password" ? "second-password" : validValueOf(key);
      return out;
    },
  }));
}

function unacknowledgedWeakening(side: Side): Mutation {
  return {
    describe: `${side}.requireSigning = false without acknowledgeInsecureSettings`,
    apply(inputs) {
      const out = deepCopy(inputs);
      delete out.acknowledgeInsecureSettings;
      out[side] = { ...(out[side] as object), requireSigning: false };
      return out;
    },
  };
}

// ---- the engine's unknown sentinel --------------------------------------------------------

/** Every path to a leaf or object of a JSON-like value, for placing the unknown sentinel. */
export function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== "object" || value === null) return [prefix];
  const inner = Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]));
  return prefix.length > 0 ? [prefix, ...inner] : inner;
}

/** The input with the engine's "not known yet" sentinel in place of one value (leaf or object). */
export function withUnknown(inputs: fc.Arbitrary<Inputs>): fc.Arbitrary<{ inputs: Inputs; at: string }> {
  return inputs.chain((i) => {
    const paths = pathsOf(i);
    return fc.constantFrom(...paths).map((path) => ({ inputs: withValueAt(i, path, UNKNOWN), at: path.join(".") }));
  });
}
