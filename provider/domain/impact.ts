// What a change of SMB signing settings means for the people using a host: which servers and
// clients stop working and with which error, whether guest access goes, and which peers the
// host's own SMB audit log saw connecting without signing (readiness). Pure: it works from what
// a host reported (observed settings, audit findings) and what the program declares, so preview
// can show it without contacting the host. Sources: docs/windows-model.md, "Impact".
import { insecureValues } from "./safety";
import { type DeclaredSettings, type ObservedSettings, Side, type SettingNames, SIDES } from "./settings";

/** Values Group Policy enforces, side -> setting (our names) -> value (domain/policy.ts's PolicyEnforced has this shape). */
type Enforced = Record<Side, Record<string, { value: boolean } | undefined>>;

/** One peer an SMB audit log names, with how often and when it was last logged. */
export interface AuditPeer {
  peer: string;
  events: number;
  eventIds: number[];
  /** The newest event's time, as the host's clock gave it (UTC, ISO 8601). */
  lastSeen: string;
}

/** What one audit log (Microsoft-Windows-SMBServer/Audit or -SMBClient/Audit) told about the last `days` days. */
export interface AuditLogFindings {
  /** "absent": the host's release has no such log; "disabled": the log is off; "unreadable": reading it failed. */
  log: "available" | "absent" | "disabled" | "unreadable";
  /** Whether the host logs peers that do not sign (the audit setting, or the policy that sets it); null: it has no such setting. */
  auditing: boolean | null;
  /**
   * The event IDs the host's release logs in this log for a peer that does not sign, as its SMB
   * provider's manifest says (empty: the release logs no such event). Absent in state written
   * before this was read.
   */
  signingEventIds?: number[];
  /** Events read (at most the script's bound). */
  events: number;
  /** The bound was reached: there were more events, so the counts are lower bounds. */
  truncated: boolean;
  /** Distinct peers in the events read (`peers` names the busiest, at most 50). */
  peerCount: number;
  peers: AuditPeer[];
  error?: string;
}

/** The host's audit log findings, both sides, as of `readAt` (the host's clock). */
export interface Readiness {
  readAt: string;
  days: number;
  server: AuditLogFindings;
  client: AuditLogFindings;
}

export interface Consequence {
  /** "warning": someone loses access or protection; "info": nothing is refused or weakened. */
  severity: "warning" | "info";
  /** The setting it follows from, e.g. `client.requireSigning`. */
  setting: string;
  text: string;
}

/** The error texts Windows shows (windowsserverdocs, "Control SMB signing behavior"). */
export const INVALID_SIGNATURE = "0xc000a000 STATUS_INVALID_SIGNATURE";
export const GUEST_BLOCKED = "0x80070035, System error 3227320323";

export const AUDIT_LOG: Record<Side, string> = {
  server: "Microsoft-Windows-SMBServer/Audit",
  client: "Microsoft-Windows-SMBClient/Audit",
};

/** The audit setting that makes each side log peers that do not sign, in our names and as the cmdlets name it, and the Group Policy that sets it. */
export const AUDIT_SETTING: Record<Side, string> = { server: "auditClientDoesNotSupportSigning", client: "auditServerDoesNotSupportSigning" };
const CMDLET_NAME: Record<Side, string> = { server: "AuditClientDoesNotSupportSigning", client: "AuditServerDoesNotSupportSigning" };
const AUDIT_POLICY: Record<Side, string> = { server: "Audit client does not support signing", client: "Audit server does not support signing" };

/** How many peers a message names before it says "and N more". */
const NAMED_PEERS = 10;

export interface ImpactView {
  /** The host's settings before the change (what it was last seen with, or had before this resource). */
  before: ObservedSettings;
  declared: DeclaredSettings;
  readiness?: Readiness | null;
  /** "future" for a change still to come (preview), "present" for the state this resource keeps. */
  tense: "future" | "present";
}

/**
 * What changes for people when a host with `before` gets the declared settings. Unmanaged
 * settings keep the value the host reports (an unmanaged EnableInsecureGuestLogons=true matters
 * as much as a managed one).
 */
