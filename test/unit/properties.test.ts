// Property-based tests (fast-check) of everything that takes outside input: check, diff, the host's reply, and what the shipped
// smb-signing.ps1 does with the on-host record (run through the PowerShell interpreter on the simulated Windows).
import assert from "node:assert/strict";
import fc from "fast-check";
import * as ops from "../../provider/operations";
import { diffPolicy, PolicyOutputs } from "../../provider/domain/policy";
import { parsePolicyInputs, PolicyInputs, UNKNOWN } from "../../provider/domain/schema";
import { SETTINGS, Side, SIDES } from "../../provider/domain/settings";
import { HostError, HostErrorKind } from "../../provider/errors";
import { decodeReply, SigningResult } from "../../provider/host/signingScript";
import { applyGroupPolicy, asciiJson, AuditEventData, clixml, HostState, newHostState, PresetName, PRESETS, SECURITY_OPTIONS, TEMPLATE_SETTINGS } from "../simhost/model";
import { InterpreterError } from "../simhost/powershell/run";
import { SurfaceGap } from "../simhost/windowsSurface";
import { loadInterpreter, recordedOriginals, runShipped, ScriptRun } from "./shippedScripts";
import { brokenField, INPUT_ROOTS, Inputs, pathsOf, PROTOTYPE_NAMES, validInputs, withUnknown, withValueAt } from "../arbitraries/policyInputs";

// ---- running a property and counting its inputs ---------------------------------------------

/** Runs a property, then prints how many inputs it was tried on (for the totals in reviews). */
async function holds<T>(label: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void | Promise<void>, numRuns: number): Promise<void> {
  let inputs = 0;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      inputs++;
      await predicate(value);
    }),
    { numRuns },
  );
  console.log(`${label}: ${inputs} inputs`);
}

/** Fails a promise that does not settle in time: "never hangs", made checkable. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const transportOf = (i: Inputs): "ssh" | "winrm" => ((i.connection as Inputs | undefined)?.transport === "winrm" ? "winrm" : "ssh");
const broken = validInputs.chain((i) => brokenField(transportOf(i)).map((m) => ({ inputs: m.apply(i), mutation: m.describe })));

/** A valid input with any value at any of its paths (a leaf, an object, or a new key in one). */
const anyValueAnywhere = validInputs.chain((i) =>
  fc
    .tuple(fc.constantFrom(...pathsOf(i)), fc.anything(), fc.boolean(), fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTOTYPE_NAMES)))
    .map(([path, leaf, newKey, key]) => {
      const parent = path.slice(0, -1);
      const target = newKey ? [...parent, key] : path;
      return withValueAt(i, target, leaf);
    }),
);

// ---- 1. check -------------------------------------------------------------------------------

const checkInputs = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 12 }), fc.anything()),
  fc.object(),
  validInputs,
  broken.map((b) => b.inputs),
  anyValueAnywhere,
  withUnknown(validInputs).map((u) => u.inputs),
  withUnknown(withUnknown(broken.map((b) => b.inputs)).map((u) => u.inputs)).map((u) => u.inputs),
);

const SECRET_KEYS = ["password", "privateKey", "passphrase"];

/** Strings a check reason must never repeat: the credentials in the input, when long enough to be real. */
function secretsIn(news: Inputs): string[] {
  const conn = news.connection as Record<string, unknown> | undefined;
  if (typeof conn !== "object" || conn === null) return [];
  return SECRET_KEYS.map((k) => conn[k]).filter((v): v is string => typeof v === "string" && v.length >= 8 && v !== UNKNOWN);
}

/**
 * The same input with other credentials of the same length: a reason that still contains a
 * secret then (a password "property" inside "is not a known property") merely shares words with it.
 */
function withOtherSecrets(news: Inputs): Inputs {
  const conn = { ...(news.connection as Record<string, unknown>) };
  for (const k of SECRET_KEYS) if (typeof conn[k] === "string") conn[k] = "\u2603".repeat((conn[k] as string).length);
  return { ...news, connection: conn };
}

async function assertCheckIsWellFormed(news: Inputs): Promise<void> {
  const result = await within(2000, ops.check({}, news));
  assert.ok(result && typeof result === "object", "check resolves to an object");
  const failures = result.failures ?? [];
  assert.ok(Array.isArray(failures));
  if (failures.length === 0) {
    assert.ok(result.inputs && typeof result.inputs === "object", "accepted inputs are returned");
    return;
  }
  const secrets = secretsIn(news);
  for (const f of failures) {
    assert.equal(typeof f.property, "string");
    const rooted = f.property === "(inputs)" || INPUT_ROOTS.some((r) => f.property === r || f.property.startsWith(`${r}.`));
    // An unknown top-level key is reported under its own name, which is the path the user wrote.
    const ownUnknownKey = Object.hasOwn(news, f.property) && !(INPUT_ROOTS as readonly string[]).includes(f.property);
    assert.ok(rooted || ownUnknownKey, `failure names no input path: ${JSON.stringify(f)}`);
    assert.equal(typeof f.reason, "string");
    assert.ok(f.reason.length > 0, `empty reason for ${f.property}`);
    assert.ok(!f.reason.includes("    at "), `a stack trace in the reason for ${f.property}: ${f.reason}`);
    assert.ok(!f.reason.includes("undefined"), `"undefined" in the reason for ${f.property}: ${f.reason}`);
    const repeated = secrets.filter((s) => f.reason.includes(s));
    if (repeated.length > 0) {
      const other = (await ops.check({}, withOtherSecrets(news))).failures ?? [];
      const echoed = repeated.filter((s) => !other.some((o) => o.property === f.property && o.reason.includes(s)));
      assert.deepEqual(echoed, [], `the reason for ${f.property} repeats a credential: ${f.reason}`);
    }
  }
}

describe("check, for any input", () => {
  it("resolves to accepted inputs or to failures that name an input path and say why, without stack traces, 'undefined' or credentials", async () => {
    await holds("check (any input)", checkInputs, assertCheckIsWellFormed, 600);
  });

  it("accepts every valid input", async () => {
    await holds(
      "check (valid inputs)",
      validInputs,
      async (news) => {
        const r = await ops.check({}, news);
        assert.deepEqual(r.failures, undefined, JSON.stringify(r.failures));
      },
      300,
    );
  });

  it("refuses every valid input with one field broken", async () => {
    await holds(
      "check (one field broken)",
      broken,
      async ({ inputs, mutation }) => {
        const r = await ops.check({}, inputs);
        assert.ok((r.failures ?? []).length > 0, `accepted after: ${mutation}`);
      },
      500,
    );
  });
});

// ---- 2. diff --------------------------------------------------------------------------------

function parsed(raw: Inputs): PolicyInputs {
  const r = parsePolicyInputs(raw);
  if (!r.ok) throw new Error(`the generator made invalid inputs: ${JSON.stringify(r.failures)}`);
  return r.inputs;
}

/** What create would have stored for these inputs, with the host showing every declared value. */
const outputsFor = (inputs: Inputs) =>
  fc
    .record({
      unmanaged: fc.record({
        client: fc.record(Object.fromEntries(SETTINGS.client.map((d) => [d.name, fc.option(fc.boolean(), { nil: null })]))),
        server: fc.record(Object.fromEntries(SETTINGS.server.map((d) => [d.name, fc.option(fc.boolean(), { nil: null })]))),
      }),
      originals: fc.record({ client: fc.dictionary(fc.constantFrom(...SETTINGS.client.map((d) => d.name)), fc.boolean()), server: fc.dictionary(fc.constantFrom(...SETTINGS.server.map((d) => d.name)), fc.boolean()) }),
      provider: fc.option(fc.string(), { nil: undefined }),
    })
    .map(({ unmanaged, originals, provider }) => {
      const p = parsed(inputs);
      const outputs: PolicyOutputs & { __provider?: string } = {
        ...(p as PolicyOutputs),
        observed: { client: { ...unmanaged.client, ...p.client }, server: { ...unmanaged.server, ...p.server } } as PolicyOutputs["observed"],
        originalSettings: originals,
        hostFacts: { productName: "Windows Server 2025 Datacenter", build: "26100.4061" },
        settingsSource: "cmdlet",
      };
      if (provider !== undefined) outputs.__provider = provider;
      return outputs;
    });

