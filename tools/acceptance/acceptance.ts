// The acceptance run for a real Windows host, for whoever has one (this repository's CI has no
// Windows and runs it only against simulated hosts, in test/integration/acceptance.test.ts): a
// non-destructive lifecycle through provider/operations.ts, as the Pulumi engine drives it,
// declaring exactly the values the host already has. It prints a report and exits non-zero if
// any step failed or any setting changed. `npm run acceptance -- --help` lists the options.
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import type { DeclaredSettings, ObservedSettings, PolicyEnforced, PolicyOutputs } from "../../provider/domain/policy";
import { findWeakenings } from "../../provider/domain/safety";
import type { Connection } from "../../provider/domain/schema";
import { SETTINGS, SIDES } from "../../provider/domain/settings";
import { HostError, HostErrorKind } from "../../provider/errors";
import { deadlineIn } from "../../provider/host/retry";
import { HostFacts, HostRecord, runSigningScript } from "../../provider/host/signingScript";
import * as ops from "../../provider/operations";

const USAGE = `usage: npm run acceptance -- --host H --user U [--port P] [--transport ssh|winrm] [--https]
         [--host-key SHA256:...] [--certificate-fingerprint HEX]
         [--password-env VAR | --key-file F [--passphrase-env VAR]] [--owner NAME] [--report-file F]

A non-destructive run of SmbSigningPolicy's lifecycle against one Windows host: check, read the
host's values, create declaring exactly those values, refresh, diff, update with the same values,
delete (restore: nothing to put back; the record it wrote is removed), read again.

  --host H                   DNS name or IP address of the host
  --user U                   an elevated administrator: admin, CORP\\admin or admin@corp.example
  --transport ssh|winrm      default ssh
  --port P                   default 22 (ssh), 5985 (winrm) or 5986 (winrm --https)
  --https                    winrm over HTTPS
  --host-key SHA256:...      ssh: the host key fingerprint (ssh-keygen -lf on the host's key); required
  --certificate-fingerprint  winrm --https: the certificate's SHA-256 to pin (else the system's CAs)
  --password-env VAR         the environment variable that holds the password (never put the
                             password itself on the command line)
  --key-file F               ssh: a private key file instead of a password
  --passphrase-env VAR       the environment variable that holds the key's passphrase
  --owner NAME               the owner written into the host's record (default acceptance/<host>)
  --report-file F            also write the report as JSON to F

Exit code: 0 every step passed and no setting changed; 1 a step failed or a setting changed;
2 the arguments are wrong.`;

/** Wrong arguments: reported without echoing what was given, which could be a secret. */
class UsageError extends Error {}

export interface Options {
  host: string;
  user: string;
  transport: "ssh" | "winrm";
  port?: number;
  https: boolean;
  hostKey?: string;
  certificateFingerprint?: string;
  passwordEnv?: string;
  keyFile?: string;
  passphraseEnv?: string;
  owner: string;
  reportFile?: string;
}

function parseOptions(argv: string[]): Options | "help" {
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        user: { type: "string" },
        port: { type: "string" },
        transport: { type: "string" },
        https: { type: "boolean" },
        "host-key": { type: "string" },
        "certificate-fingerprint": { type: "string" },
        "password-env": { type: "string" },
        "key-file": { type: "string" },
        "passphrase-env": { type: "string" },
        owner: { type: "string" },
        "report-file": { type: "string" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (err) {
    // Node's messages quote the offending argument, which may be a mistyped password.
    const code = (err as { code?: string }).code;
    const option = /'(--?[A-Za-z-]+)/.exec((err as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`unknown option ${option ?? ""}`.trim());
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
      throw new UsageError("unexpected argument (not shown; the password goes in an environment variable, see --password-env)");
    throw new UsageError(`option ${option ?? ""} needs a value`.replace("  ", " "));
  }
  if (values.help) return "help";
  if (!values.host) throw new UsageError("--host is required");
  if (!values.user) throw new UsageError("--user is required");
  const transport = values.transport ?? "ssh";
  if (transport !== "ssh" && transport !== "winrm") throw new UsageError('--transport must be "ssh" or "winrm"');
  if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) throw new UsageError("--port must be a port number");
  const credentials = [values["password-env"], values["key-file"]].filter((v) => v !== undefined);
  if (credentials.length !== 1) throw new UsageError("give exactly one of --password-env and --key-file");
  return {
    host: values.host,
    user: values.user,
    transport,
    port: values.port === undefined ? undefined : Number(values.port),
    https: values.https === true,
    hostKey: values["host-key"],
    certificateFingerprint: values["certificate-fingerprint"],
    passwordEnv: values["password-env"],
    keyFile: values["key-file"],
    passphraseEnv: values["passphrase-env"],
    owner: values.owner ?? `acceptance/${values.host}`,
    reportFile: values["report-file"],
  };
}