export function consequencesOf(view: ImpactView): Consequence[] {
  const { before, declared } = view;
  const will = (future: string, present: string) => (view.tense === "future" ? future : present);
  const was = (side: Side, name: string) => before[side]?.[name];
  const now = (side: Side, name: string) => declared[side][name] ?? before[side]?.[name];
  const flips = (side: Side, name: string, to: boolean) => declared[side][name] === to && was(side, name) === !to;
  const out: Consequence[] = [];

  // A requirement's generic consequence is information when the audit log speaks for that side
  // (its own line then says whether anyone would be refused, as a warning or as information);
  // with no audit findings at all, nobody can tell, and that asks for a decision.
  const generic = view.readiness ? "info" : "warning";
  if (flips("client", "requireSigning", true)) {
    out.push({
      severity: generic,
      setting: "client.requireSigning",
      text: `client.requireSigning: true: SMB servers that do not sign (many NAS and printers) ${will("will fail", "fail")} with ${INVALID_SIGNATURE}`,
    });
    out.push(...readinessOf("client", view));
  }
  if (flips("client", "requireSigning", false)) {
    out.push({
      severity: "warning",
      setting: "client.requireSigning",
      text:
        `client.requireSigning: false: outbound SMB traffic ${will("will no longer be", "is not")} signed unless the server requires it, so it can be ` +
        `tampered with or relayed`,
    });
  }
  if (flips("server", "requireSigning", true)) {
    out.push({
      severity: generic,
      setting: "server.requireSigning",
      text: `server.requireSigning: true: SMB clients that do not sign ${will("will be", "are")} refused by this host`,
    });
    out.push(...readinessOf("server", view));
  }
  if (flips("server", "requireSigning", false)) {
    out.push({
      severity: "warning",
      setting: "server.requireSigning",
      text:
        `server.requireSigning: false: inbound SMB traffic from clients that do not require signing ${will("will no longer be", "is not")} signed, so ` +
        `it can be tampered with or relayed`,
    });
  }

  // Windows blocks guest logons whenever the client requires signing, whatever
  // EnableInsecureGuestLogons says ("Control SMB signing behavior").
  const guestBefore = was("client", "enableInsecureGuestLogons") === true && was("client", "requireSigning") !== true;
  const guestAfter = now("client", "enableInsecureGuestLogons") === true && now("client", "requireSigning") !== true;
  if (guestBefore && !guestAfter) {
    const cause =
      now("client", "requireSigning") === true && was("client", "requireSigning") !== true
        ? "client.requireSigning: true"
        : "client.enableInsecureGuestLogons: false";
    const unmanaged = declared.client.enableInsecureGuestLogons === undefined ? " (EnableInsecureGuestLogons=true, not managed by this resource)" : "";
    out.push({
      severity: "warning",
      setting: cause.split(":")[0],
      text:
        `${cause}: guest access, ${will("currently enabled", "enabled")} on this host${unmanaged}, ${will("will be blocked", "is blocked")} ` +
        `(${GUEST_BLOCKED}): shares that admit only guests become unreachable`,
    });
  }
  if (!guestBefore && guestAfter) {
    out.push({
      severity: "warning",
      setting: "client.enableInsecureGuestLogons",
      text:
        `client.enableInsecureGuestLogons: true: this host ${will("will log", "logs")} on to SMB servers that offer it as an unauthenticated guest, ` +
        `unsigned, so any server can impersonate a share`,
    });
  }
  if (declared.client.enableInsecureGuestLogons === true && now("client", "requireSigning") === true) {
    out.push({
      severity: "info",
      setting: "client.enableInsecureGuestLogons",
      text:
        "client.enableInsecureGuestLogons: true has no effect while client.requireSigning is true on this host: Windows blocks guest logons whenever " +
        "signing is required",
    });
  }

  for (const side of SIDES) {
    const name = AUDIT_SETTING[side];
    const peers = side === "server" ? "SMB clients that do not sign" : "SMB servers that do not sign";
    if (flips(side, name, true)) {
      out.push({
        severity: "info",
        setting: `${side}.${name}`,
        text: `${side}.${name}: true: ${peers} ${will("will be", "are")} logged in ${AUDIT_LOG[side]}; nothing is refused`,
      });
    }
    if (flips(side, name, false)) {
      out.push({
        severity: "info",
        setting: `${side}.${name}`,
        text: `${side}.${name}: false: ${peers} ${will("will no longer be", "are not")} logged, so readiness for ${side}.requireSigning cannot be measured`,
      });
    }
    if (flips(side, "auditInsecureGuestLogon", true)) {
      out.push({
        severity: "info",
        setting: `${side}.auditInsecureGuestLogon`,
        text: `${side}.auditInsecureGuestLogon: true: insecure guest logons ${will("will be", "are")} logged; nothing is blocked`,
      });
    }
  }
  return out;
}