/** Olds as the engine might hand them back: anything object-shaped, or real outputs with one part garbage. */
const garbageOlds = fc.oneof(
  fc.object(),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.anything()),
  validInputs.chain(outputsFor).chain((o) =>
    fc.tuple(fc.constantFrom(...pathsOf(o)), fc.anything()).map(([path, leaf]) => withValueAt(o, path, leaf)),
  ),
  validInputs.chain(outputsFor).chain((o) =>
    fc
      .tuple(fc.constantFrom("client", "server", "observed", "connection"), fc.constantFrom(...PROTOTYPE_NAMES), fc.anything())
      .map(([part, key, leaf]) => withValueAt(o, [part, key], leaf)),
  ),
);

function assertDiffShape(d: { changes?: unknown; replaces?: unknown; deleteBeforeReplace?: unknown }): void {
  assert.equal(typeof d.changes, "boolean");
  assert.ok(Array.isArray(d.replaces), "replaces is a list");
  for (const r of d.replaces as unknown[]) assert.ok(r === "connection.host" || r === "connection.transport", `replaces ${String(r)}`);
}

describe("diff, for any olds", () => {
  it("returns changes and replaces and never throws, whatever the olds", async () => {
    // Valid news, also with the unknown sentinel wherever the schema takes it (as during a preview).
    const news = fc.oneof(validInputs, withUnknown(validInputs).map((u) => u.inputs).filter((i) => parsePolicyInputs(i).ok));
    await holds(
      "diff (garbage olds)",
      fc.tuple(garbageOlds, news),
      async ([olds, raw]) => {
        const viaOps = await within(2000, ops.diff("id", olds as unknown as PolicyOutputs, raw));
        assertDiffShape(viaOps);
        assert.equal(viaOps.deleteBeforeReplace, (viaOps.replaces ?? []).length > 0);
        const direct = diffPolicy(olds as Partial<PolicyOutputs>, parsed(raw));
        assertDiffShape(direct);
        assert.ok(Array.isArray(direct.changed));
      },
      400,
    );
  });

  it("reports no change when the olds are the outputs of the same inputs and the host shows the declared values", async () => {
    await holds(
      "diff (olds from the same inputs)",
      validInputs.chain((raw) => outputsFor(raw).map((olds) => ({ raw, olds }))),
      async ({ raw, olds }) => {
        const d = await ops.diff("id", olds, raw);
        assert.equal(d.changes, false, JSON.stringify(diffPolicy(olds, parsed(raw)).changed));
        assert.deepEqual(d.replaces, []);
      },
      300,
    );
  });

  it("replaces exactly on connection.host when only the host changes", async () => {
    const moved = validInputs.chain((raw) =>
      fc
        .tuple(outputsFor(raw), fc.oneof(fc.domain(), fc.ipV4()))
        .filter(([, host]) => host !== (raw.connection as Inputs).host)
        .map(([olds, host]) => ({ olds, news: { ...raw, connection: { ...(raw.connection as Inputs), host } } })),
    );
    await holds(
      "diff (new host)",
      moved,
      async ({ olds, news }) => {
        const d = await ops.diff("id", olds, news);
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, ["connection.host"]);
        assert.equal(d.deleteBeforeReplace, true);
        assert.deepEqual(diffPolicy(olds, parsed(news)).replaces, ["connection.host"]);
      },
      300,
    );
  });
});

// ---- 3. reply parsing -----------------------------------------------------------------------

/** Every HostErrorKind (provider/errors.ts); a decoded failure must carry one of these. */
const HOST_ERROR_KINDS: ReadonlySet<string> = new Set<HostErrorKind>([
  "authenticationFailed",
  "hostKeyMismatch",
  "certificateRejected",
  "connectionFailed",
  "connectionDropped",
  "hostBusy",
  "timeout",
  "accessDenied",
  "unsupportedSetting",
  "unsupportedOs",
  "constrainedLanguage",
  "policyConflict",
  "ownedElsewhere",
  "badRecord",
  "badRequest",
  "failed",
  "notEnforced",
  "badReply",
]);
/** The kinds smb-signing.ps1 itself writes into an error reply. */
const SCRIPT_ERROR_KINDS = ["badRequest", "unsupportedOs", "badRecord", "ownedElsewhere", "unsupportedSetting", "policyConflict", "accessDenied", "failed"];

const cmdletNames = (side: Side) => SETTINGS[side].map((d) => d.cmdletProperty);
const cmdletValues = (side: Side) => fc.dictionary(fc.constantFrom(...cmdletNames(side)), fc.boolean());
const sidesArb = fc.record({ client: cmdletValues("client"), server: cmdletValues("server") });
const factsArb = fc.record({
  productName: fc.string({ unit: "grapheme", maxLength: 40 }),
  edition: fc.string({ maxLength: 20 }),
  displayVersion: fc.constantFrom("", "23H2", "24H2"),
  build: fc.stringMatching(/^\d{4,5}\.\d{1,5}$/),
  domainRole: fc.integer({ min: 0, max: 5 }),
});
const recordArb = fc.record({
  format: fc.constantFrom(1 as const, 2 as const),
  ownerId: fc.oneof(fc.uuid({ version: 4 }), fc.constant("")),
  ownerLabel: fc.string({ maxLength: 30 }),
  claimedAt: fc.constantFrom("", "2026-12-07T06:00:00.0000000Z"),
  originals: sidesArb,
});
/** A reply as smb-signing.ps1 writes it (see its header): ok, with everything, or an error. */
const okReplyArb = fc.record({
  status: fc.constant("ok"),
  host: factsArb,
  source: fc.constantFrom("cmdlet", "registry"),
  before: sidesArb,
  after: sidesArb,
  changed: fc.array(fc.constantFrom(...SIDES.flatMap((s) => SETTINGS[s].map((d) => `${s}.${d.cmdletProperty}`)))),
  record: fc.option(recordArb, { nil: null }),
  ours: fc.boolean(),
  restored: fc.boolean(),
});
const conflictArb = fc.oneof(
  ...SIDES.map((side) =>
    fc.record({ side: fc.constant(side), name: fc.constantFrom(...cmdletNames(side)), declared: fc.boolean(), enforced: fc.boolean(), gpo: fc.string({ maxLength: 30 }) }),
  ),
);
const errorReplyArb = fc
  .record(
    {
      status: fc.constant("error"),
      kind: fc.constantFrom(...SCRIPT_ERROR_KINDS),
      message: fc.string({ maxLength: 60 }),
      host: factsArb,
      source: fc.constantFrom("cmdlet", "registry"),
      before: fc.option(sidesArb, { nil: null }),
      changed: fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }),
      record: fc.option(recordArb, { nil: null }),
      ours: fc.boolean(),
    },
    { requiredKeys: ["status", "kind", "message"] },
  )
  // The script writes a policyConflict only with the conflicts it found.
  .chain((reply) => (reply.kind === "policyConflict" ? fc.array(conflictArb, { minLength: 1, maxLength: 3 }).map((conflicts) => ({ ...reply, conflicts })) : fc.constant(reply)));
