// MIT FILE credential caches (what `kinit -c FILE:...` writes), read only: versions 0x0504 (with
// its header of tagged fields, among them the KDC time offset) and 0x0503, both big-endian. Layout
// per MIT's "Credential cache file format" (doc/formats/ccache_file_format.rst): the default
// principal, then credentials to the end of the file, each with client, server, session key, four
// times, is_skey, ticket flags, addresses, authdata, ticket and second ticket. Configuration
// entries (server realm "X-CACHECONF:") are kept apart from the credentials. Other cache types
// (KCM, KEYRING, API, MEMORY) live in a daemon or the kernel and cannot be read from a file:
// resolveCcacheName refuses them with the kinit command that writes a FILE cache instead.
import { Cursor, NotACredentialFile, readCredentialFile, TruncatedFile } from "./cursor";
import { AuthorizationDataEntry, HostAddress, TicketFlags } from "./messages";
import { Principal, samePrincipal } from "./principal";

export interface Credential {
  client: Principal;
  server: Principal;
  /** The session key, shaped as crypto.ts's EncryptionKey (etype and bytes). */
  key: { etype: number; value: Buffer };
  authtime: Date;
  /** The ticket's start; MIT writes 0 when it equals authtime, and this reader then gives authtime. */
  starttime: Date;
  endtime: Date;
  /** Absent when the ticket is not renewable (0 in the file). */
  renewTill?: Date;
  isSkey: boolean;
  /** TicketFlags (messages.ts), bit 0 first as on the wire. */
  ticketFlags: number;
  addresses: HostAddress[];
  authdata: AuthorizationDataEntry[];
  /** The Ticket's DER, as the KDC sent it. */
  ticket: Buffer;
  secondTicket: Buffer;
}

export interface ConfigEntry {
  /** The configuration key, e.g. "pa_type", "fast_avail", "refresh_time". */
  key: string;
  /** The principal the entry is about, when it names one. */
  principal?: string;
  value: Buffer;
}

export interface CredentialCache {
  version: 3 | 4;
  /** The KDC's clock minus ours, as kinit measured it (header tag 1), when recorded. */
  kdcOffset?: { seconds: number; microseconds: number };
  defaultPrincipal: Principal;
  credentials: Credential[];
  config: ConfigEntry[];
}

export class CcacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CcacheError";
  }
}

const CONFIG_REALM = "X-CACHECONF:";
const HEADER_KDC_OFFSET = 1;

function principal(c: Cursor, what: string): Principal {
  const nameType = c.u32(`${what} name type`);
  const count = c.u32(`${what} component count`);
  if (count > c.remaining / 4) throw new TruncatedFile(c.source, `${what} (${count} components)`, c.at);
  const realm = c.counted32(`${what} realm`).toString("utf8");
  const components: string[] = [];
  for (let i = 0; i < count; i++) components.push(c.counted32(`${what} component ${i + 1}`).toString("utf8"));
  return { realm, components, nameType };
}

function counted<T>(c: Cursor, what: string, item: (i: number) => T): T[] {
  const n = c.u32(`${what} count`);
  if (n > c.remaining / 6) throw new TruncatedFile(c.source, `${what} (${n} of them)`, c.at);
  return Array.from({ length: n }, (_, i) => item(i));
}

const time = (s: number) => new Date(s * 1000);

/** A whole FILE ccache's bytes. `source` names the file in errors. */
export function parseCcache(buf: Buffer, source = "credential cache"): CredentialCache {
  if (buf.length < 2) throw new CcacheError(`${source}: not a credential cache (${buf.length} bytes)`);
  const version = buf.readUInt16BE(0);
  if (version !== 0x0504 && version !== 0x0503) {
    const hint = version === 0x0501 || version === 0x0502 ? " (versions 1 and 2 are from before 1996; write a new one with kinit)" : "";
    throw new CcacheError(`${source}: not a credential cache this reader knows: version ${buf.subarray(0, 2).toString("hex")}, expected 0504 or 0503${hint}`);
  }
  const c = new Cursor(buf, source, 2);
  try {
    let kdcOffset: CredentialCache["kdcOffset"];
    if (version === 0x0504) {
      const header = c.sub(c.u16("header length"), "header");
      while (header.remaining > 0) {
        const tag = header.u16("header tag");
        const field = header.sub(header.u16("header field length"), `header field ${tag}`);
        if (tag === HEADER_KDC_OFFSET) {
          kdcOffset = { seconds: field.i32("KDC time offset seconds"), microseconds: field.i32("KDC time offset microseconds") };
        }
      }
    }
    const defaultPrincipal = principal(c, "default principal");
    const credentials: Credential[] = [];
    const config: ConfigEntry[] = [];
    for (let n = 1; c.remaining > 0; n++) {
      const what = `credential ${n}`;
      const client = principal(c, `${what} client`);
      const server = principal(c, `${what} server`);
      const enctype = c.u16(`${what} key enctype`);
      if (version === 0x0503) c.u16(`${what} key enctype (repeated in version 3)`);
      const value = c.counted32(`${what} key`);
      const [authtime, starttime, endtime, renewTill] = ["authtime", "starttime", "endtime", "renew_till"].map((t) => c.u32(`${what} ${t}`));
      const isSkey = c.u8(`${what} is_skey`) !== 0;
      const ticketFlags = c.u32(`${what} ticket flags`);
      const addresses = counted(c, `${what} addresses`, (i) => ({
        addrType: c.u16(`${what} address ${i + 1} type`),
        address: c.counted32(`${what} address ${i + 1}`),
      }));
      const authdata = counted(c, `${what} authdata`, (i) => ({
        adType: c.u16(`${what} authdata ${i + 1} type`),
        adData: c.counted32(`${what} authdata ${i + 1}`),
      }));
      const ticket = c.counted32(`${what} ticket`);
      const secondTicket = c.counted32(`${what} second ticket`);
      if (server.realm === CONFIG_REALM) {
        const [, key, about] = server.components;
        config.push({ key: key ?? "", ...(about !== undefined ? { principal: about } : {}), value: ticket });
        continue;
      }
      credentials.push({
        client,
        server,
        key: { etype: enctype, value },
        authtime: time(authtime),
        starttime: time(starttime || authtime),
        endtime: time(endtime),
        ...(renewTill ? { renewTill: time(renewTill) } : {}),
        isSkey,
        ticketFlags,
        addresses,
        authdata,
        ticket,
        secondTicket,
      });
    }
    return { version: version === 0x0504 ? 4 : 3, ...(kdcOffset ? { kdcOffset } : {}), defaultPrincipal, credentials, config };
  } catch (err) {
    if (err instanceof TruncatedFile) throw new CcacheError(`${err.message}: the credential cache is truncated or corrupt`);
    throw err;
  }
}