/** What the host's audit log says about requiring signing on one side. */
function readinessOf(side: Side, view: ImpactView): Consequence[] {
  const r = view.readiness;
  if (!r) return [];
  const f = r[side];
  const setting = `${side}.requireSigning`;
  const log = AUDIT_LOG[side];
  const warn = (text: string): Consequence[] => [{ severity: "warning", setting, text }];
  const peersWord = side === "server" ? "clients" : "servers";
  const days = `${r.days} day${r.days === 1 ? "" : "s"}`;
  if (f.log === "absent")
    return warn(`this host cannot tell which ${peersWord} do not sign: its release has no ${log} log (Windows 10 and Windows Server 2016 brought it)`);
  if (f.log === "disabled") return warn(`the log ${log} is disabled on this host, so it cannot tell which peers do not sign`);
  if (f.log === "unreadable") return warn(`could not read ${log} on this host: ${f.error ?? "unknown error"}`);
  // The log exists from Windows 10 / Server 2016 on; the event for a peer that does not sign only
  // where the release has it (its SMB provider's manifest, read by the script). State written
  // before this was read has no list: it is then taken as there.
  if (f.signingEventIds !== undefined && f.signingEventIds.length === 0) {
    return warn(
      side === "server"
        ? `this host cannot tell which clients do not sign: its release logs no such event in ${log} (Windows 11 24H2 and Windows Server 2025 do, and ` +
            `older releases with KB5066913 once its Group Policy "${AUDIT_POLICY.server}" is on)`
        : `this host cannot tell which servers do not sign: its release logs no such event in ${log} (Windows 11 24H2 and Windows Server 2025 do)`,
    );
  }
  if (f.auditing !== true && view.declared[side][AUDIT_SETTING[side]] === true) {
    // Turned on in this same change: the log has nothing yet, so nobody can tell who would be refused.
    return warn(
      `${side}.${AUDIT_SETTING[side]} is turned on in this same change, so ${log} has logged nothing yet: nobody can tell which ` +
        `${side === "server" ? "clients" : "servers"} would be ${side === "server" ? "refused" : "unreachable"}; audit for a while first, then require ` +
        `signing in a later change`,
    );
  }
  const refused = side === "server" ? "refused" : "unreachable";
  if (f.auditing === false) {
    return warn(
      `this host does not log ${peersWord} that do not sign (${side}.${AUDIT_SETTING[side]} is false): turn that audit on for a while first to learn who ` +
        `would be ${refused}`,
    );
  }
  if (f.auditing !== true && f.signingEventIds === undefined) {
    // Readiness from state written before the release's events were read: nothing says whether it has any.
    return warn(
      `nothing shows that this host logs ${peersWord} that do not sign (${side}.${AUDIT_SETTING[side]} is not a setting of this release and no policy ` +
        `sets it): run pulumi refresh to read which events its release logs, then audit for a while first to learn who would be ${refused}`,
    );
  }
  if (f.auditing !== true) {
    // The release logs such events (KB5066913 on an older server) but has no such cmdlet setting,
    // no policy sets it and the log holds none: the audit may be off, or on through the registry
    // with nobody to log yet. Neither can be told from here.
    const ids = f.signingEventIds!.length > 0 ? `, event ${f.signingEventIds!.join(", ")}` : "";
    const cmdlet = side === "server" ? "Get-SmbServerConfiguration" : "Get-SmbClientConfiguration";
    return warn(
      `this host can log ${peersWord} that do not sign (${log}${ids}) but nothing shows that it does: this release's ${cmdlet} has no ` +
        `${CMDLET_NAME[side]}, no Group Policy turns that audit on, and no such event was logged in the last ${days}; turn it on (the Group Policy ` +
        `"${AUDIT_POLICY[side]}") for a while first to learn who would be ${refused}`,
    );
  }
  const peers = [...f.peers].sort((a, b) => b.events - a.events || a.peer.localeCompare(b.peer));
  if (peers.length === 0) {
    return [
      {
        severity: "info",
        setting,
        text:
          `no ${side === "server" ? "client" : "server"} connected without signing in the last ${days} (${log} read ${r.readAt}; audit that was ` +
          `turned on more recently covers less)`,
      },
    ];
  }
  const total = Math.max(f.peerCount ?? 0, peers.length);
  const shown = peers.slice(0, NAMED_PEERS).map((p) => p.peer || "(a peer the event does not name)");
  const more = total > shown.length ? `, and ${total - shown.length} more` : "";
  const count = `${f.truncated ? "at least " : ""}${total}`;
  const ids = [...new Set(peers.flatMap((p) => p.eventIds))].sort((a, b) => a - b).join(", ");
  const what =
    side === "server"
      ? `${count} client${total === 1 ? "" : "s"} in the last ${days} connected without signing`
      : `${count} server${total === 1 ? "" : "s"} this host connected to in the last ${days} did not sign`;
  return warn(`${what}: ${shown.join(", ")}${more} (${log}, event ${ids}, read ${r.readAt})`);
}