const scriptReply = fc.oneof(
  okReplyArb.map((reply) => ({ reply: reply as Record<string, unknown>, exitCode: 0 })),
  errorReplyArb.map((reply) => ({ reply: reply as Record<string, unknown>, exitCode: 2 })),
);

const stderrArb = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.array(fc.record({ kind: fc.constantFrom("progress" as const, "error" as const), text: fc.string({ maxLength: 60 }) }), { maxLength: 4 }).map((r) => Buffer.from(clixml(r))),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(`#< CLIXML\r\n<Objs Version="1.1.0.1">${s}`)),
);
const exitCodeArb = fc.oneof(fc.constant(0), fc.constant(2), fc.constant(null), fc.integer({ min: -(2 ** 31), max: 2 ** 32 }));

/** A reply with one value, anywhere in it, replaced by any JSON value (often of the wrong type). */
const typeMutated = scriptReply.chain(({ reply, exitCode }) =>
  fc.tuple(fc.constantFrom(...pathsOf(reply)), fc.jsonValue()).map(([path, leaf]) => ({ reply: withValueAt(reply, path, leaf), exitCode })),
);

const stdoutArb = fc.oneof(
  scriptReply.map((r) => asciiJson(r.reply)),
  typeMutated.map((r) => asciiJson(r.reply)),
  // Truncated anywhere, as a dropped connection leaves it.
  scriptReply.chain((r) => {
    const text = asciiJson(r.reply);
    return fc.nat({ max: text.length }).map((n) => text.slice(0, n));
  }),
  // Other output before the reply, on lines of its own or not.
  fc.tuple(fc.string({ maxLength: 80 }), fc.constantFrom("\n", "\r\n", ""), scriptReply).map(([noise, eol, r]) => noise + eol + asciiJson(r.reply)),
  fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b).toString("latin1")),
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify({ status: "ok", ...(typeof v === "object" && v !== null ? v : { v }) })),
  fc.tuple(fc.string({ maxLength: 20 }), fc.jsonValue()).map(([kind, message]) => JSON.stringify({ status: "error", kind, message })),
  fc.constantFrom(...PROTOTYPE_NAMES).map((kind) => JSON.stringify({ status: "error", kind, message: "x" })),
);

function assertSigningResult(r: SigningResult): void {
  const facts = r.hostFacts;
  for (const k of ["productName", "edition", "displayVersion", "build"] as const) assert.equal(typeof facts[k], "string", `hostFacts.${k}`);
  assert.ok(Number.isInteger(facts.domainRole), "hostFacts.domainRole");
  assert.ok(r.source === "cmdlet" || r.source === "registry");
  for (const observed of [r.before, r.after]) {
    for (const side of SIDES) {
      assert.deepEqual(Object.keys(observed[side]).sort(), SETTINGS[side].map((d) => d.name).sort());
      for (const v of Object.values(observed[side])) assert.ok(v === null || typeof v === "boolean");
    }
  }
  for (const side of SIDES) assert.ok(r.changed[side].every((name) => SETTINGS[side].some((d) => d.name === name)), `changed.${side} in our names`);
  if (r.record !== null) {
    assert.equal(typeof r.record.ownerLabel, "string");
    assert.equal(typeof r.record.ownerId, "string");
    for (const side of SIDES) {
      for (const [name, v] of Object.entries(r.record.originals[side])) {
        assert.ok(SETTINGS[side].some((d) => d.name === name), `record.originals.${side}.${name}`);
        assert.equal(typeof v, "boolean");
      }
    }
  }
  assert.equal(typeof r.restored, "boolean");
}

/** decodeReply's contract: a well-typed result, or a HostError of a known kind (with a well-typed partial result). */
function decodeOrHostError(result: { stdout: Buffer; stderr: Buffer; exitCode: number | null }): SigningResult | HostError {
  let decoded: SigningResult;
  try {
    decoded = decodeReply("fs01:22", result);
  } catch (err) {
    assert.ok(err instanceof HostError, `not a HostError: ${err instanceof Error ? err.stack : String(err)}`);
    assert.ok(HOST_ERROR_KINDS.has(err.kind), `unknown kind ${JSON.stringify(err.kind)}`);
    const partial = (err as { partial?: SigningResult }).partial;
    if (partial !== undefined) assertSigningResult(partial);
    return err;
  }
  assertSigningResult(decoded);
  return decoded;
}

describe("decodeReply, for any bytes from a host", () => {
  it("returns a well-typed result or throws a HostError of a known kind", async () => {
    await holds(
      "decodeReply (any reply)",
      fc.record({ stdout: stdoutArb.map((s) => Buffer.from(s)), stderr: stderrArb, exitCode: exitCodeArb }),
      (result) => void decodeOrHostError(result),
      1500,
    );
  });

  it("decodes every complete reply the script can write: ok as a result, error as a HostError of its kind", async () => {
    await holds(
      "decodeReply (script replies)",
      fc.tuple(scriptReply, stderrArb),
      ({ 0: { reply, exitCode }, 1: stderr }) => {
        const out = decodeOrHostError({ stdout: Buffer.from(asciiJson(reply)), stderr, exitCode });
        if (reply.status === "ok") assert.ok(!(out instanceof HostError), out instanceof HostError ? out.message : "");
        else assert.equal((out as HostError).kind, reply.kind);
      },
      500,
    );
  });

  it("copes with 1-5 MB of output", async () => {
    const MB = 1024 * 1024;
    const huge = fc.integer({ min: MB, max: 5 * MB }).chain((size) =>
      fc.oneof(
        okReplyArb.map((r) => asciiJson({ ...r, host: { ...r.host, productName: "W".repeat(size) } })),
        scriptReply.map((r) => `${"progress line\r\n".repeat(Math.ceil(size / 15))}${asciiJson(r.reply)}`),
        fc.constantFrom("{", "[", '{"a":').map((open) => open.repeat(Math.ceil(size / open.length))),
        fc.constantFrom("x", "\n", "{\n").map((c) => c.repeat(size)),
        scriptReply.map((r) => asciiJson(r.reply).slice(0, -1) + " ".repeat(size)),
      ),
    );
    await holds(
      "decodeReply (1-5 MB)",
      fc.record({ stdout: huge.map((s) => Buffer.from(s)), stderr: stderrArb, exitCode: exitCodeArb }),
      (result) => void decodeOrHostError(result),
      25,
    );
  });
});

// ---- 4. smb-signing.ps1 on a simulated host: the on-host record ------------------------------
// The shipped script itself: bootstrap.ps1 with the provider's stdin, through the PowerShell
// interpreter on the simulated Windows (test/unit/shippedScripts.ts; a run takes a few ms). Each
// property states what the script must do, observed on the host: its reply, and every change it
// made, in order, with the record as it was just before.

type ModelValues = Record<string, boolean>;
type Originals = { client: ModelValues; server: ModelValues };
const PRESET_NAMES = (Object.keys(PRESETS) as PresetName[]).filter((p) => p !== "server-2008r2-stock");
const OWNERS = ["proj/dev/fs01", "proj/prod/fs01", ""];
/** Owner ids as the provider makes them, and none (state written before owner ids). */
const OWNER_IDS = ["3f0c6d1e-8a42-4c1b-9d7e-2b5a6c8d9e01", "b7e2a9c4-1d3f-4e5a-8b6c-7d8e9f0a1b2c", ""];
const [OWNER_ID, OTHER_ID] = OWNER_IDS;
const LABEL = "urn:pulumi:dev::proj::pulumi-smb-signing:index:SmbSigningPolicy::fs01";
const presetArb = fc.constantFrom(...PRESET_NAMES);
const modelSides = fc.record({ client: cmdletValues("client"), server: cmdletValues("server") });
/**
 * Any JSON value whose numbers a double holds exactly (at most 15 significant digits, integers
 * within 2^53). Windows PowerShell 5.1's ConvertFrom-Json reads longer ones as [decimal] or
 * [long] with every digit kept; the interpreter refuses those rather than guess (a gap, not an
 * answer), and the provider never sends one (Booleans, strings, whole numbers up to 10000).
 */
