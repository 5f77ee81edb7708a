// NOT RUN BY THIS REPOSITORY'S CI against Windows. The real-host experiment of the workflow
// (.github/workflows/windows.yml, job "real-host-experiment"): on a THROW-AWAY Windows host (a
// GitHub runner, discarded after the job) it CHANGES SMB signing through the provider's own path,
// runSigningScript -> bootstrap.ps1 -> smb-signing.ps1, and puts everything back; the workflow's
// static PowerShell files (test/windows/realhost/) make an SMB connection that does not sign in
// between and dump what Windows logged. What the first real run prints settles what
// docs/windows-model.md could only assume (issue 22). Run here only against simulated hosts
// (test/integration/signingExperiment.test.ts). `--help` lists the phases.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { DeclaredSettings, ObservedSettings } from "../../provider/domain/policy";
import type { Connection } from "../../provider/domain/schema";
import { SETTINGS, SIDES, Side } from "../../provider/domain/settings";
import { HostError } from "../../provider/errors";
import { deadlineIn } from "../../provider/host/retry";
import { runSigningScript, SigningRequest, SigningResult } from "../../provider/host/signingScript";
import * as ops from "../../provider/operations";

const USAGE = `usage: node dist/test/windows/signingExperiment.js PHASE --host H --user U --out-dir DIR
         [--port P] [--transport ssh|winrm] [--host-key SHA256:...]
         [--password-env VAR | --key-file F [--passphrase-env VAR]]

NOT RUN BY THIS REPOSITORY'S CI against Windows. For a THROW-AWAY Windows host only: it changes
the host's SMB signing settings through the provider's own script (smb-signing.ps1) and puts
them back. Every reply is printed and written to DIR as JSON; DIR also keeps the originals and
the experiment's owner id between phases.

phases, in this order:
  flip      read the host's values (kept in DIR/originals.json), set client.requireSigning and
            server.requireSigning to the opposite, read, restore, read: the values must be back
  unsigned  set client.requireSigning and server.requireSigning to false and turn on
            client.auditServerDoesNotSupportSigning and server.auditClientDoesNotSupportSigning
            where the host has them (its record keeps the originals)
  audit     read both SMB audit logs through the script (the last day, at most 2000 events each)
  restore   put back what the record holds and compare every value with DIR/originals.json

Exit code: 0 the phase did what it says; 1 it did not (a step failed, a value is not as
expected); 2 wrong arguments.`;

export const PHASES = ["flip", "unsigned", "audit", "restore"] as const;
export type Phase = (typeof PHASES)[number];

/** The owner label of the experiment's record on the host. */
export const EXPERIMENT_LABEL = "real-host-experiment (test/windows/signingExperiment.ts)";

class UsageError extends Error {}