/**
 * For a host not read yet (a create in preview): what the declared values would change if the
 * host does not already have them. Information: nothing is known of the host to decide on.
 */
export function consequencesIfUnread(declared: DeclaredSettings): Consequence[] {
  const out: Consequence[] = [];
  if (declared.client.requireSigning === true) {
    out.push({
      severity: "info",
      setting: "client.requireSigning",
      text:
        `client.requireSigning: true: unless this host already requires outbound signing, SMB servers that do not sign (many NAS and printers) will ` +
        `fail with ${INVALID_SIGNATURE}, and guest access, if enabled, will be blocked (${GUEST_BLOCKED})`,
    });
  }
  if (declared.server.requireSigning === true) {
    out.push({
      severity: "info",
      setting: "server.requireSigning",
      text:
        "server.requireSigning: true: unless this host already requires inbound signing, SMB clients that do not sign will be refused; which ones, " +
        "its audit log can tell once server.auditClientDoesNotSupportSigning has been on for a while",
    });
  }
  if (declared.client.enableInsecureGuestLogons === false) {
    out.push({
      severity: "info",
      setting: "client.enableInsecureGuestLogons",
      text: `client.enableInsecureGuestLogons: false: guest access, if enabled on this host, will be blocked (${GUEST_BLOCKED})`,
    });
  }
  return out;
}

/** What `destroy` with onDelete "restore" puts back that weakens the host, as a sentence, or undefined. */
export function insecureRestore(restored: DeclaredSettings): string | undefined {
  const values = insecureValues(restored);
  if (values.length === 0) return undefined;
  return (
    `${values.join(", ")}: unsigned SMB traffic can be tampered with or ` +
    `relayed${values.some((v) => v.startsWith("client.enableInsecureGuestLogons")) ? ", and guest logons let any server impersonate a share" : ""}`
  );
}

/**
 * Whether a side audited peers that do not sign when its log was read (before the run changed
 * anything: audit turned on in the same run has logged nothing yet). Group Policy wins over the
 * setting. Where neither says (a release whose cmdlet lacks the setting: KB5066913 on an older
 * server, its audit turned on through the registry), a signing event in the log is the evidence
 * that the audit is on; null: nothing shows either way.
 */