const scriptJsonValue = fc.jsonValue().map(function tame(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) ? Math.max(-(2 ** 52), Math.min(2 ** 52, v)) : Number(v.toPrecision(15));
  if (Array.isArray(v)) return v.map(tame);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tame(x)]));
  return v;
});
const scriptJson = scriptJsonValue.map((v) => JSON.stringify(v));
/** True when an object in the value has two keys that differ only in case (5.1's ConvertFrom-Json: "duplicated keys"). */
function hasCaseTwins(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasCaseTwins);
  if (v === null || typeof v !== "object") return false;
  const keys = Object.keys(v);
  return new Set(keys.map((k) => k.toLowerCase())).size < keys.length || Object.values(v).some(hasCaseTwins);
}
/** Settings by any name (ours, the other side's, every object's, any) with Booleans or anything else. */
const anyKeyValues = fc.dictionary(
  fc.oneof(fc.constantFrom(...cmdletNames("client"), ...cmdletNames("server")), fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 10 })),
  fc.oneof(fc.boolean(), scriptJsonValue),
  { maxKeys: 4 },
);

/** Booleans under our setting names and under names every JavaScript object answers to. */
const prototypeBooleans = fc.dictionary(fc.constantFrom(...cmdletNames("client"), ...PROTOTYPE_NAMES), fc.boolean(), { maxKeys: 3 });
const prototypeSides = fc.record({ client: prototypeBooleans, server: prototypeBooleans });

/** What an administrator, a bug or a tool might leave in HKLM:\SOFTWARE\pulumi-smb-signing. */
const recordText = fc.oneof(
  fc.record({ version: fc.constant(1), owner: fc.constantFrom(...OWNERS), originals: prototypeSides }).map((r) => JSON.stringify(r)),
  fc
    .record({ version: fc.constant(2), ownerId: fc.constantFrom(...OWNER_IDS), ownerLabel: fc.constantFrom(...OWNERS), claimedAt: fc.constant("2026-12-07T06:00:00Z"), originals: modelSides })
    .map((r) => JSON.stringify(r)),
  fc.constant(undefined),
  fc.string({ maxLength: 60 }),
  scriptJson,
  fc.record({ version: fc.constant(1), owner: fc.constantFrom(...OWNERS), originals: modelSides }).map((r) => JSON.stringify(r)),
  fc
    .record({
      version: fc.oneof(fc.constant(1), fc.constant(2), scriptJsonValue),
      owner: fc.oneof(fc.constantFrom(...OWNERS), scriptJsonValue),
      ownerId: fc.oneof(fc.constantFrom(...OWNER_IDS), scriptJsonValue),
      ownerLabel: fc.oneof(fc.constantFrom(...OWNERS), scriptJsonValue),
      claimedAt: fc.oneof(fc.string({ maxLength: 30 }), scriptJsonValue),
      originals: fc.oneof(fc.record({ client: anyKeyValues, server: anyKeyValues }, { requiredKeys: [] }), scriptJsonValue),
      extra: anyKeyValues,
    })
    .map(({ extra, ...r }) => JSON.stringify({ ...extra, ...r })),
);

/** Requests as the provider sends them, plus ones with unknown settings, non-Booleans and garbage. */
const requestText = fc.oneof(
  // Reads and applies that ask for the audit logs, with a bound small enough to be reached.
  fc
    .record({
      operation: fc.constantFrom("read", "apply"),
      ownerId: fc.constantFrom(...OWNER_IDS),
      ownerLabel: fc.constantFrom(...OWNERS),
      legacyOwners: fc.array(fc.constantFrom(...OWNERS), { maxLength: 2 }),
      client: cmdletValues("client"),
      server: cmdletValues("server"),
      auditDays: fc.integer({ min: 1, max: 90 }),
      auditMaxEvents: fc.integer({ min: 1, max: 40 }),
    })
    .map((r) => JSON.stringify(r)),
  fc
    .record({
      operation: fc.constantFrom("apply", "restore", "release"),
      ownerId: fc.constantFrom(...OWNER_IDS),
      ownerLabel: fc.constantFrom(...OWNERS),
      client: prototypeBooleans,
      server: prototypeBooleans,
      originals: prototypeSides,
    })
    .map((r) => JSON.stringify(r)),
  fc
    .record(
      {
        operation: fc.oneof(fc.constantFrom("read", "apply", "restore", "release"), scriptJsonValue),
        ownerId: fc.oneof(fc.constantFrom(...OWNER_IDS), scriptJsonValue),
        ownerLabel: fc.oneof(fc.constantFrom(...OWNERS), fc.string({ maxLength: 1100 }), scriptJsonValue),
        legacyOwners: fc.oneof(fc.constantFrom(...OWNERS), fc.array(fc.constantFrom(...OWNERS)), scriptJsonValue),
        takeOwnership: fc.oneof(fc.boolean(), scriptJsonValue),
        client: fc.oneof(cmdletValues("client"), anyKeyValues),
        server: fc.oneof(cmdletValues("server"), anyKeyValues),
        originals: fc.oneof(modelSides, fc.record({ client: anyKeyValues, server: anyKeyValues }), scriptJsonValue),
        auditDays: fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer(), scriptJsonValue),
        auditMaxEvents: fc.oneof(fc.integer({ min: 1, max: 10000 }), fc.integer(), scriptJsonValue),
      },
      { requiredKeys: ["operation"] },
    )
    .map((r) => JSON.stringify(r)),
  scriptJson,
  fc.string({ maxLength: 40 }),
);

/** One named data item an event may carry: the SMB audit events' names and others, any values, binary addresses of any bytes. */
const auditDataArb: fc.Arbitrary<AuditEventData> = fc.oneof(
  fc.record({
    name: fc.constantFrom("ClientName", "ServerName", "UserName", "SPN", "Other"),
    type: fc.constant("UnicodeString" as const),
    value: fc.oneof(fc.string({ maxLength: 20 }), fc.ipV4().map((a) => `\\\\${a}`), fc.ipV6(), fc.constant("")),
  }),
  fc.record({ name: fc.constantFrom("ClientNameLength", "ServerNameLength", "SmbClientDoesNotSupportEncryptionType"), type: fc.constantFrom("UInt16" as const, "UInt32" as const), value: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ name: fc.constantFrom("ServerRequiresSigning", "ClientRequireSigning", "ServerRequiresEncryption"), type: fc.constant("Boolean" as const), value: fc.boolean() }),
  fc.record({ name: fc.constant("ClientAddress"), type: fc.constant("Binary" as const), value: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 28 }) }),
);

/** What SMB audit may have logged: any IDs and versions, times within and beyond a window, any named data. */
const auditEventsArb = fc.array(
  fc.record({
    id: fc.constantFrom(3021, 3022, 3027, 31998, 31999, 3000),
    version: fc.constantFrom(0, 1),
    timeCreated: fc.integer({ min: 0, max: 100 * 86_400_000 }).map((ago) => new Date(Date.now() - ago).toISOString()),
    data: fc.array(auditDataArb, { maxLength: 5 }),
  }),
  { maxLength: 30 },
);

