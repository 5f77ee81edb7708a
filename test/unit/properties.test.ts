// Property-based tests (fast-check) of everything that takes outside input: check, diff, the host's reply, and the on-host record.
import assert from "node:assert/strict";
import fc from "fast-check";
import * as ops from "../../provider/operations";
import { diffPolicy, PolicyOutputs } from "../../provider/domain/policy";
import { parsePolicyInputs, PolicyInputs, UNKNOWN } from "../../provider/domain/schema";
import { SETTINGS, Side, SIDES } from "../../provider/domain/settings";
import { HostError, HostErrorKind } from "../../provider/errors";
import { decodeReply, SigningResult } from "../../provider/host/signingScript";
import { asciiJson, clixml, HostState, newHostState, PresetName, PRESETS, runSigningScript } from "../simhost/model";
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
  assert.ok(Array.isArray(r.changed) && r.changed.every((c) => typeof c === "string"));
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

// ---- 4. the on-host record (the model of smb-signing.ps1) -----------------------------------

type ModelValues = Record<string, boolean>;
const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
const OWNERS = ["proj/dev/fs01", "proj/prod/fs01", ""];
/** Owner ids as the provider makes them, and none (state written before owner ids). */
const OWNER_IDS = ["3f0c6d1e-8a42-4c1b-9d7e-2b5a6c8d9e01", "b7e2a9c4-1d3f-4e5a-8b6c-7d8e9f0a1b2c", ""];
const presetArb = fc.constantFrom(...PRESET_NAMES);
const modelSides = fc.record({ client: cmdletValues("client"), server: cmdletValues("server") });
/** Settings by any name (ours, the other side's, every object's, any) with Booleans or anything else. */
const anyKeyValues = fc.dictionary(
  fc.oneof(fc.constantFrom(...cmdletNames("client"), ...cmdletNames("server")), fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 10 })),
  fc.oneof(fc.boolean(), fc.jsonValue()),
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
  fc.json(),
  fc.record({ version: fc.constant(1), owner: fc.constantFrom(...OWNERS), originals: modelSides }).map((r) => JSON.stringify(r)),
  fc
    .record({
      version: fc.oneof(fc.constant(1), fc.constant(2), fc.jsonValue()),
      owner: fc.oneof(fc.constantFrom(...OWNERS), fc.jsonValue()),
      ownerId: fc.oneof(fc.constantFrom(...OWNER_IDS), fc.jsonValue()),
      ownerLabel: fc.oneof(fc.constantFrom(...OWNERS), fc.jsonValue()),
      claimedAt: fc.oneof(fc.string({ maxLength: 30 }), fc.jsonValue()),
      originals: fc.oneof(fc.record({ client: anyKeyValues, server: anyKeyValues }, { requiredKeys: [] }), fc.jsonValue()),
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
    .record({
      operation: fc.oneof(fc.constantFrom("read", "apply", "restore", "release"), fc.jsonValue()),
      ownerId: fc.oneof(fc.constantFrom(...OWNER_IDS), fc.jsonValue()),
      ownerLabel: fc.oneof(fc.constantFrom(...OWNERS), fc.string({ maxLength: 1100 }), fc.jsonValue()),
      legacyOwners: fc.oneof(fc.constantFrom(...OWNERS), fc.array(fc.constantFrom(...OWNERS)), fc.jsonValue()),
      takeOwnership: fc.oneof(fc.boolean(), fc.jsonValue()),
      client: fc.oneof(cmdletValues("client"), anyKeyValues),
      server: fc.oneof(cmdletValues("server"), anyKeyValues),
      originals: fc.oneof(modelSides, fc.record({ client: anyKeyValues, server: anyKeyValues }), fc.jsonValue()),
      auditDays: fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer(), fc.jsonValue()),
      auditMaxEvents: fc.oneof(fc.integer({ min: 1, max: 10000 }), fc.integer(), fc.jsonValue()),
    }, { requiredKeys: ["operation"] })
    .map((r) => JSON.stringify(r)),
  fc.json(),
  fc.string({ maxLength: 40 }),
);

/** What SMB audit may have logged: any IDs, times within and beyond a window, any field values. */
const auditEventsArb = fc.array(
  fc.record({
    id: fc.constantFrom(3021, 3022, 3027, 31998, 31999, 3000),
    timeCreated: fc.integer({ min: 0, max: 100 * 86_400_000 }).map((ago) => new Date(Date.now() - ago).toISOString()),
    properties: fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.ipV4(), fc.ipV6(), fc.integer()), { maxLength: 4 }),
  }),
  { maxLength: 30 },
);

const faultsArb = fc.record(
  { nonAdmin: fc.boolean(), failingCmdlet: fc.constantFrom("Set-SmbClientConfiguration" as const, "Set-SmbServerConfiguration" as const) },
  { requiredKeys: [] },
);