/** The FILE ccache at `path`. */
export function readCcache(path: string): CredentialCache {
  let buf: Buffer;
  try {
    buf = readCredentialFile(path, "credential cache");
  } catch (err) {
    if (err instanceof NotACredentialFile) throw new CcacheError(`${err.message}: KRB5CCNAME must name a FILE ccache written by kinit`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CcacheError(`no credential cache at ${path}: run "kinit -c FILE:${path} <principal>" first`);
    throw new CcacheError(`credential cache ${path} cannot be read (${code ?? String(err)})`);
  }
  return parseCcache(buf, path);
}

/**
 * A credential for `server` that is valid at `now` and still is `marginSeconds` later: not a
 * user-to-user ticket, not marked invalid (postdated and not yet validated), started, and ending
 * after now + margin. Of several, the one that lasts longest. The clock is the KDC's if the cache
 * recorded an offset.
 */
export function findCredential(
  cache: CredentialCache,
  server: { realm: string; components: readonly string[] },
  now: Date,
  marginSeconds = 0,
): Credential | undefined {
  const offsetMs = cache.kdcOffset ? cache.kdcOffset.seconds * 1000 + cache.kdcOffset.microseconds / 1000 : 0;
  const kdcNow = now.getTime() + offsetMs;
  let best: Credential | undefined;
  for (const cred of cache.credentials) {
    if (cred.isSkey || cred.ticketFlags & TicketFlags.INVALID || !samePrincipal(cred.server, server)) continue;
    if (cred.starttime.getTime() > kdcNow || cred.endtime.getTime() <= kdcNow + marginSeconds * 1000) continue;
    if (!best || cred.endtime > best.endtime) best = cred;
  }
  return best;
}

/** The ticket-granting ticket for `realm` (krbtgt/REALM@REALM), as findCredential judges it. */
export function findTgt(cache: CredentialCache, realm: string, now: Date, marginSeconds = 0): Credential | undefined {
  return findCredential(cache, { realm, components: ["krbtgt", realm] }, now, marginSeconds);
}

const UNREADABLE = ["KCM", "KEYRING", "API", "MEMORY", "MSLSA"];

/**
 * The file a credential cache name (KRB5CCNAME's value) stands for: "FILE:path" or a bare path;
 * undefined or empty gives MIT's default, /tmp/krb5cc_<uid> (`uid` null: no user id, as on
 * Windows, so no default). Other types are refused, saying how to get a FILE cache instead.
 */
export function resolveCcacheName(name: string | undefined, uid: number | null = process.getuid?.() ?? null): string {
  if (name === undefined || name === "") {
    if (uid === null) throw new CcacheError("no credential cache named: set KRB5CCNAME=FILE:<path> after `kinit -c FILE:<path> <principal>`");
    return `/tmp/krb5cc_${uid}`;
  }
  const m = /^([A-Za-z0-9]+):(.*)$/s.exec(name);
  // A bare path, including a Windows drive path such as C:\tickets\cc.
  if (!m || /^[A-Za-z]:[\\/]/.test(name)) return name;
  const type = m[1].toUpperCase();
  if (type === "FILE") {
    if (m[2] === "") throw new CcacheError('KRB5CCNAME is "FILE:" without a path');
    return m[2];
  }
  const why = UNREADABLE.includes(type)
    ? `a ${type} credential cache lives in ` +
      `${type === "KEYRING" ? "the kernel keyring" : type === "MEMORY" ? "another process's memory" : "a system service"}, not in a file this provider can ` +
      `read`
    : `"${type}:" is not a credential cache type this provider can read`;
  throw new CcacheError(`KRB5CCNAME=${name}: ${why}; run "kinit -c FILE:<path> <principal>" and set KRB5CCNAME=FILE:<path>`);
}