const SET_CMDLETS = ["Set-SmbClientConfiguration", "Set-SmbServerConfiguration"] as const;
const revertingArb = fc.record({ client: cmdletValues("client"), server: cmdletValues("server") }, { requiredKeys: [] });
const faultsArb = fc.record(
  { nonAdmin: fc.boolean(), failingCmdlet: fc.constantFrom(...SET_CMDLETS), revertingAgent: revertingArb },
  { requiredKeys: [] },
);
/** Group Policy as a domain or local policy may set it (any of our settings, either value, RSoP logging or not). */
const groupPolicyArb = fc.record({
  gpo: fc.constantFrom("Local Group Policy", "Contoso Baseline", "Default Domain Controllers Policy"),
  securityOptions: fc.record({ client: fc.dictionary(fc.constantFrom(...SECURITY_OPTIONS), fc.boolean(), { maxKeys: 2 }), server: fc.dictionary(fc.constantFrom(...SECURITY_OPTIONS), fc.boolean(), { maxKeys: 2 }) }),
  administrativeTemplates: fc.record({
    client: fc.dictionary(fc.constantFrom(...TEMPLATE_SETTINGS.client), fc.boolean(), { maxKeys: 2 }),
    server: fc.dictionary(fc.constantFrom(...TEMPLATE_SETTINGS.server), fc.boolean(), { maxKeys: 2 }),
  }),
  rsopLogging: fc.boolean(),
});

/**
 * Runs the shipped script. A construct the interpreter does not implement, or a command or
 * parameter the simulated Windows does not answer, is a gap in the simulation, not an answer the
 * script gives: the input is skipped (fc.pre) and counted, and more than a few skips fail the test.
 */
function scriptRun(state: HostState, request: unknown, gaps: Map<string, number>): ScriptRun {
  try {
    return runShipped(state, request);
  } catch (err) {
    if (!(err instanceof InterpreterError) && !(err instanceof SurfaceGap)) throw err;
    gaps.set(err.message, (gaps.get(err.message) ?? 0) + 1);
    fc.pre(false);
    throw err;
  }
}

function reportGaps(gaps: Map<string, number>, inputs: number): void {
  const skipped = [...gaps.values()].reduce((a, b) => a + b, 0);
  if (skipped > 0) console.log(`  skipped as simulation gaps: ${[...gaps].map(([m, n]) => `${m} (${n}x)`).join("; ")}`);
  assert.ok(skipped <= inputs * 0.02, `${skipped} of ${inputs} inputs met a gap of the simulation`);
}

/** The host's settings, values only. */
const settingsOf = (state: HostState) => ({ client: { ...state.client }, server: { ...state.server } });

/** Known settings with Boolean values in a record's originals, as the script reads them (names in any case). */
function knownOriginals(text: string | undefined): Originals | undefined {
  const raw = recordedOriginals(text);
  if (!raw) return undefined;
  const out: Originals = { client: {}, server: {} };
  for (const side of SIDES) {
    for (const [name, value] of Object.entries(raw[side])) {
      const known = cmdletNames(side).find((n) => n.toLowerCase() === name.toLowerCase());
      if (known && typeof value === "boolean") out[side][known] = value;
    }
  }
  return out;
}

const isValidRecord = (text: string | undefined) => {
  if (text === undefined) return false;
  try {
    const r = JSON.parse(text);
    return !!r && r.originals != null && ((r.version === 1 && typeof r.owner === "string") || (r.version === 2 && typeof r.ownerId === "string" && typeof r.ownerLabel === "string" && typeof r.claimedAt === "string"));
  } catch {
    return false;
  }
};