/** The resource's connection input; the secrets come from the environment or a key file. */
function connectionInput(o: Options, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const c: Record<string, unknown> = { transport: o.transport, host: o.host, user: o.user };
  if (o.port !== undefined) c.port = o.port;
  if (o.https) c.https = true;
  if (o.hostKey !== undefined) c.hostKey = o.hostKey;
  if (o.certificateFingerprint !== undefined) c.certificateFingerprint = o.certificateFingerprint;
  if (o.passwordEnv !== undefined) {
    const password = env[o.passwordEnv];
    if (!password) throw new UsageError("the environment variable named by --password-env is not set or is empty");
    c.password = password;
  }
  if (o.keyFile !== undefined) {
    try {
      c.privateKey = fs.readFileSync(o.keyFile, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --key-file: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
  }
  if (o.passphraseEnv !== undefined) {
    const passphrase = env[o.passphraseEnv];
    if (!passphrase) throw new UsageError("the environment variable named by --passphrase-env is not set or is empty");
    c.passphrase = passphrase;
  }
  return c;
}

export interface StepReport {
  name: string;
  status: "ok" | "failed" | "skipped";
  ms: number;
  /** Whether the step runs the script on the host (one PowerShell run) or stays local. */
  remote: boolean;
  detail?: string;
  error?: string;
}

/** The report, printed as text and written as JSON with --report-file. Holds no secret. */
export interface AcceptanceReport {
  target: { transport: string; host: string; port: number | null; user: string; https: boolean; hostKey: string | null; certificateFingerprint: string | null };
  owner: string;
  hostFacts: HostFacts | null;
  settingsSource: string | null;
  policyManaged: PolicyEnforced | null;
  recordBefore: HostRecord | null;
  recordAfter: HostRecord | null;
  before: ObservedSettings | null;
  after: ObservedSettings | null;
  /** What create and update declared: every setting the host has, less those listed in notDeclared. */
  declared: DeclaredSettings | null;
  acknowledgeInsecureSettings: boolean;
  notDeclared: string[];
  /** Every setting seen with another value than before the run, where it was seen. */
  changes: string[];
  /** Anything else wrong: a record left behind or altered. */
  problems: string[];
  steps: StepReport[];
  remoteRuns: number;
  totalMs: number;
  passed: boolean;
}

/**
 * Failures that come before the script writes anything: the transport never got a shell, or the
 * script refused the request before its record write (smb-signing.ps1 checks these first).
 */
const REFUSED_BEFORE_ANY_WRITE: ReadonlySet<HostErrorKind> = new Set<HostErrorKind>([
  "authenticationFailed",
  "hostKeyMismatch",
  "certificateRejected",
  "connectionFailed",
  "unsupportedOs",
  "constrainedLanguage",
  "ownedElsewhere",
  "badRecord",
  "badRequest",
  "unsupportedSetting",
  "policyConflict",
]);

/** Every setting whose value at `where` differs from before the run. */
function changesBetween(before: ObservedSettings, now: ObservedSettings, where: string): string[] {
  const out: string[] = [];
  for (const side of SIDES) {
    for (const def of SETTINGS[side]) {
      const was = before[side][def.name] ?? null;
      const is = now[side][def.name] ?? null;
      if (was !== is) out.push(`${side}.${def.name}: ${was} before, ${is} at ${where}`);
    }
  }
  return out;
}

/**
 * The host's own values, as a program adopting it would declare them. Left out: settings the host
 * lacks, a value Group Policy enforces otherwise (create would refuse it as a policy conflict),
 * and guest logons together with required client signing (check refuses that pair).
 */
function declarationOf(before: ObservedSettings, policy: PolicyEnforced): { declared: DeclaredSettings; notDeclared: string[] } {
  const declared: DeclaredSettings = { client: {}, server: {} };
  const notDeclared: string[] = [];
  for (const side of SIDES) {
    for (const def of SETTINGS[side]) {
      const value = before[side][def.name];
      if (typeof value !== "boolean") continue;
      const enforced = policy[side][def.name];
      if (enforced && enforced.value !== value) {
        notDeclared.push(`${side}.${def.name}: the host has ${value}, but Group Policy "${enforced.gpo}" enforces ${enforced.value} (a policy conflict)`);
        continue;
      }
      declared[side][def.name] = value;
    }
  }
  if (declared.client.enableInsecureGuestLogons === true && declared.client.requireSigning === true) {
    delete declared.client.enableInsecureGuestLogons;
    notDeclared.push(
      "client.enableInsecureGuestLogons: true while client.requireSigning is true, a pair check refuses (Windows blocks guest logons when signing is required)",
    );
  }
  return { declared, notDeclared };
}

function sameOriginals(a: DeclaredSettings, b: DeclaredSettings): boolean {
  return SIDES.every((side) => {
    const ka = Object.keys(a[side]).sort();
    const kb = Object.keys(b[side]).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[side][k] === b[side][k]);
  });
}

function errorText(err: unknown): string {
  if (err instanceof HostError) return `${err.kind}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** The steps of one run, in order, each timed and recorded as OK, FAILED (with its error) or skipped. */
class Run {
  readonly steps: StepReport[] = [];

  async step<T>(name: string, remote: boolean, action: () => Promise<{ value: T; detail?: string }>): Promise<T | undefined> {
    const started = Date.now();
    try {
      const { value, detail } = await action();
      this.steps.push({ name, status: "ok", ms: Date.now() - started, remote, detail });
      return value;
    } catch (err) {
      this.steps.push({ name, status: "failed", ms: Date.now() - started, remote, error: errorText(err) });
      return undefined;
    }
  }

  skip(name: string, remote: boolean, why: string): void {
    this.steps.push({ name, status: "skipped", ms: 0, remote, detail: why });
  }
}

/** Runs the lifecycle against one host and returns the report; never throws for a host's faults. */
export async function runAcceptance(o: Options, env: NodeJS.ProcessEnv): Promise<AcceptanceReport> {
  const startedAt = Date.now();
  const run = new Run();
  const report: AcceptanceReport = {
    target: {
      transport: o.transport,
      host: o.host,
      port: o.port ?? null,
      user: o.user,
      https: o.https,
      hostKey: o.hostKey ?? null,
      certificateFingerprint: o.certificateFingerprint ?? null,
    },
    owner: o.owner,
    hostFacts: null,
    settingsSource: null,
    policyManaged: null,
    recordBefore: null,
    recordAfter: null,
    before: null,
    after: null,
    declared: null,
    acknowledgeInsecureSettings: false,
    notDeclared: [],
    changes: [],
    problems: [],
    steps: run.steps,
    remoteRuns: 0,
    totalMs: 0,
    passed: false,
  };
  const base = { connection: connectionInput(o, env), owner: o.owner, onDelete: "restore" };

  const finish = (): AcceptanceReport => {
    report.remoteRuns = run.steps.filter((s) => s.remote && s.status !== "skipped").length;
    report.totalMs = Date.now() - startedAt;
    report.passed = run.steps.every((s) => s.status === "ok") && report.changes.length === 0 && report.problems.length === 0;
    return report;
  };
  const skipRest = (names: Array<[string, boolean]>, why: string) => names.forEach(([name, remote]) => run.skip(name, remote, why));

  const checked = await run.step("check", false, async () => {
    const r = await ops.check({}, base);
    if (r.failures?.length) throw new Error(r.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
    return { value: r.inputs as Record<string, unknown> };
  });
  const lifecycle: Array<[string, boolean]> = [
    ["read before", true],
    ["create", true],
    ["refresh", true],
    ["diff", false],
    ["update", true],
    ["delete", true],
    ["read after", true],
  ];
  if (!checked) {
    skipRest(lifecycle, "check failed: no host was contacted");
    return finish();
  }
  const conn = (checked as { connection: Connection }).connection;
  report.target.port = conn.port;
  // The first and last reads go one layer below the operations, to see the host's record,
  // which no operation outputs.
  const readHost = () => {
    const seconds = conn.connectTimeoutSeconds + conn.commandTimeoutSeconds;
    return runSigningScript(conn, { operation: "read", ownerId: "", ownerLabel: o.owner }, deadlineIn(seconds, seconds));
  };

  const first = await run.step("read before", true, async () => {
    const r = await readHost();
    report.hostFacts = r.hostFacts;
    report.settingsSource = r.source;
    report.policyManaged = r.groupPolicy;
    report.recordBefore = r.record;
    report.before = r.after;
    // A record this owner left (an earlier run cut short) is restored by this run's delete: only
    // harmless if it recorded the values the host has now.
    if (r.record && r.record.ownerLabel === o.owner) {
      const stale = SIDES.flatMap((side) =>
        Object.entries(r.record!.originals[side])
          .filter(([name, v]) => r.after[side][name] !== v)
          .map(([name]) => `${side}.${name}`),
      );
      if (stale.length > 0) {
        throw new Error(
          `the host holds a record of an earlier run by ${o.owner} whose originals differ from the host's values in ${stale.join(", ")}; ` +
            "this run's delete would put those back. Inspect it (Get-ItemProperty HKLM:\\SOFTWARE\\pulumi-smb-signing) and, if it is stale, remove it " +
            "(Remove-Item -Path HKLM:\\SOFTWARE\\pulumi-smb-signing)",
        );
      }
    }
    return { value: r, detail: r.record ? `record owned by ${r.record.ownerLabel}` : "no record" };
  });
  if (!first) {
    skipRest(lifecycle.slice(1), "the host's values could not be read");
    return finish();
  }
  const before = first.after;
  const { declared, notDeclared } = declarationOf(before, first.groupPolicy);
  report.declared = declared;
  report.notDeclared = notDeclared;
  report.acknowledgeInsecureSettings = findWeakenings(declared).length > 0;
  // An earlier run of this tool cut short left its record (its originals checked above): each
  // run is a new owner id, so this one takes it over, keeping those originals.
  const earlierRun = first.record !== null && first.record.ownerLabel === o.owner;
  const declaredInputs = {
    ...base,
    ...declared,
    ...(report.acknowledgeInsecureSettings ? { acknowledgeInsecureSettings: true } : {}),
    ...(earlierRun ? { takeOwnership: true } : {}),
  };
  const observe = (outs: { observed?: ObservedSettings }, where: string) => {
    if (outs.observed) report.changes.push(...changesBetween(before, outs.observed, where));
  };

  // What delete gets: the latest outputs, or what a failed create recorded, or the inputs alone.
  let props: PolicyOutputs | undefined;
  let inputs: Record<string, unknown> | undefined;
  // Why a failed create certainly wrote nothing (then there is nothing for delete to clean up).
  let refused: string | undefined;
  const created = await run.step("create", true, async () => {
    const r = await ops.check({}, declaredInputs);
    if (r.failures?.length) {
      refused = "check";
      throw new Error(`check: ${r.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    }
    inputs = r.inputs as Record<string, unknown>;
    try {
      const c = await ops.create(inputs);
      props = c.outs as PolicyOutputs;
      observe(props, "create");
      return { value: c.id };
    } catch (err) {
      const partial = (err as { properties?: PolicyOutputs }).properties;
      if (partial) props = partial;
      else if (err instanceof HostError && REFUSED_BEFORE_ANY_WRITE.has(err.kind)) refused = err.kind;
      throw err;
    }
  });
  if (created === undefined) {
    skipRest(
      [
        ["refresh", true],
        ["diff", false],
        ["update", true],
      ],
      "create failed",
    );
  } else {
    const id = created;
    const refreshed = await run.step("refresh", true, async () => {
      const r = await ops.read(id, props as unknown as Record<string, unknown>);
      const read = r.props as PolicyOutputs;
      observe(read, "refresh");
      props = read;
      return { value: r, detail: read.policyDrift?.length ? `policy drift: ${read.policyDrift.join("; ")}` : undefined };
    });
    if (!refreshed) {
      skipRest(
        [
          ["diff", false],
          ["update", true],
        ],
        "refresh failed",
      );
    } else {
      await run.step("diff", false, async () => {
        const d = await ops.diff(id, refreshed.props as PolicyOutputs, inputs!);
        if (d.changes) throw new Error(`diff reports changes (replaces: ${(d.replaces ?? []).join(", ") || "none"}) where the program and the host agree`);
        return { value: d, detail: "no changes" };
      });
      await run.step("update", true, async () => {
        try {
          const u = await ops.update(id, refreshed.props as PolicyOutputs, inputs!);
          props = u.outs as PolicyOutputs;
          observe(props, "update");
          return { value: u };
        } catch (err) {
          const partial = (err as { properties?: PolicyOutputs }).properties;
          if (partial) props = partial;
          throw err;
        }
      });
    }
  }
  // Delete also cleans up after a create that failed, unless the host refused it before any write:
  // one that failed half way, or lost its connection, may have left the record.
  if (refused) {
    run.skip("delete", true, `create was refused (${refused}) before anything was written`);
  } else {
    await run.step("delete", true, async () => {
      const target = props ?? ({ ...(inputs ?? checked), originalSettings: { client: {}, server: {} } } as unknown as PolicyOutputs);
      await ops.delete(created ?? o.host, { ...target, onDelete: "restore" });
      return { value: true };
    });
  }

  const last = await run.step("read after", true, async () => {
    const r = await readHost();
    report.after = r.after;
    report.recordAfter = r.record;
    return { value: r, detail: r.record ? `record owned by ${r.record.ownerLabel}` : "no record" };
  });
  if (last) {
    report.changes.push(...changesBetween(before, last.after, "the end"));
    const had = first.record;
    const has = last.record;
    if (has && has.ownerLabel === o.owner) {
      report.problems.push(`the host still holds this run's record (owner ${o.owner}); remove it with Remove-Item -Path HKLM:\\SOFTWARE\\pulumi-smb-signing`);
    } else if (had && had.ownerLabel !== o.owner && !(has && has.ownerLabel === had.ownerLabel && sameOriginals(has.originals, had.originals))) {
      report.problems.push(`the record of ${had.ownerLabel} was altered`);
    } else if (!had && has) {
      report.problems.push(`the host now holds a record of ${has.ownerLabel} that it did not hold before`);
    }
  }
  return finish();
}

const ROLES = ["standalone workstation", "member workstation", "standalone server", "member server", "backup domain controller", "primary domain controller"];

function value(v: boolean | null | undefined): string {
  return v === undefined ? "-" : v === null ? "absent" : String(v);
}

/** The report as text: what a person reads in a terminal or a CI log. */
export function formatReport(r: AcceptanceReport): string {
  const lines: string[] = [];
  const t = r.target;
  const pins = [t.hostKey && `host key ${t.hostKey}`, t.certificateFingerprint && `certificate ${t.certificateFingerprint}`].filter(Boolean).join(", ");
  lines.push("pulumi-smb-signing acceptance run (non-destructive: declares the values the host already has)");
  lines.push(`target     ${t.transport}${t.https ? " (https)" : ""} ${t.user}@${t.host}:${t.port ?? "default port"}${pins ? ` (${pins})` : ""}`);
  lines.push(`owner      ${r.owner}`);
  if (r.hostFacts) {
    const f = r.hostFacts;
    lines.push(
      `host       ${f.productName} (${f.edition})${f.displayVersion ? ` ${f.displayVersion}` : ""}, build ${f.build}, domain role ${f.domainRole} ` +
        `(${ROLES[f.domainRole] ?? "unknown"})`,
    );
  }
  if (r.settingsSource) lines.push(`source     ${r.settingsSource === "cmdlet" ? "cmdlet (Get-/Set-Smb*Configuration)" : "registry (no SmbShare module)"}`);
  const record = (x: HostRecord | null) => (x ? `owned by ${x.ownerLabel}` : "none");
  if (r.before) lines.push(`record     before: ${record(r.recordBefore)}; after: ${r.after ? record(r.recordAfter) : "not read"}`);
  if (r.before) {
    lines.push("");
    lines.push(`${"setting".padEnd(42)}${"before".padEnd(8)}${"after".padEnd(8)}${"declared".padEnd(10)}policyManaged`);
    for (const side of SIDES) {
      for (const def of SETTINGS[side]) {
        const policy = r.policyManaged?.[side][def.name];
        lines.push(
          `${`${side}.${def.name}`.padEnd(42)}${value(r.before[side][def.name]).padEnd(8)}${value(r.after?.[side][def.name]).padEnd(8)}` +
            `${value(r.declared?.[side][def.name]).padEnd(10)}${policy ? `${policy.value} by "${policy.gpo}"` : "-"}`,
        );
      }
    }
    if (r.acknowledgeInsecureSettings) lines.push("(declared with acknowledgeInsecureSettings: the host already has values that weaken SMB security)");
    for (const n of r.notDeclared) lines.push(`not declared: ${n}`);
  }
  lines.push("");
  lines.push(`${"step".padEnd(13)}${"result".padEnd(9)}${"ms".padStart(7)}  detail`);
  for (const s of r.steps) {
    const result = s.status === "ok" ? "OK" : s.status === "failed" ? "FAILED" : "skipped";
    lines.push(`${s.name.padEnd(13)}${result.padEnd(9)}${String(s.ms).padStart(7)}  ${s.error ?? s.detail ?? ""}`.trimEnd());
  }
  lines.push("");
  lines.push(`remote runs ${r.remoteRuns} (one PowerShell run per step that contacts the host)`);
  lines.push(`total       ${(r.totalMs / 1000).toFixed(1)} s`);
  lines.push(`changes     ${r.changes.length === 0 ? "none" : ""}`.trimEnd());
  for (const c of r.changes) lines.push(`  ${c}`);
  for (const p of r.problems) lines.push(`problem     ${p}`);
  const failed = r.steps.filter((s) => s.status === "failed").map((s) => s.name);
  const why = [
    failed.length ? `failed: ${failed.join(", ")}` : "",
    r.changes.length ? "a setting changed" : "",
    r.problems.length ? "see the problems above" : "",
  ].filter(Boolean);
  lines.push(`verdict     ${r.passed ? "PASSED: every step OK, no setting changed" : `FAILED (${why.join("; ")})`}`);
  return lines.join("\n") + "\n";
}

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
    if (options === "help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    connectionInput(options, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`acceptance: ${err.message} (options: npm run acceptance -- --help)\n`);
    return 2;
  }
  const report = await runAcceptance(options, process.env);
  process.stdout.write(formatReport(report));
  if (options.reportFile) fs.writeFileSync(options.reportFile, JSON.stringify(report, null, 2) + "\n");
  return report.passed ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      // Messages of this code and the provider never carry a secret; a stack trace adds nothing.
      process.stderr.write(`acceptance: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