interface Options {
  phase: Phase;
  outDir: string;
  connection: Record<string, unknown>;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        host: { type: "string" },
        user: { type: "string" },
        port: { type: "string" },
        transport: { type: "string" },
        "host-key": { type: "string" },
        "password-env": { type: "string" },
        "key-file": { type: "string" },
        "passphrase-env": { type: "string" },
        "out-dir": { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (err) {
    // Node's messages quote the offending argument, which may be a mistyped password.
    const option = /'(--?[A-Za-z-]+)/.exec((err as Error).message)?.[1];
    throw new UsageError(`unknown option or missing value ${option ?? ""}`.trim());
  }
  const v = parsed.values;
  if (v.help) return "help";
  if (parsed.positionals.length !== 1 || !(PHASES as readonly string[]).includes(parsed.positionals[0])) {
    throw new UsageError(`give one phase: ${PHASES.join(", ")} (others are not shown: the password goes in an environment variable)`);
  }
  if (!v.host) throw new UsageError("--host is required");
  if (!v.user) throw new UsageError("--user is required");
  if (!v["out-dir"]) throw new UsageError("--out-dir is required");
  const transport = v.transport ?? "ssh";
  if (transport !== "ssh" && transport !== "winrm") throw new UsageError('--transport must be "ssh" or "winrm"');
  if (v.port !== undefined && !/^\d{1,5}$/.test(v.port)) throw new UsageError("--port must be a port number");
  if ([v["password-env"], v["key-file"]].filter((x) => x !== undefined).length !== 1) throw new UsageError("give exactly one of --password-env and --key-file");
  const c: Record<string, unknown> = { transport, host: v.host, user: v.user };
  if (v.port !== undefined) c.port = Number(v.port);
  if (v["host-key"] !== undefined) c.hostKey = v["host-key"];
  if (v["password-env"] !== undefined) {
    c.password = env[v["password-env"]];
    if (!c.password) throw new UsageError("the environment variable named by --password-env is not set or is empty");
  }
  if (v["key-file"] !== undefined) {
    try {
      c.privateKey = fs.readFileSync(v["key-file"], "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --key-file: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
  }
  if (v["passphrase-env"] !== undefined) {
    c.passphrase = env[v["passphrase-env"]];
    if (!c.passphrase) throw new UsageError("the environment variable named by --passphrase-env is not set or is empty");
  }
  return { phase: parsed.positionals[0] as Phase, outDir: v["out-dir"], connection: c };
}

/** One remote run of the script: what was asked, and the reply or the error. Holds no secret. */
export interface StepRecord {
  name: string;
  request: SigningRequest;
  ok: boolean;
  result?: SigningResult;
  error?: { kind: string; message: string };
  /** What this step expected and did not find. */
  problems: string[];
}

/** What a phase writes to DIR/<phase>.json. */
export interface PhaseReport {
  phase: Phase;
  target: { transport: string; host: string; port: number; user: string };
  steps: StepRecord[];
  notes: string[];
  passed: boolean;
}

/** What the flip phase keeps in DIR/originals.json: the host before the experiment. */
interface Originals {
  readAt: string;
  hostFacts: SigningResult["hostFacts"];
  settings: ObservedSettings;
}

/** The experiment's owner id, the same for every phase (DIR/owner.json), so restore finds any record it left. */
function ownerOf(outDir: string): { ownerId: string; ownerLabel: string } {
  const file = path.join(outDir, "owner.json");
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as { ownerId: string; ownerLabel: string };
  const owner = { ownerId: crypto.randomUUID(), ownerLabel: EXPERIMENT_LABEL };
  fs.writeFileSync(file, JSON.stringify(owner, null, 2) + "\n");
  return owner;
}

/** Every setting whose value differs between two reads, as "side.name: a -> b". */
function differences(a: ObservedSettings, b: ObservedSettings): string[] {
  const out: string[] = [];
  for (const side of SIDES) {
    for (const def of SETTINGS[side]) {
      const was = a[side][def.name] ?? null;
      const is = b[side][def.name] ?? null;
      if (was !== is) out.push(`${side}.${def.name}: ${was} -> ${is}`);
    }
  }
  return out;
}

const EMPTY: DeclaredSettings = { client: {}, server: {} };

/** Runs one phase against the host; never throws for the host's faults. */
export async function runPhase(phase: Phase, outDir: string, connectionInput: Record<string, unknown>): Promise<PhaseReport> {
  fs.mkdirSync(outDir, { recursive: true });
  const checked = await ops.check({}, { connection: connectionInput });
  if (checked.failures?.length) throw new UsageError(checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
  const conn = (checked.inputs as { connection: Connection }).connection;
  const owner = ownerOf(outDir);
  const report: PhaseReport = { phase, target: { transport: conn.transport, host: conn.host, port: conn.port, user: conn.user }, steps: [], notes: [], passed: false };

  const step = async (name: string, request: SigningRequest, expect: (r: SigningResult) => string[] = () => []): Promise<SigningResult | undefined> => {
    const seconds = conn.connectTimeoutSeconds + conn.commandTimeoutSeconds;
    const record: StepRecord = { name, request, ok: false, problems: [] };
    report.steps.push(record);
    try {
      record.result = await runSigningScript(conn, request, deadlineIn(seconds, seconds));
      record.problems = expect(record.result);
      record.ok = record.problems.length === 0;
      return record.result;
    } catch (err) {
      record.error = err instanceof HostError ? { kind: err.kind, message: err.message } : { kind: "error", message: err instanceof Error ? err.message : String(err) };
      return undefined;
    }
  };
  const read = (name: string, audit = false) => step(name, { operation: "read", ...owner, ...(audit ? { audit: { days: 1, maxEvents: 2000 } } : {}) });
  const originalsFile = path.join(outDir, "originals.json");
  const restoreAll = async (name: string) => {
    const r = await read(`${name}: read`);
    if (!r) return;
    if (!r.record) {
      report.notes.push("the host holds no record: nothing to restore");
      return;
    }
    if (!r.ours) {
      report.notes.push(`the host's record is not this experiment's (owner ${r.record.ownerLabel}): left alone`);
      return;
    }
    await step(name, { operation: "restore", originals: r.record.originals, ...owner }, (x) => [
      ...(x.restored ? [] : ["the script did not report the originals restored"]),
      ...(x.record ? ["the record is still on the host"] : []),
    ]);
  };

  if (phase === "flip") {
    const before = await read("read before");
    if (before) {
      if (before.record && !before.ours) {
        report.notes.push(`the host holds another owner's record (${before.record.ownerLabel}): this experiment is for a throw-away host; nothing changed`);
      } else {
        if (!fs.existsSync(originalsFile)) {
          const originals: Originals = { readAt: new Date().toISOString(), hostFacts: before.hostFacts, settings: before.after };
          fs.writeFileSync(originalsFile, JSON.stringify(originals, null, 2) + "\n");
        }
        const flipped: DeclaredSettings = { client: {}, server: {} };
        for (const side of SIDES) {
          const value = before.after[side].requireSigning;
          if (typeof value === "boolean") flipped[side].requireSigning = !value;
          else report.notes.push(`${side}.requireSigning: the host does not report it; not flipped`);
        }
        const applied = await step("apply flipped requireSigning", { operation: "apply", ...flipped, originals: EMPTY, ...owner }, (r) =>
          SIDES.filter((side) => flipped[side].requireSigning !== undefined && r.after[side].requireSigning !== flipped[side].requireSigning).map(
            (side) => `${side}.requireSigning is ${r.after[side].requireSigning}, not ${flipped[side].requireSigning}`,
          ),
        );
        await read("read flipped");
        if (applied?.record) {
          await step("restore", { operation: "restore", originals: applied.record.originals, ...owner }, (r) => [
            ...(r.restored ? [] : ["the script did not report the originals restored"]),
            ...(r.record ? ["the record is still on the host"] : []),
            ...differences(before.after, r.after).map((d) => `not as before: ${d}`),
          ]);
        }
        const after = await read("read after");
        const last = report.steps[report.steps.length - 1];
        if (after) {
          last.problems.push(...differences(before.after, after.after).map((d) => `not as before: ${d}`), ...(after.record ? ["a record is left on the host"] : []));
          last.ok = last.problems.length === 0;
        }
      }
    }
  } else if (phase === "unsigned") {
    const before = await read("read before");
    if (before) {
      const declared: DeclaredSettings = { client: { requireSigning: false }, server: { requireSigning: false } };
      const audits: Record<Side, string> = { client: "auditServerDoesNotSupportSigning", server: "auditClientDoesNotSupportSigning" };
      for (const side of SIDES) {
        if (typeof before.after[side][audits[side]] === "boolean") declared[side][audits[side]] = true;
        else report.notes.push(`${side}.${audits[side]}: this build does not have it (Get-Smb${side === "client" ? "Client" : "Server"}Configuration has no such property)`);
      }
      await step("apply unsigned, audits on", { operation: "apply", ...declared, originals: EMPTY, ...owner }, (r) =>
        SIDES.flatMap((side) => Object.entries(declared[side]).filter(([name, value]) => r.after[side][name] !== value).map(([name, value]) => `${side}.${name} is ${r.after[side][name]}, not ${value}`)),
      );
    }
  } else if (phase === "audit") {
    await read("read with the audit logs", true);
  } else {
    await restoreAll("restore");
    const last = await read("read after");
    const lastStep = report.steps[report.steps.length - 1];
    if (last && fs.existsSync(originalsFile)) {
      const originals = JSON.parse(fs.readFileSync(originalsFile, "utf8")) as Originals;
      lastStep.problems.push(...differences(originals.settings, last.after).map((d) => `not as before the experiment: ${d}`));
    } else if (last) {
      report.notes.push(`no ${originalsFile}: the flip phase did not run, so nothing to compare with`);
    }
    if (last?.record && last.ours) lastStep.problems.push("this experiment's record is still on the host");
    lastStep.ok = last !== undefined && lastStep.problems.length === 0;
  }
  report.passed = report.steps.length > 0 && report.steps.every((s) => s.ok);
  fs.writeFileSync(path.join(outDir, `${phase}.json`), JSON.stringify(report, null, 2) + "\n");
  return report;
}

function value(v: boolean | null | undefined): string {
  return v === undefined ? "-" : v === null ? "absent" : String(v);
}

/** The report as text for the job log: each step, the settings it saw, and every reply whole. */
export function formatPhase(r: PhaseReport): string {
  const lines: string[] = [];
  lines.push(`pulumi-smb-signing real-host experiment (it changes the host: for throw-away hosts only), phase ${r.phase}`);
  lines.push(`target     ${r.target.transport} ${r.target.user}@${r.target.host}:${r.target.port}`);
  const withResult = r.steps.filter((s) => s.result);
  if (withResult.length > 0) {
    lines.push("");
    lines.push(`${"setting".padEnd(42)}${withResult.map((_, i) => `#${i + 1}`.padEnd(8)).join("")}`.trimEnd());
    for (const side of SIDES) {
      for (const def of SETTINGS[side]) lines.push(`${`${side}.${def.name}`.padEnd(42)}${withResult.map((s) => value(s.result!.after[side][def.name]).padEnd(8)).join("")}`.trimEnd());
    }
  }
  lines.push("");
  let n = 0;
  for (const s of r.steps) {
    const column = s.result ? `#${++n} ` : "";
    const outcome = s.error ? `FAILED ${s.error.kind}: ${s.error.message}` : s.ok ? "OK" : `NOT AS EXPECTED: ${s.problems.join("; ")}`;
    lines.push(`${column}${s.name}: ${outcome}`);
    if (s.result) {
      const changed = SIDES.flatMap((side) => s.result!.changed[side].map((name) => `${side}.${name}`));
      lines.push(`   changed ${changed.join(", ") || "nothing"}; record ${s.result.record ? `owned by ${s.result.record.ownerLabel}, originals ${JSON.stringify(s.result.record.originals)}` : "none"}`);
      if (s.result.readiness) lines.push(`   audit ${JSON.stringify(s.result.readiness)}`);
    }
  }
  for (const note of r.notes) lines.push(`note: ${note}`);
  lines.push("");
  lines.push("replies, whole:");
  for (const s of r.steps) lines.push(`${s.name}: ${JSON.stringify(s.result ?? s.error)}`);
  lines.push(`verdict    ${r.passed ? "PASSED" : "FAILED"}`);
  return lines.join("\n") + "\n";
}

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv, process.env);
    if (options === "help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    const report = await runPhase(options.phase, options.outDir, options.connection);
    process.stdout.write(formatPhase(report));
    return report.passed ? 0 : 1;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`signingExperiment: ${err.message} (--help lists the options)\n`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      // Messages of this code and the provider never carry a secret.
      process.stderr.write(`signingExperiment: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