describe("smb-signing.ps1 on a simulated host, for any record and request", () => {
  before(async () => {
    await loadInterpreter();
  });

  it("replies ok or with a script error kind, never invents a setting, and its reply decodes", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    await holds(
      "smb-signing.ps1 (any record, any request)",
      fc.record({ preset: presetArb, record: recordText, request: requestText, faults: faultsArb, events: auditEventsArb }),
      ({ preset, record, request, faults, events }) => {
        inputs++;
        const state = newHostState(preset);
        for (const log of Object.values(state.auditLogs)) log!.events = events;
        const settings = { client: Object.keys(state.client).sort(), server: Object.keys(state.server).sort() };
        if (record !== undefined) state.record = record;
        state.faults = faults;
        const run = scriptRun(state, request, gaps);
        if (request === "") {
          // An empty -RequestJson (optional since the script also runs as a file) is no JSON: a typed badRequest, nothing written.
          assert.deepEqual([run.exitCode, run.reply?.kind, run.writes], [2, "badRequest", []]);
          return;
        }
        assert.ok(run.reply, `no JSON reply (exit ${run.exitCode}): ${run.stdout} ${run.stderr}`);
        const status = run.reply.status;
        assert.ok(status === "ok" || status === "error", `status ${String(status)}`);
        if (status === "ok") assert.equal(run.exitCode, 0);
        else {
          assert.equal(run.exitCode, 2);
          assert.ok(SCRIPT_ERROR_KINDS.includes(run.reply.kind as string) && run.reply.kind !== "unsupportedOs", `kind ${String(run.reply.kind)}`);
        }
        assert.equal(run.stderr, "", "nothing on stderr");
        for (const side of SIDES) {
          assert.deepEqual(Object.keys(state[side]).sort(), settings[side], `the host's ${side} settings are the ones it had`);
          for (const v of Object.values(state[side])) assert.equal(typeof v, "boolean");
        }
        const decoded = decodeOrHostError({ stdout: Buffer.from(run.stdout), stderr: Buffer.alloc(0), exitCode: run.exitCode });
        if (status === "error") assert.equal((decoded as HostError).kind, run.reply.kind);
        // An ok reply, audit findings included, is one the provider accepts.
        else assert.ok(!(decoded instanceof HostError), `an ok reply was refused: ${(decoded as Error).message}`);
      },
      400,
    );
    reportGaps(gaps, inputs);
  });

  it("writes a setting only once the host's record holds its original, and never changes a recorded original, across any sequence of requests on any host", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    const providerRequest = fc.record({
      operation: fc.constantFrom("read", "apply", "apply", "restore", "release"),
      ownerId: fc.constantFrom(OWNER_ID, OTHER_ID),
      ownerLabel: fc.constantFrom(LABEL, "urn:other"),
      legacyOwners: fc.array(fc.constantFrom(...OWNERS), { maxLength: 2 }),
      takeOwnership: fc.boolean(),
      client: cmdletValues("client"),
      server: cmdletValues("server"),
      originals: modelSides,
    });
    await holds(
      "smb-signing.ps1 (request sequences: the record before each write, originals kept)",
      fc.record({ preset: presetArb, record: recordText, requests: fc.array(providerRequest, { minLength: 1, maxLength: 4 }), faults: faultsArb, policy: fc.option(groupPolicyArb, { nil: undefined }) }),
      ({ preset, record, requests, faults, policy }) => {
        inputs++;
        const state = newHostState(preset);
        if (record !== undefined) state.record = record;
        if (policy) {
          state.groupPolicy = policy;
          applyGroupPolicy(state);
        }
        state.faults = faults;
        for (const request of requests) {
          const recordBefore = state.record;
          const run = scriptRun(state, request, gaps);
          const where = `${request.operation} ${JSON.stringify(request)}: ${run.stdout}`;
          // Only a restore puts values back without a record (from the originals its state knows).
          if (request.operation !== "restore") {
            for (const w of run.writes.filter((x) => x.part !== "record")) {
              const held = knownOriginals(w.recordBefore);
              // (Values the reverting agent puts back are the agent's writes, not the script's.)
              for (const name of w.names.filter((n) => !(n in (faults.revertingAgent?.[w.part as Side] ?? {})))) {
                assert.equal(typeof held?.[w.part as Side][name], "boolean", `${w.command} wrote ${w.part}.${name} while the record held no original for it (${where})`);
              }
            }
          }
          assert.ok(request.operation === "apply" || request.operation === "restore" || run.writes.every((w) => w.part === "record"), `a ${request.operation} changed a setting (${where})`);
          // A record that stays keeps every original it held (a complete restore removes it whole).
          if (isValidRecord(recordBefore) && state.record !== undefined) {
            const before = knownOriginals(recordBefore)!;
            const after = knownOriginals(state.record);
            for (const side of SIDES) {
              for (const [name, value] of Object.entries(before[side])) assert.equal(after?.[side][name], value, `the recorded original ${side}.${name} changed (${where})`);
            }
          }
        }
      },
      250,
    );
    reportGaps(gaps, inputs);
  });

  it("writes the record, holding the original of every setting it then changes, before the first Set-* of an apply that changes settings", async () => {
    // Every input here changes something: a host with no record, a released one, or this owner's,
    // and settings declared opposite to the host's values (none that the host's policy enforces).
    const gaps = new Map<string, number>();
    let inputs = 0;
    await holds(
      "smb-signing.ps1 (an apply that changes settings: the record first)",
      fc.record({
        preset: presetArb,
        record: fc.constantFrom("none", "released", "ours"),
        flip: fc.record({ client: fc.subarray(cmdletNames("client")), server: fc.subarray(cmdletNames("server")) }),
        keep: fc.record({ client: cmdletValues("client"), server: cmdletValues("server") }),
      }),
      ({ preset, record, flip, keep }) => {
        inputs++;
        const state = newHostState(preset);
        const gp = state.groupPolicy;
        const declared: Originals = { client: {}, server: {} };
        for (const side of SIDES) {
          for (const [name, v] of Object.entries(keep[side])) if (name in state[side]) declared[side][name] = v;
          for (const name of flip[side]) if (name in state[side]) declared[side][name] = !state[side][name];
          for (const name of Object.keys(declared[side])) if (name in { ...gp.securityOptions[side], ...gp.administrativeTemplates[side] }) delete declared[side][name];
        }
        const changes = SIDES.some((side) => Object.entries(declared[side]).some(([name, v]) => state[side][name] !== v));
        fc.pre(changes);
        if (record !== "none") state.record = JSON.stringify({ version: 2, ownerId: record === "ours" ? OWNER_ID : "", ownerLabel: LABEL, claimedAt: "2026-12-07T06:00:00.0000000Z", originals: { client: {}, server: {} } });
        const run = scriptRun(state, { operation: "apply", ownerId: OWNER_ID, ownerLabel: LABEL, ...declared }, gaps);
        assert.equal(run.reply?.status, "ok", run.stdout + run.stderr);
        assert.equal(run.writes[0]?.part, "record", `the first change is the record's: ${JSON.stringify(run.writes.map((w) => `${w.command} ${w.part}`))}`);
        for (const w of run.writes.filter((x) => x.part !== "record")) {
          const held = knownOriginals(w.recordBefore);
          for (const name of w.names) assert.equal(typeof held?.[w.part as Side][name], "boolean", `${w.command} wrote ${w.part}.${name} before the record held its original`);
        }
      },
      100,
    );
    reportGaps(gaps, inputs);
  });

  it("refuses an apply on a host another owner's record claims (no takeOwnership) as ownedElsewhere, before writing anything", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    const othersRecord = fc.oneof(
      fc.record({ version: fc.constant(2), ownerId: fc.constant(OTHER_ID), ownerLabel: fc.constantFrom(...OWNERS), claimedAt: fc.constant("2026-12-07T06:00:00.0000000Z"), originals: modelSides }),
      fc.record({ version: fc.constant(1), owner: fc.constantFrom("proj/prod/fs01", "other/stack/res"), originals: modelSides }),
    );
    await holds(
      "smb-signing.ps1 (another owner's record)",
      fc.record({
        preset: presetArb,
        record: othersRecord,
        declared: modelSides,
        // Only a JSON true takes a host over.
        takeOwnership: fc.constantFrom(false, undefined, "true", 1, null),
        faults: fc.record({ nonAdmin: fc.boolean(), failingCmdlet: fc.constantFrom(...SET_CMDLETS) }, { requiredKeys: [] }),
        policy: fc.option(groupPolicyArb, { nil: undefined }),
      }),
      ({ preset, record, declared, takeOwnership, faults, policy }) => {
        inputs++;
        const state = newHostState(preset);
        if (policy) {
          state.groupPolicy = policy;
          applyGroupPolicy(state);
        }
        state.record = JSON.stringify(record);
        state.faults = faults;
        const host = structuredClone(settingsOf(state));
        const run = scriptRun(state, { operation: "apply", ownerId: OWNER_ID, ownerLabel: LABEL, legacyOwners: ["proj/dev/fs01"], takeOwnership, ...declared, originals: { client: {}, server: {} } }, gaps);
        assert.equal(run.reply?.kind, "ownedElsewhere", run.stdout);
        assert.equal(run.exitCode, 2);
        assert.deepEqual(run.writes, [], "nothing written");
        assert.deepEqual(settingsOf(state), host);
        assert.equal(state.record, JSON.stringify(record));
      },
      200,
    );
    reportGaps(gaps, inputs);
  });

  it("refuses an apply of a value Group Policy enforces otherwise as policyConflict, naming the setting and its GPO, before writing anything", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    const conflictArb = presetArb.chain((preset) => {
      const host = newHostState(preset);
      const names = SIDES.flatMap((side) => Object.keys(host[side]).map((name) => ({ side, name })));
      return fc.record({
        preset: fc.constant(preset),
        enforced: fc.constantFrom(...names),
        value: fc.boolean(),
        gpo: fc.constantFrom("Local Group Policy", "Contoso Baseline"),
        rsopLogging: fc.boolean(),
        // Other declared settings, among those the host has.
        others: fc.record({ client: fc.dictionary(fc.constantFrom(...Object.keys(host.client)), fc.boolean(), { maxKeys: 3 }), server: fc.dictionary(fc.constantFrom(...Object.keys(host.server)), fc.boolean(), { maxKeys: 3 }) }),
        ownRecord: fc.boolean(),
        faults: fc.record({ nonAdmin: fc.boolean(), failingCmdlet: fc.constantFrom(...SET_CMDLETS), revertingAgent: revertingArb }, { requiredKeys: [] }),
      });
    });
    await holds(
      "smb-signing.ps1 (Group Policy conflicts)",
      conflictArb,
      ({ preset, enforced, value, gpo, rsopLogging, others, ownRecord, faults }) => {
        inputs++;
        const state = newHostState(preset);
        const securityOption = SECURITY_OPTIONS.includes(enforced.name);
        state.groupPolicy = {
          gpo,
          securityOptions: { client: {}, server: {} },
          administrativeTemplates: { client: {}, server: {} },
          // RSoP is where the script learns of a Security Option: without its logging none is known.
          rsopLogging: securityOption ? true : rsopLogging,
        };
        (securityOption ? state.groupPolicy.securityOptions : state.groupPolicy.administrativeTemplates)[enforced.side][enforced.name] = value;
        applyGroupPolicy(state);
        if (ownRecord) state.record = JSON.stringify({ version: 2, ownerId: OWNER_ID, ownerLabel: LABEL, claimedAt: "2026-12-07T06:00:00.0000000Z", originals: { client: {}, server: {} } });
        state.faults = faults;
        const declared = structuredClone(others);
        declared[enforced.side][enforced.name] = !value;
        const host = structuredClone(settingsOf(state));
        const recordBefore = state.record;
        const run = scriptRun(state, { operation: "apply", ownerId: OWNER_ID, ownerLabel: LABEL, legacyOwners: [], ...declared, originals: { client: {}, server: {} } }, gaps);
        assert.equal(run.reply?.kind, "policyConflict", run.stdout);
        assert.equal(run.exitCode, 2);
        const conflicts = run.reply.conflicts as Array<Record<string, unknown>>;
        assert.ok(
          conflicts.some((c) => c.side === enforced.side && c.name === enforced.name && c.declared === !value && c.enforced === value && c.gpo === (rsopLogging || securityOption ? gpo : "a Group Policy object (RSoP names none)")),
          JSON.stringify(conflicts),
        );
        assert.deepEqual(run.writes, [], "nothing written");
        assert.deepEqual(settingsOf(state), host);
        assert.equal(state.record, recordBefore);
      },
      200,
    );
    reportGaps(gaps, inputs);
  });

  it("reports Group Policy it cannot see as unknown, never as no policy, and on a domain controller then changes no Security Option that no visible policy confirms", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    const unseen = fc.constantFrom("rsopLoggingOff", "winlogonRsopLoggingOff", "accessDenied", "namespaceMissing", "empty");
    const unseenArb = presetArb.chain((preset) => {
      const host = newHostState(preset);
      return fc.record({
        preset: fc.constant(preset),
        unseen,
        groupPolicy: groupPolicyArb,
        mdm: fc.option(fc.record({ client: fc.dictionary(fc.constantFrom(...SECURITY_OPTIONS), fc.boolean(), { maxKeys: 2 }), server: fc.dictionary(fc.constantFrom(...SECURITY_OPTIONS), fc.boolean(), { maxKeys: 2 }) }), { nil: undefined }),
        declared: fc.record({ client: fc.dictionary(fc.constantFrom(...Object.keys(host.client)), fc.boolean(), { maxKeys: 3 }), server: fc.dictionary(fc.constantFrom(...Object.keys(host.server)), fc.boolean(), { maxKeys: 3 }) }),
        operation: fc.constantFrom("read", "apply"),
      });
    });
    await holds(
      "smb-signing.ps1 (Group Policy it cannot see)",
      unseenArb,
      ({ preset, unseen, groupPolicy, mdm, declared, operation }) => {
        inputs++;
        const state = newHostState(preset);
        state.groupPolicy = { ...groupPolicy, rsopLogging: unseen !== "rsopLoggingOff" };
        if (unseen === "winlogonRsopLoggingOff") state.groupPolicy.winlogonRsopLogging = false;
        if (unseen === "accessDenied" || unseen === "namespaceMissing" || unseen === "empty") state.groupPolicy.rsopQuery = unseen;
        if (mdm) state.mdm = { securityOptions: mdm };
        applyGroupPolicy(state);
        const before = structuredClone(settingsOf(state));
        const request = operation === "read" ? { operation, ownerId: OWNER_ID, ownerLabel: LABEL, legacyOwners: [] } : { operation, ownerId: OWNER_ID, ownerLabel: LABEL, legacyOwners: [], ...declared, originals: { client: {}, server: {} } };
        const run = scriptRun(state, request, gaps);
        assert.ok(run.reply, run.stdout + run.stderr);
        const visibility = run.reply.policyVisibility as { state: string } | undefined;
        if (run.reply.status === "ok" || run.reply.kind === "policyConflict" || run.reply.kind === "policyUnknown") assert.equal(visibility?.state, "unknown", run.stdout);
        if (state.os.domainRole < 4) return;
        for (const side of SIDES) {
          for (const name of SECURITY_OPTIONS) {
            if (state[side][name] === before[side][name]) continue;
            assert.equal(state[side][name], mdm?.[side][name], `${side}.${name} changed on a domain controller whose policy is unknown: ${run.stdout}`);
          }
        }
      },
      150,
    );
    reportGaps(gaps, inputs);
  });

  it("refuses a request with an unknown or non-Boolean setting on either side as badRequest, before writing anything", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    const badEntry = fc.oneof(
      // A name the side does not manage (the other side's, a typo, a JavaScript object's, any) with a Boolean.
      fc
        .tuple(fc.constantFrom("client" as Side, "server" as Side), fc.oneof(fc.constantFrom("EncryptData", "RequireSecuritySignatur", "AuditClientDoesNotSupportSigning", "AuditServerDoesNotSupportSigning", ...PROTOTYPE_NAMES), fc.string({ minLength: 1, maxLength: 12 })), fc.boolean())
        // PowerShell compares names ignoring case: another case of a managed name is that name.
        .filter(([side, name]) => !cmdletNames(side).some((n) => n.toLowerCase() === name.toLowerCase()))
        .map(([side, name, value]) => ({ side, name, value: value as unknown })),
      // A name it manages, with a value that is no Boolean.
      // (Not an object with two keys that differ only in case: ConvertFrom-Json refuses the whole request for that, as the first property sees.)
      fc.tuple(fc.constantFrom("client" as Side, "server" as Side), scriptJsonValue.filter((v) => typeof v !== "boolean" && !hasCaseTwins(v))).chain(([side, value]) => fc.constantFrom(...cmdletNames(side)).map((name) => ({ side, name, value }))),
    );
    await holds(
      "smb-signing.ps1 (a setting it does not know, or no Boolean)",
      fc.record({ preset: presetArb, operation: fc.constantFrom("apply", "apply", "restore", "read"), bad: badEntry }),
      ({ preset, operation, bad }) => {
        inputs++;
        const state = newHostState(preset);
        // Declare the opposite of every value the host has on both sides: a run that went on would write.
        const declared = { client: Object.fromEntries(Object.entries(state.client).map(([n, v]) => [n, !v])), server: Object.fromEntries(Object.entries(state.server).map(([n, v]) => [n, !v])) } as Record<Side, Record<string, unknown>>;
        declared[bad.side] = { ...declared[bad.side], [bad.name]: bad.value };
        const host = structuredClone(settingsOf(state));
        const run = scriptRun(state, { operation, ownerId: OWNER_ID, ownerLabel: LABEL, ...declared, originals: { client: {}, server: {} } }, gaps);
        assert.equal(run.reply?.kind, "badRequest", run.stdout);
        assert.match(String(run.reply.message), new RegExp(`^unknown ${bad.side} setting `));
        assert.deepEqual(run.writes, [], "nothing written");
        assert.deepEqual(settingsOf(state), host);
        assert.equal(state.record, undefined);
      },
      200,
    );
    reportGaps(gaps, inputs);
  });

  it("reports as `after` the host re-read once it has written: what another agent put back shows", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    await holds(
      "smb-signing.ps1 (after is the re-read host)",
      fc.record({ preset: presetArb, operation: fc.constantFrom("apply", "restore"), declared: modelSides, originals: modelSides, reverting: revertingArb, record: fc.boolean() }),
      ({ preset, operation, declared, originals, reverting, record }) => {
        inputs++;
        const state = newHostState(preset);
        if (record) state.record = JSON.stringify({ version: 2, ownerId: OWNER_ID, ownerLabel: LABEL, claimedAt: "2026-12-07T06:00:00.0000000Z", originals });
        state.faults = { revertingAgent: reverting };
        const run = scriptRun(state, { operation, ownerId: OWNER_ID, ownerLabel: LABEL, ...declared, originals }, gaps);
        fc.pre(run.reply?.status === "ok");
        const after = run.reply!.after as Record<Side, Record<string, boolean>>;
        for (const side of SIDES) {
          for (const [name, value] of Object.entries(after[side])) assert.equal(value, state[side][name], `after.${side}.${name} is not the host's value (${run.stdout})`);
        }
        // And it is the host as written: before, with what the run changed.
        const before = run.reply!.before as Record<Side, Record<string, boolean>>;
        const changed = run.reply!.changed as string[];
        for (const side of SIDES) {
          for (const name of Object.keys(before[side])) {
            if (!changed.includes(`${side}.${name}`)) continue;
            const put = reverting[side]?.[name];
            assert.equal(after[side][name], put ?? !before[side][name], `${side}.${name} after a change`);
          }
        }
      },
      250,
    );
    reportGaps(gaps, inputs);
  });

  it("removes the record on a restore exactly when every original is back on the host", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    await holds(
      "smb-signing.ps1 (a restore removes the record only when complete)",
      fc.record({ preset: presetArb, originals: modelSides, drift: modelSides, reverting: revertingArb, failingCmdlet: fc.option(fc.constantFrom(...SET_CMDLETS), { nil: undefined }), fromState: fc.boolean() }),
      ({ preset, originals, drift, reverting, failingCmdlet, fromState }) => {
        inputs++;
        const state = newHostState(preset);
        for (const side of SIDES) for (const [name, v] of Object.entries(drift[side])) if (name in state[side]) state[side][name] = v;
        const record = JSON.stringify({ version: 2, ownerId: OWNER_ID, ownerLabel: LABEL, claimedAt: "2026-12-07T06:00:00.0000000Z", originals });
        state.record = record;
        state.faults = { revertingAgent: reverting, ...(failingCmdlet ? { failingCmdlet } : {}) };
        const has = { client: { ...state.client }, server: { ...state.server } };
        const run = scriptRun(state, { operation: "restore", ownerId: OWNER_ID, ownerLabel: LABEL, originals: fromState ? originals : { client: {}, server: {} } }, gaps);
        // Every original the host has a setting for (before the run: an agent may add one), back as it was; a setting Group Policy
        // enforces with another value (a domain controller's inbound signing) is the policy's.
        const gp = state.groupPolicy;
        const policyOwns = (side: Side, name: string, v: boolean) => { const e = { ...gp.securityOptions[side], ...gp.administrativeTemplates[side] }[name]; return e !== undefined && e !== v; };
        const back = SIDES.every((side) => Object.entries(originals[side]).every(([name, v]) => !(name in has[side]) || state[side][name] === v || policyOwns(side, name, v)));
        if (state.record === undefined) {
          assert.ok(back, `the record was removed, but the host is not as the originals say: ${JSON.stringify(settingsOf(state))} (${run.stdout})`);
          assert.equal(run.reply?.restored, true, run.stdout);
        } else {
          assert.equal(state.record, record, "a restore leaves the record as it was, or removes it");
          assert.ok(run.reply?.restored !== true, `restored, yet the record stays (${run.stdout})`);
          // A restore that succeeded in putting everything back removes it.
          assert.ok(!(run.reply?.status === "ok" && back), `every original is back, yet the record stays (${run.stdout})`);
        }
      },
      250,
    );
    reportGaps(gaps, inputs);
  });

  const settingRef = fc.oneof(...SIDES.map((side) => fc.record({ side: fc.constant(side), name: fc.constantFrom(...cmdletNames(side)), value: fc.boolean() })));
  /** One step of one owner's life with a host: an apply of some settings, perhaps a fault, perhaps drift before it. */
  const step = fc.record({
    declare: fc.uniqueArray(settingRef, { selector: (s) => `${s.side}.${s.name}`, maxLength: 5 }),
    stateKnows: fc.double({ min: 0, max: 1, noNaN: true }),
    failingCmdlet: fc.option(fc.constantFrom(...SET_CMDLETS), { nil: undefined }),
    drift: fc.option(settingRef, { nil: undefined }),
  });

  it("keeps the values from before each setting's first apply across any sequence of applies by one owner, and a restore puts every one back and removes the record", async () => {
    const gaps = new Map<string, number>();
    let inputs = 0;
    await holds(
      "smb-signing.ps1 (apply sequences, then restore)",
      fc.record({ preset: presetArb, ownerId: fc.constantFrom(OWNER_ID, OTHER_ID), steps: fc.array(step, { minLength: 1, maxLength: 6 }), forgetful: fc.boolean() }),
      ({ preset, ownerId, steps, forgetful }) => {
        inputs++;
        const owner = { ownerId, ownerLabel: LABEL, legacyOwners: [] };
        const state: HostState = newHostState(preset);
        // The value each setting had just before the first apply that managed it: the truth to keep.
        const expected: Originals = { client: {}, server: {} };
        const recorded = () => knownOriginals(state.record) ?? { client: {}, server: {} };
        const stateView = (share: number) => {
          // What the caller's Pulumi state knows of the originals: some of them (none when forgetful).
          const view: Originals = { client: {}, server: {} };
          for (const side of SIDES) {
            const names = Object.keys(expected[side]);
            for (const name of names.slice(0, forgetful ? 0 : Math.round(names.length * share))) view[side][name] = expected[side][name];
          }
          return view;
        };
        for (const s of steps) {
          if (s.drift && s.drift.name in state[s.drift.side]) state[s.drift.side][s.drift.name] = s.drift.value;
          state.faults = s.failingCmdlet ? { failingCmdlet: s.failingCmdlet } : {};
          const declared: Originals = { client: {}, server: {} };
          for (const d of s.declare) declared[d.side][d.name] = d.value;
          const hostBefore = settingsOf(state);
          const run = scriptRun(state, { operation: "apply", ...owner, takeOwnership: false, ...declared, originals: stateView(s.stateKnows) }, gaps);
          // An apply refused for a setting this host lacks, or one that Group Policy enforces
          // otherwise, manages nothing; any other apply manages what it declares.
          if (run.reply?.kind !== "unsupportedSetting" && run.reply?.kind !== "policyConflict") {
            assert.ok(run.reply?.status === "ok" || run.reply?.kind === "failed", run.stdout);
            for (const side of SIDES) for (const name of Object.keys(declared[side])) if (!(name in expected[side])) expected[side][name] = hostBefore[side][name];
          }
          assert.deepEqual(recorded(), expected, "the record holds the values from before each setting's first apply");
        }
        state.faults = {};
        const beforeRestore = settingsOf(state);
        const restore = scriptRun(state, { operation: "restore", ...owner, takeOwnership: false, originals: stateView(1) }, gaps);
        assert.equal(restore.reply?.status, "ok", restore.stdout);
        assert.equal(restore.reply.restored, true);
        for (const side of SIDES) {
          for (const [name, v] of Object.entries(expected[side])) {
            // A setting Group Policy enforces with another value is left to the policy: untouched.
            const enforced = state.groupPolicy.securityOptions[side][name] ?? state.groupPolicy.administrativeTemplates[side][name];
            const leftToPolicy = enforced !== undefined && enforced !== v;
            assert.equal(state[side][name], leftToPolicy ? beforeRestore[side][name] : v, `${side}.${name} restored`);
          }
        }
        assert.equal(state.record, undefined, "the record is removed after a complete restore");
      },
      150,
    );
    reportGaps(gaps, inputs);
  });
});
