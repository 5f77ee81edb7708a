// MIT keytab files (the format of kadmin's ktadd, ktutil and Windows' ktpass): the keys a client
// uses to obtain a ticket without a password. Read only; both format versions: 0x0502 (big-endian
// throughout, with a name type) and the older 0x0501 (integers in the writing machine's byte
// order, taken as little-endian as x86 wrote them, no name type, component count including the
// realm). Layout per MIT's "Keytab file format" (doc/formats/keytab_file_format.rst): entries as
// a 32-bit size (negative: a hole left by a deleted entry), principal, timestamp, 8-bit kvno,
// key, and an optional 32-bit kvno that supersedes the 8-bit one when present and not zero.
import { Cursor, NotACredentialFile, readCredentialFile, TruncatedFile } from "./cursor";
import { NameType } from "./messages";
import { formatPrincipal, Principal, samePrincipal } from "./principal";

export interface KeytabEntry {
  principal: Principal;
  timestamp: Date;
  kvno: number;
  enctype: number;
  key: Buffer;
}

/** A keytab that cannot be read: unknown version, truncated, or inconsistent. */
export class KeytabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeytabError";
  }
}

const utf8 = (b: Buffer) => b.toString("utf8");

/** Every entry of a keytab's bytes, in file order. `source` names the file in errors. */
export function parseKeytab(buf: Buffer, source = "keytab"): KeytabEntry[] {
  if (buf.length < 2) throw new KeytabError(`${source}: not a keytab (${buf.length} bytes, too short for a version)`);
  if (buf[0] !== 0x05 || (buf[1] !== 0x01 && buf[1] !== 0x02)) {
    throw new KeytabError(`${source}: not a keytab this reader knows: version bytes ${buf.subarray(0, 2).toString("hex")}, expected 0502 or 0501`);
  }
  const v1 = buf[1] === 0x01;
  const c = new Cursor(buf, source, 2, v1);
  const entries: KeytabEntry[] = [];
  try {
    while (c.remaining > 0) {
      const size = c.i32(`the size of entry ${entries.length + 1}`);
      if (size < 0) {
        c.sub(-size, "a deleted entry's hole");
        continue;
      }
      if (size === 0) break; // MIT stops at a zero size: the rest of the file is unused
      const e = c.sub(size, `entry ${entries.length + 1} (${size} bytes)`);
      const what = `entry ${entries.length + 1}`;
      let count = e.u16(`${what} component count`);
      if (v1) {
        if (count === 0) throw new KeytabError(`${source}: ${what} has a component count of 0, which version 0x0501 counts the realm in`);
        count -= 1;
      }
      const realm = utf8(e.counted16(`${what} realm`));
      const components: string[] = [];
      for (let i = 0; i < count; i++) components.push(utf8(e.counted16(`${what} component ${i + 1}`)));
      const nameType = v1 ? NameType.UNKNOWN : e.u32(`${what} name type`);
      const timestamp = new Date(e.u32(`${what} timestamp`) * 1000);
      let kvno = e.u8(`${what} kvno`);
      const enctype = e.u16(`${what} enctype`);
      const key = e.counted16(`${what} key`);
      if (e.remaining >= 4) {
        const kvno32 = e.u32(`${what} 32-bit kvno`);
        if (kvno32 !== 0) kvno = kvno32;
      }
      entries.push({ principal: { realm, components, nameType }, timestamp, kvno, enctype, key });
    }
  } catch (err) {
    if (err instanceof TruncatedFile) throw new KeytabError(`${err.message}: the keytab is truncated or corrupt`);
    throw err;
  }
  return entries;
}

/** The entries of the keytab file at `path` ("FILE:" and "WRFILE:" prefixes allowed). */
export function readKeytab(path: string): KeytabEntry[] {
  const file = path.replace(/^(WR)?FILE:/, "");
  if (/^[A-Z]+:/.test(file) && !/^[A-Za-z]:[\\/]/.test(file)) throw new KeytabError(`keytab "${path}": only FILE: keytabs can be read`);
  let buf: Buffer;
  try {
    buf = readCredentialFile(file, "keytab");
  } catch (err) {
    if (err instanceof NotACredentialFile) throw new KeytabError(err.message);
    throw err;
  }
  return parseKeytab(buf, file);
}

/**
 * The key for this principal and enctype with the highest kvno (the current one after a key
 * change: ktadd appends, and older kvnos stay until removed). Undefined when there is none.
 */
export function newestKey(
  entries: readonly KeytabEntry[],
  principal: { realm: string; components: readonly string[] },
  enctype: number,
): KeytabEntry | undefined {
  let best: KeytabEntry | undefined;
  for (const e of entries) {
    if (e.enctype !== enctype || !samePrincipal(e.principal, principal)) continue;
    if (!best || e.kvno > best.kvno) best = e;
  }
  return best;
}

/** The distinct principals a keytab holds keys for, as text (for "no key for X; it holds Y"). */
export function keytabPrincipals(entries: readonly KeytabEntry[]): string[] {
  return [...new Set(entries.map((e) => formatPrincipal(e.principal)))];
}