describe("the simulated host's smb-signing.ps1, for any record and request", () => {
  it("replies ok or with a script error kind, never throws, never invents a setting, and its reply decodes", async () => {
    await holds(
      "runSigningScript (any record, any request)",
      fc.record({ preset: presetArb, record: recordText, request: requestText, faults: faultsArb, events: auditEventsArb }),
      ({ preset, record, request, faults, events }) => {
        const state = newHostState(preset);
        for (const log of Object.values(state.auditLogs)) log!.events = events;
        const settings = { client: Object.keys(state.client).sort(), server: Object.keys(state.server).sort() };
        if (record !== undefined) state.record = record;
        state.faults = faults;
        const outcome = runSigningScript(state, request);
        const status = outcome.reply.status;
        assert.ok(status === "ok" || status === "error", `status ${String(status)}`);
        if (status === "ok") assert.equal(outcome.exitCode, 0);
        else {
          assert.equal(outcome.exitCode, 2);
          assert.ok(SCRIPT_ERROR_KINDS.includes(outcome.reply.kind as string) && outcome.reply.kind !== "unsupportedOs", `kind ${String(outcome.reply.kind)}`);
        }
        for (const side of SIDES) {
          assert.deepEqual(Object.keys(state[side]).sort(), settings[side], `the host's ${side} settings are the ones it had`);
          for (const v of Object.values(state[side])) assert.equal(typeof v, "boolean");
        }
        const decoded = decodeOrHostError({ stdout: Buffer.from(asciiJson(outcome.reply)), stderr: Buffer.alloc(0), exitCode: outcome.exitCode });
        if (status === "error") assert.equal((decoded as HostError).kind, outcome.reply.kind);
        // An ok reply, audit findings included, is one the provider accepts.
        else assert.ok(!(decoded instanceof HostError), `an ok reply was refused: ${(decoded as Error).message}`);
      },
      1500,
    );
  });

  const settingRef = fc.oneof(
    ...SIDES.map((side) => fc.record({ side: fc.constant(side), name: fc.constantFrom(...cmdletNames(side)), value: fc.boolean() })),
  );
  /** One step of one owner's life with a host: an apply of some settings, perhaps a fault, perhaps drift before it. */
  const step = fc.record({
    declare: fc.uniqueArray(settingRef, { selector: (s) => `${s.side}.${s.name}`, maxLength: 5 }),
    stateKnows: fc.double({ min: 0, max: 1, noNaN: true }),
    failingCmdlet: fc.option(fc.constantFrom("Set-SmbClientConfiguration" as const, "Set-SmbServerConfiguration" as const), { nil: undefined }),
    drift: fc.option(settingRef, { nil: undefined }),
  });

  it("never overwrites a recorded original across any sequence of applies by one owner, and a restore puts every one back and removes the record", async () => {
    await holds(
      "runSigningScript (apply sequences, then restore)",
      fc.record({ preset: presetArb, ownerId: fc.constantFrom(...OWNER_IDS.filter((id) => id !== "")), steps: fc.array(step, { minLength: 1, maxLength: 8 }), forgetful: fc.boolean() }),
      ({ preset, ownerId, steps, forgetful }) => {
        const owner = { ownerId, ownerLabel: "urn:pulumi:dev::proj::t::fs01", legacyOwners: [] };
        const state: HostState = newHostState(preset);
        // The value each setting had just before the first apply that managed it: the truth to keep.
        const expected: { client: ModelValues; server: ModelValues } = { client: {}, server: {} };
        const recorded = () => (state.record === undefined ? { client: {}, server: {} } : (JSON.parse(state.record).originals as typeof expected));
        const stateView = (share: number) => {
          // What the caller's Pulumi state knows of the originals: some of them (none when forgetful).
          const view: typeof expected = { client: {}, server: {} };
          for (const side of SIDES) {
            const names = Object.keys(expected[side]);
            for (const name of names.slice(0, forgetful ? 0 : Math.round(names.length * share))) view[side][name] = expected[side][name];
          }
          return view;
        };
        for (const s of steps) {
          if (s.drift && s.drift.name in state[s.drift.side]) state[s.drift.side][s.drift.name] = s.drift.value;
          state.faults = s.failingCmdlet ? { failingCmdlet: s.failingCmdlet } : {};
          const declared: typeof expected = { client: {}, server: {} };
          for (const d of s.declare) declared[d.side][d.name] = d.value;
          const hostBefore = { client: { ...state.client }, server: { ...state.server } };
          const outcome = runSigningScript(state, JSON.stringify({ operation: "apply", ...owner, takeOwnership: false, ...declared, originals: stateView(s.stateKnows) }));
          // An apply refused for a setting this host lacks, or one that Group Policy enforces
          // otherwise, manages nothing; any other apply manages what it declares.
          if (outcome.reply.kind !== "unsupportedSetting" && outcome.reply.kind !== "policyConflict") {
            assert.ok(outcome.reply.status === "ok" || outcome.reply.kind === "failed", JSON.stringify(outcome.reply));
            for (const side of SIDES) for (const name of Object.keys(declared[side])) if (!(name in expected[side])) expected[side][name] = hostBefore[side][name];
          }
          assert.deepEqual(recorded(), expected, "the record holds the values from before each setting's first apply");
        }
        state.faults = {};
        const beforeRestore = { client: { ...state.client }, server: { ...state.server } };
        const restore = runSigningScript(state, JSON.stringify({ operation: "restore", ...owner, takeOwnership: false, originals: stateView(1) }));
        assert.equal(restore.reply.status, "ok", JSON.stringify(restore.reply));
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
      500,
    );
  });
});