export function auditingOf(side: Side, enforced: Enforced, before: ObservedSettings, log: Pick<AuditLogFindings, "log" | "events">): boolean | null {
  const name = AUDIT_SETTING[side];
  const value = enforced[side][name]?.value ?? before[side][name];
  if (typeof value === "boolean") return value;
  return log.log === "available" && log.events > 0 ? true : null;
}

/** The host as it was before this resource changed it: its originals, and what it reports now for the rest. */
export function beforeThisResource(now: ObservedSettings, originals: DeclaredSettings): ObservedSettings {
  const before = { client: { ...now.client }, server: { ...now.server } };
  for (const side of SIDES) {
    for (const [name, original] of Object.entries(originals[side])) if (typeof original === "boolean") before[side][name] = original;
  }
  return before;
}

/**
 * What a restore (onDelete "restore") would put back: the original of each declared setting
 * whose declared value differs from it. A restore leaves what Group Policy enforces to the policy.
 */
export function restoreTargets(originals: DeclaredSettings, declared: DeclaredSettings, enforced: Enforced): DeclaredSettings {
  const restored: DeclaredSettings = { client: {}, server: {} };
  for (const side of SIDES) {
    for (const [name, original] of Object.entries(originals[side])) {
      if (declared[side][name] !== undefined && original !== declared[side][name] && enforced[side][name] === undefined) restored[side][name] = original;
    }
  }
  return restored;
}

/** What a restore did put back: the settings it wrote, with the values the host reports after it. */
export function restoredValues(written: SettingNames, after: ObservedSettings): DeclaredSettings {
  const restored: DeclaredSettings = { client: {}, server: {} };
  for (const side of SIDES) {
    for (const name of written[side]) {
      const value = after[side][name];
      if (typeof value === "boolean") restored[side][name] = value;
    }
  }
  return restored;
}

/**
 * Originals a restore left as they are because Group Policy could not be seen (a domain
 * controller's Security Options: an original written back could weaken it until a policy, if any,
 * puts its value back), as `side.name (original X, left Y)`; a setting Group Policy enforces is
 * the policy's, not left.
 */
export function leftByRestore(targets: DeclaredSettings, after: ObservedSettings, enforced: Enforced): string[] {
  const left: string[] = [];
  for (const side of SIDES) {
    for (const [name, original] of Object.entries(targets[side])) {
      const now = after[side][name];
      if (typeof original === "boolean" && typeof now === "boolean" && now !== original && enforced[side][name] === undefined)
        left.push(`${side}.${name} (original ${original}, left ${now})`);
    }
  }
  return left;
}

/** What the resource keeps in state: the declared settings, the host now, the originals it recorded, Group Policy, and what destroy does. */
export interface KeptView {
  declared: DeclaredSettings;
  now: ObservedSettings;
  originals: DeclaredSettings;
  enforced: Enforced;
  onDelete: "restore" | "retain";
}

/**
 * What this resource's settings change for people on the host, against how the host was before
 * this resource changed them (its originals; unmanaged settings as the host reports them now),
 * plus what `destroy` would put back if that weakens the host. Stable across runs that change
 * nothing: the audit findings, which change with every read, are the `readiness` output's.
 */
export function keptConsequences(view: KeptView): Consequence[] {
  const out = consequencesOf({ before: beforeThisResource(view.now, view.originals), declared: view.declared, readiness: null, tense: "present" });
  if (view.onDelete === "restore") {
    const weakens = insecureRestore(restoreTargets(view.originals, view.declared, view.enforced));
    if (weakens) out.push({ severity: "info", setting: "onDelete", text: `on destroy (onDelete: "restore") this host returns to ${weakens}` });
  }
  return out;
}

/**
 * What the next up changes for people, as preview can know it without contacting the host: from
 * the host's settings and audit findings as last seen (`observed` undefined: a host not read yet,
 * or another host, as a replacement is).
 */
export function consequencesOfChange(declared: DeclaredSettings, observed: ObservedSettings | undefined, readiness: Readiness | null): Consequence[] {
  if (!observed) return consequencesIfUnread(declared);
  return consequencesOf({ before: observed, declared, readiness, tense: "future" });
}
