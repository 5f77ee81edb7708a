// Kerberos credential files: the keytab and FILE ccache readers against files MIT wrote
// (test/fixtures/kerberos: ktutil, kinit, kvno) and against klist's own reading of the same files;
// the ticket lookups; the KRB5CCNAME resolver and its refusal of caches that are not files; and
// the krb5.conf profile reader (sections, nesting, includes, final marks, KRB5_CONFIG lists).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { CcacheError, findCredential, findTgt, parseCcache, readCcache, resolveCcacheName } from "../../provider/transport/winrm/kerberos/ccache";
import { defaultRealm, dnsLookupKdc, kdcAddresses, Krb5ConfigError, loadKrb5Config, parseKdcAddress, parseKrb5Config, ProfileFiles, realmForHost } from "../../provider/transport/winrm/kerberos/krb5conf";
import { KeytabEntry, KeytabError, keytabPrincipals, newestKey, parseKeytab, readKeytab } from "../../provider/transport/winrm/kerberos/keytab";
import { decodeKdcRep, decodeTicket, TicketFlags } from "../../provider/transport/winrm/kerberos/messages";
import { formatPrincipal, parsePrincipal } from "../../provider/transport/winrm/kerberos/principal";
import { REPO_ROOT } from "../e2e/pulumiCli";

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "kerberos");
const fixturePath = (name: string) => path.join(FIXTURES, name);
const fixture = (name: string) => fs.readFileSync(fixturePath(name));
const ENCTYPES: Record<string, number> = { "aes256-cts-hmac-sha1-96": 18, "aes128-cts-hmac-sha1-96": 17 };

/** klist's "12/07/26 17:16:44" (MM/DD/YY, printed with TZ=UTC by make.sh). */
function klistTime(text: string): Date {
  const [, mo, d, y, h, mi, s] = /^(\d\d)\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(text)!.map(Number);
  return new Date(Date.UTC(2000 + y, mo - 1, d, h, mi, s));
}

/** klist's flag letters (MIT klist.c), in its order, for a TicketFlags value. */
function klistFlags(flags: number): string {
  const letters: [number, string][] = [
    [TicketFlags.FORWARDABLE, "F"],
    [TicketFlags.FORWARDED, "f"],
    [TicketFlags.PROXIABLE, "P"],
    [TicketFlags.PROXY, "p"],
    [TicketFlags.MAY_POSTDATE, "D"],
    [TicketFlags.POSTDATED, "d"],
    [TicketFlags.INVALID, "i"],
    [TicketFlags.RENEWABLE, "R"],
    [TicketFlags.INITIAL, "I"],
    [TicketFlags.HW_AUTHENT, "H"],
    [TicketFlags.PRE_AUTHENT, "A"],
    [TicketFlags.TRANSITED_POLICY_CHECKED, "T"],
    [TicketFlags.OK_AS_DELEGATE, "O"],
    [TicketFlags.ANONYMOUS, "a"],
  ];
  return letters.filter(([bit]) => flags & bit).map(([, l]) => l).join("");
}

describe("keytab reader", () => {
  const entries = parseKeytab(fixture("ktutil.keytab"), "ktutil.keytab");

  it("reads ktutil's keytab as `klist -k -t -e -K` does: kvno, timestamp, principal, enctype, key", () => {
    const klist = fs
      .readFileSync(fixturePath("ktutil.keytab.klist.txt"), "utf8")
      .split("\n")
      .map((l) => /^\s*(\d+) (\S+ \S+) (\S+) \((\S+)\)\s+\(0x([0-9a-f]+)\)$/.exec(l))
      .filter((x) => x !== null);
    assert.equal(klist.length, 7);
    assert.deepEqual(
      entries.map((e) => [e.kvno, e.timestamp.getTime(), formatPrincipal(e.principal), e.enctype, e.key.toString("hex")]),
      klist.map(([, kvno, t, p, enctype, key]) => [Number(kvno), klistTime(t).getTime(), p, ENCTYPES[enctype], key]),
    );
    assert.ok(entries.every((e) => e.principal.nameType === 1));
    assert.deepEqual(keytabPrincipals(entries), ["alice@FIXTURE.TEST", "HTTP/web01.fixture.test@FIXTURE.TEST"]);
  });

  it("picks the newest kvno for a principal and enctype (300, which only the 32-bit kvno field holds)", () => {
    const alice = parsePrincipal("alice@FIXTURE.TEST");
    assert.equal(newestKey(entries, alice, 18)?.kvno, 300);
    assert.equal(newestKey(entries, alice, 17)?.kvno, 300);
    // without the 32-bit field the 8-bit kvno is all there is: 300 mod 256
    const raw = fixture("ktutil.keytab");
    assert.equal(raw.includes(Buffer.from([300 & 0xff, 0x00, 0x12])), true);
    assert.equal(newestKey(entries, parsePrincipal("HTTP/web01.fixture.test@FIXTURE.TEST"), 18)?.kvno, 3);
    assert.equal(newestKey(entries, parsePrincipal("HTTP/web01.fixture.test@FIXTURE.TEST"), 17), undefined);
    assert.equal(newestKey(entries, parsePrincipal("alice@OTHER.TEST"), 18), undefined);
    const shuffled = [entries[4], entries[0], entries[2]];
    assert.equal(newestKey(shuffled, alice, 18)?.kvno, 300, "order in the file does not matter");
  });

  it("reads the older 0x0501 layout (little-endian, realm counted, no name type)", () => {
    const v1 = Buffer.concat([Buffer.from([5, 1]), ...entries.map(v1Entry)]);
    const back = parseKeytab(v1, "v1");
    assert.deepEqual(
      back.map((e) => ({ ...e, principal: { ...e.principal, nameType: 1 } })),
      entries,
    );
    assert.ok(back.every((e) => e.principal.nameType === 0));
  });

  it("skips holes left by deleted entries, and stops at a zero size", () => {
    const body = fixture("ktutil.keytab").subarray(2);
    const hole = Buffer.alloc(4 + 10);
    hole.writeInt32BE(-10);
    assert.deepEqual(parseKeytab(Buffer.concat([Buffer.from([5, 2]), hole, body])), entries);
    assert.deepEqual(parseKeytab(Buffer.concat([Buffer.from([5, 2]), body, Buffer.alloc(8)])), entries);
  });

  it("refuses an unknown version and says which versions it reads", () => {
    assert.throws(() => parseKeytab(Buffer.from([5, 3, 0, 0]), "x.keytab"), (e: unknown) => e instanceof KeytabError && /x.keytab: not a keytab this reader knows: version bytes 0503, expected 0502 or 0501/.test(e.message));
    assert.throws(() => parseKeytab(fixture("ccache-v4"), "cc"), /version bytes 0504/);
    assert.throws(() => parseKeytab(Buffer.from([5])), /too short for a version/);
  });

  it("refuses every truncation inside an entry, naming the field; a cut between entries leaves the entries before it (fast-check)", () => {
    const raw = fixture("ktutil.keytab");
    assert.throws(() => parseKeytab(raw.subarray(0, 40), "kt"), (e: unknown) => e instanceof KeytabError && /^kt: truncated at byte 6, while reading entry 1 \(\d+ bytes\): the keytab is truncated or corrupt$/.test(e.message));
    fc.assert(
      fc.property(fc.integer({ min: 2, max: raw.length - 1 }), (cut) => {
        try {
          const some = parseKeytab(raw.subarray(0, cut));
          assert.ok(some.length < entries.length);
          assert.deepEqual(some, entries.slice(0, some.length));
        } catch (e) {
          assert.ok(e instanceof KeytabError && /truncated/.test(e.message), String(e));
        }
      }),
      { numRuns: 400 },
    );
  });

  it("reads random bodies without any error but a KeytabError (fast-check)", () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), fc.uint8Array({ maxLength: 200 }), (v, body) => {
        try {
          parseKeytab(Buffer.concat([Buffer.from([5, v]), body]));
        } catch (e) {
          assert.ok(e instanceof KeytabError, String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("reads a FILE: keytab name and refuses other keytab types", () => {
    assert.equal(readKeytab(`FILE:${fixturePath("ktutil.keytab")}`).length, 7);
    assert.throws(() => readKeytab("MEMORY:kt"), /only FILE: keytabs can be read/);
  });

  it("refuses a keytab or ticket cache path that is not a regular file (a device, a FIFO, a directory) at once, without reading it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krb-files-"));
    try {
      const fifo = path.join(dir, "fifo");
      execFileSync("mkfifo", [fifo]);
      // /dev/zero last: were the check gone, reading it would never end, and the FIFO has already failed the test.
      for (const name of [fifo, dir, "/dev/zero"]) {
        assert.throws(() => readKeytab(name), (e: unknown) => e instanceof KeytabError && /is not a regular file/.test(e.message), name);
        assert.throws(() => readCcache(name), (e: unknown) => e instanceof CcacheError && /is not a regular file: KRB5CCNAME must name a FILE ccache/.test(e.message), name);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One entry in the 0x0501 layout: native (little-endian) integers, realm in the count, no name type. */
function v1Entry(e: KeytabEntry): Buffer {
  const parts: Buffer[] = [];
  const u16 = (n: number) => (parts.push(Buffer.alloc(2)), parts[parts.length - 1].writeUInt16LE(n));
  const u32 = (n: number) => (parts.push(Buffer.alloc(4)), parts[parts.length - 1].writeUInt32LE(n));
  const counted = (b: Buffer) => (u16(b.length), parts.push(b));
  u16(e.principal.components.length + 1);
  counted(Buffer.from(e.principal.realm));
  for (const c of e.principal.components) counted(Buffer.from(c));
  u32(e.timestamp.getTime() / 1000);
  parts.push(Buffer.from([e.kvno & 0xff]));
  u16(e.enctype);
  counted(e.key);
  if (e.kvno > 255) u32(e.kvno);
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32LE(body.length);
  return Buffer.concat([size, body]);
}

describe("FILE credential cache reader", () => {
  for (const version of [4, 3] as const) {
    it(`reads kinit's version ${version} cache as \`klist -e -f\` does: principals, times, flags, enctypes`, () => {
      const cache = readCcache(fixturePath(`ccache-v${version}`));
      const klist = fs.readFileSync(fixturePath(`ccache-v${version}.klist.txt`), "utf8");
      assert.equal(cache.version, version);
      assert.equal(formatPrincipal(cache.defaultPrincipal), /Default principal: (\S+)/.exec(klist)![1]);
      const listed = [...klist.matchAll(/^(\S+ \S+) {2}(\S+ \S+) {2}(\S+)\n\trenew until (\S+ \S+), Flags: (\S+)\n\tEtype \(skey, tkt\): (\S+), (\S+) $/gm)];
      assert.equal(listed.length, version === 4 ? 2 : 1);
      assert.deepEqual(
        cache.credentials.map((c) => [c.starttime, c.endtime, formatPrincipal(c.server), c.renewTill, klistFlags(c.ticketFlags), c.key.etype, decodeTicket(c.ticket).encPart.etype]),
        listed.map(([, start, end, server, renew, flags, skey, tkt]) => [klistTime(start), klistTime(end), server, klistTime(renew), flags, ENCTYPES[skey], ENCTYPES[tkt]]),
      );
      for (const c of cache.credentials) {
        assert.equal(formatPrincipal(c.client), "alice@FIXTURE.TEST");
        assert.equal(c.key.value.length, 32);
        assert.equal(c.isSkey, false);
        assert.deepEqual([c.addresses, c.authdata, c.secondTicket.length], [[], [], 0]);
      }
    });
  }

  it("keeps configuration entries (X-CACHECONF:) apart from the credentials", () => {
    const cache = readCcache(fixturePath("ccache-v4"));
    assert.deepEqual(
      cache.config.map((c) => [c.key, c.principal, c.value.toString()]),
      [
        ["fast_avail", "krbtgt/FIXTURE.TEST@FIXTURE.TEST", "yes"],
        ["pa_type", "krbtgt/FIXTURE.TEST@FIXTURE.TEST", "2"],
      ],
    );
    assert.ok(cache.credentials.every((c) => c.server.realm !== "X-CACHECONF:"));
  });

  it("reads the KDC time offset from the version 4 header (krb5kdc -T 90); version 3 has none", () => {
    assert.deepEqual(readCcache(fixturePath("ccache-v4")).kdcOffset, { seconds: 90, microseconds: 0 });
    assert.equal(readCcache(fixturePath("ccache-v3")).kdcOffset, undefined);
  });

  it("holds the very tickets the KDC sent in the recorded AS-REP and TGS-REP", () => {
    const [tgt, http] = readCcache(fixturePath("ccache-v4")).credentials;
    assert.ok(fixture("as-rep.der").includes(tgt.ticket), "the TGT is the AS-REP's ticket");
    assert.ok(fixture("tgs-rep.der").includes(http.ticket), "the service ticket is the TGS-REP's");
    assert.deepEqual(decodeTicket(http.ticket), decodeKdcRep(fixture("tgs-rep.der")).ticket);
  });

  it("finds a usable ticket by server and time, on the KDC's clock, with a margin; the TGT by realm", () => {
    const cache = readCcache(fixturePath("ccache-v4"));
    const http = parsePrincipal("HTTP/web01.fixture.test@FIXTURE.TEST");
    const [tgt, service] = cache.credentials;
    const end = service.endtime.getTime();
    assert.equal(findCredential(cache, http, new Date(service.authtime.getTime())), service);
    assert.equal(findCredential(cache, http, new Date(end - 120_000)), service);
    // our clock 60 s before the end is the KDC's 30 s after it (offset +90 s)
    assert.equal(findCredential(cache, http, new Date(end - 60_000)), undefined);
    assert.equal(findCredential(cache, http, new Date(end - 200_000), 300), undefined, "less than the margin left");
    assert.equal(findCredential(cache, http, new Date(service.authtime.getTime() - 3600_000)), undefined, "not yet valid");
    assert.equal(findCredential(cache, parsePrincipal("HTTP/other@FIXTURE.TEST"), service.authtime), undefined);
    assert.equal(findTgt(cache, "FIXTURE.TEST", tgt.authtime), tgt);
    assert.equal(findTgt(cache, "OTHER.TEST", tgt.authtime), undefined);
  });

  it("passes over user-to-user and invalid (postdated, unvalidated) tickets", () => {
    const cache = readCcache(fixturePath("ccache-v4"));
    const [, service] = cache.credentials;
    const http = parsePrincipal("HTTP/web01.fixture.test@FIXTURE.TEST");
    assert.equal(findCredential({ ...cache, credentials: [{ ...service, isSkey: true }] }, http, service.authtime), undefined);
    assert.equal(findCredential({ ...cache, credentials: [{ ...service, ticketFlags: service.ticketFlags | TicketFlags.INVALID }] }, http, service.authtime), undefined);
  });

  it("refuses an unknown version, a missing file, and every truncation inside a credential (fast-check)", () => {
    assert.throws(() => parseCcache(Buffer.from([5, 2, 0, 0]), "cc"), (e: unknown) => e instanceof CcacheError && /cc: not a credential cache this reader knows: version 0502, expected 0504 or 0503 \(versions 1 and 2/.test(e.message));
    assert.throws(() => parseCcache(fixture("ktutil.keytab"), "cc"), /version 0502/);
    assert.throws(() => readCcache(path.join(FIXTURES, "no-such-cache")), /no credential cache at .*no-such-cache: run "kinit -c FILE:.*no-such-cache <principal>" first/);
    const raw = fixture("ccache-v4");
    const full = parseCcache(raw);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: raw.length - 1 }), (cut) => {
        try {
          const some = parseCcache(raw.subarray(0, cut));
          assert.ok(some.credentials.length + some.config.length < full.credentials.length + full.config.length);
        } catch (e) {
          assert.ok(e instanceof CcacheError && /truncated|not a credential cache/.test(e.message), String(e));
        }
      }),
      { numRuns: 400 },
    );
  });

  it("reads random bodies without any error but a CcacheError (fast-check)", () => {
    fc.assert(
      fc.property(fc.constantFrom(3, 4), fc.uint8Array({ maxLength: 200 }), (v, body) => {
        try {
          parseCcache(Buffer.concat([Buffer.from([5, v]), body]));
        } catch (e) {
          assert.ok(e instanceof CcacheError, String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("KRB5CCNAME", () => {
  it("takes FILE:path and a bare path; unset means MIT's /tmp/krb5cc_<uid>", () => {
    assert.equal(resolveCcacheName("FILE:/tmp/cc"), "/tmp/cc");
    assert.equal(resolveCcacheName("/var/run/cc"), "/var/run/cc");
    assert.equal(resolveCcacheName("relative/cc"), "relative/cc");
    assert.equal(resolveCcacheName("C:\\tickets\\cc"), "C:\\tickets\\cc");
    assert.equal(resolveCcacheName("FILE:C:\\tickets\\cc"), "C:\\tickets\\cc");
    assert.equal(resolveCcacheName(undefined, 1000), "/tmp/krb5cc_1000");
    assert.equal(resolveCcacheName("", 0), "/tmp/krb5cc_0");
    assert.throws(() => resolveCcacheName(undefined, null), /set KRB5CCNAME=FILE:<path>/);
  });

  it("refuses KCM:, KEYRING:, API: and MEMORY: caches, telling the user to kinit -c FILE:<path> and set KRB5CCNAME to it", () => {
    for (const name of ["KCM:", "KCM:1000", "KEYRING:persistent:1000", "API:", "MEMORY:x", "kcm:1000", "DIR:/tmp/cc"]) {
      assert.throws(
        () => resolveCcacheName(name, 1000),
        (e: unknown) => e instanceof CcacheError && e.message.startsWith(`KRB5CCNAME=${name}: `) && e.message.endsWith('run "kinit -c FILE:<path> <principal>" and set KRB5CCNAME=FILE:<path>'),
        name,
      );
    }
    assert.throws(() => resolveCcacheName("KEYRING:persistent:1000"), /lives in the kernel keyring/);
    assert.throws(() => resolveCcacheName("FILE:"), /without a path/);
  });
});

describe("principal names", () => {
  it("parses and formats service/host@REALM, with quoting and a default realm", () => {
    assert.deepEqual(parsePrincipal("HTTP/web01.corp.example@CORP.EXAMPLE"), { realm: "CORP.EXAMPLE", components: ["HTTP", "web01.corp.example"], nameType: 1 });
    assert.deepEqual(parsePrincipal("alice", "CORP.EXAMPLE"), { realm: "CORP.EXAMPLE", components: ["alice"], nameType: 1 });
    assert.equal(parsePrincipal("krbtgt/R@R").nameType, 2);
    assert.deepEqual(parsePrincipal("a\\/b\\@c@R").components, ["a/b@c"]);
    assert.equal(formatPrincipal({ realm: "R", components: ["a/b@c"] }), "a\\/b\\@c@R");
    assert.throws(() => parsePrincipal("alice"), /names no realm/);
    assert.throws(() => parsePrincipal("a//b@R"), /empty component/);
    assert.throws(() => parsePrincipal("a@R@S"), /has a "@" in its realm/);
  });
});

describe("krb5.conf", () => {
  /** An in-memory file system for includes. */
  function files(map: Record<string, string>): ProfileFiles {
    return {
      readFile: (f) => {
        if (Object.keys(map).some((k) => k.startsWith(`${f}/`))) throw Object.assign(new Error(`EISDIR ${f}`), { code: "EISDIR" });
        if (!(f in map)) throw Object.assign(new Error(`ENOENT ${f}`), { code: "ENOENT" });
        return map[f];
      },
      readDir: (d) => {
        const names = Object.keys(map).filter((f) => path.dirname(f) === d.replace(/\/$/, "")).map((f) => path.basename(f));
        if (names.length === 0) throw Object.assign(new Error(`ENOENT ${d}`), { code: "ENOENT" });
        return names;
      },
    };
  }

  const MAIN = [
    "# a comment",
    "; another",
    "[libdefaults]",
    "\tdefault_realm = CORP.EXAMPLE",
    "\tdns_lookup_kdc = false",
    "",
    "[realms]",
    "\tCORP.EXAMPLE = {",
    "\t\tkdc = dc1.corp.example",
    "\t\tkdc = dc2.corp.example:8888",
    "\t\tadmin_server = dc1.corp.example",
    "\t\tauth_to_local = {",
    '\t\t\tquoted = "a \\"b\\"\\tc"',
    "\t\t}",
    "\t}",
    "\tLAB.EXAMPLE* = {",
    "\t\tkdc = [fd00::1]:750",
    "\t}",
    "",
    "[domain_realm]",
    "\t.corp.example = CORP.EXAMPLE",
    "\tcorp.example = CORP.EXAMPLE",
    "\t.lab.corp.example = LAB.EXAMPLE",
    "include /etc/krb5.extra",
    "includedir /etc/krb5.conf.d/",
  ].join("\n");
  const io = files({
    "/etc/krb5.conf": MAIN,
    "/etc/krb5.extra": "[realms]\n EXTRA.EXAMPLE = {\n  kdc = 127.0.0.9\n }\n",
    "/etc/krb5.conf.d/10-lab.conf": "[domain_realm]\n lab.corp.example = LAB.EXAMPLE\n",
    "/etc/krb5.conf.d/20_more": "[realms]\n CORP.EXAMPLE = {\n  kdc = dc3.corp.example\n }\n",
    "/etc/krb5.conf.d/skipped.conf~": "this is not read",
    "/etc/krb5.conf.d/.hidden": "nor this",
    "/etc/krb5.conf.d/.hidden.conf": "nor this",
    "/etc/conf-dir/b_second": "[libdefaults]\n default_realm = FROM.DIR.B\n",
    "/etc/conf-dir/a-first": "module /usr/lib/some-module.so:residual\n[libdefaults]\n default_realm = FROM.DIR.A\n",
    "/etc/conf-dir/c.conf": "not read: a KRB5_CONFIG directory takes plain names only",
    "/etc/second.conf": "[libdefaults]\n default_realm = SECOND.EXAMPLE\n[realms]\n CORP.EXAMPLE = {\n  kdc = dc4.corp.example\n }\n LAB.EXAMPLE = {\n  kdc = ignored.example\n }\n",
  });

  it("takes one KDC per kdc relation, up to the first blank: a trailing comment never adds KDCs, a comma list is refused (MIT k5_parse_host_string)", () => {
    const one = parseKrb5Config([{ source: "krb5.conf", text: "[realms]\n R.EXAMPLE = {\n  kdc = kdc1.r.example # primary\n  kdc = kdc2.r.example:750\n }\n" }]);
    assert.deepEqual(kdcAddresses(one, "R.EXAMPLE"), [
      { host: "kdc1.r.example", port: 88 },
      { host: "kdc2.r.example", port: 750 },
    ]);
    const commas = parseKrb5Config([{ source: "krb5.conf", text: "[realms]\n R.EXAMPLE = {\n  kdc = kdc2.r.example:750, kdc3.r.example\n }\n" }]);
    assert.throws(() => kdcAddresses(commas, "R.EXAMPLE"), (e: unknown) => e instanceof Krb5ConfigError && /kdc "kdc2\.r\.example:750,"/.test(e.message));
  });

  it("reads the default realm, dns_lookup_kdc, and a realm's KDCs (default port 88), includes and includedir followed", () => {
    const conf = loadKrb5Config({ KRB5_CONFIG: "/etc/krb5.conf" }, io);
    assert.equal(defaultRealm(conf), "CORP.EXAMPLE");
    assert.equal(dnsLookupKdc(conf), false);
    assert.deepEqual(kdcAddresses(conf, "CORP.EXAMPLE"), [
      { host: "dc1.corp.example", port: 88 },
      { host: "dc2.corp.example", port: 8888 },
      { host: "dc3.corp.example", port: 88 },
    ]);
    assert.deepEqual(kdcAddresses(conf, "EXTRA.EXAMPLE"), [{ host: "127.0.0.9", port: 88 }]);
    assert.deepEqual(kdcAddresses(conf, "NONE.EXAMPLE"), []);
    assert.equal(conf.get("realms", "CORP.EXAMPLE", "auth_to_local", "quoted"), 'a "b"\tc');
    assert.deepEqual(conf.tags("realms"), ["CORP.EXAMPLE", "LAB.EXAMPLE", "EXTRA.EXAMPLE"]);
  });

  it("KRB5_CONFIG is a colon-separated list: the first file's value wins, lists add up, a final mark stops later files, missing files are skipped", () => {
    const conf = loadKrb5Config({ KRB5_CONFIG: "/etc/missing.conf:/etc/krb5.conf:/etc/second.conf" }, io);
    assert.deepEqual(conf.files.map((f) => f.source), ["/etc/krb5.conf", "/etc/second.conf"]);
    assert.equal(defaultRealm(conf), "CORP.EXAMPLE");
    assert.deepEqual(conf.values("libdefaults", "default_realm"), ["CORP.EXAMPLE", "SECOND.EXAMPLE"]);
    assert.deepEqual(kdcAddresses(conf, "CORP.EXAMPLE").map((k) => k.host), ["dc1.corp.example", "dc2.corp.example", "dc3.corp.example", "dc4.corp.example"]);
    assert.deepEqual(kdcAddresses(conf, "LAB.EXAMPLE"), [{ host: "fd00::1", port: 750 }], "LAB.EXAMPLE* is final");
    const finalSection = parseKrb5Config(
      [
        { source: "a", text: "[libdefaults]*\n default_realm = A\n" },
        { source: "b", text: "[libdefaults]\n default_realm = B\n" },
      ],
      io,
    );
    assert.deepEqual(finalSection.values("libdefaults", "default_realm"), ["A"]);
    const finalBrace = parseKrb5Config(
      [
        { source: "a", text: "[realms]\n R = {\n  kdc = a\n }*\n" },
        { source: "b", text: "[realms]\n R = {\n  kdc = b\n }\n" },
      ],
      io,
    );
    assert.deepEqual(finalBrace.values("realms", "R", "kdc"), ["a"]);
    assert.equal(defaultRealm(loadKrb5Config({ KRB5_CONFIG: "/etc/none.conf" }, io)), undefined);
  });

  it("a directory in KRB5_CONFIG stands for its plainly named files, in order; module lines are passed over", () => {
    const conf = loadKrb5Config({ KRB5_CONFIG: "/etc/conf-dir" }, io);
    assert.deepEqual(conf.files.map((f) => f.source), ["/etc/conf-dir/a-first", "/etc/conf-dir/b_second"]);
    assert.deepEqual(conf.values("libdefaults", "default_realm"), ["FROM.DIR.A", "FROM.DIR.B"]);
  });

  it("maps host names to realms through [domain_realm]: the host itself, then each parent as .domain and domain; never an IP address", () => {
    const conf = loadKrb5Config({ KRB5_CONFIG: "/etc/krb5.conf" }, io);
    assert.equal(realmForHost(conf, "web01.corp.example"), "CORP.EXAMPLE");
    assert.equal(realmForHost(conf, "WEB01.Corp.Example."), "CORP.EXAMPLE");
    assert.equal(realmForHost(conf, "corp.example"), "CORP.EXAMPLE");
    assert.equal(realmForHost(conf, "lab.corp.example"), "LAB.EXAMPLE");
    assert.equal(realmForHost(conf, "x.lab.corp.example"), "LAB.EXAMPLE");
    assert.equal(realmForHost(conf, "example.org"), undefined);
    assert.equal(realmForHost(conf, "deep.host.corp.example"), "CORP.EXAMPLE");
    const bare = parseKrb5Config([{ source: "c", text: "[domain_realm]\n example.org = ORG.EXAMPLE\n 10.0.0.1 = NUMERIC\n" }], io);
    assert.equal(realmForHost(bare, "www.example.org"), "ORG.EXAMPLE", "a bare domain entry covers its hosts too (MIT 1.20)");
    assert.equal(realmForHost(bare, "10.0.0.1"), undefined);
    assert.equal(realmForHost(bare, "[::1]"), undefined);
  });

  it("reads KDC addresses as host, host:port and [IPv6]:port, and leaves MS-KKDCP URLs out", () => {
    assert.deepEqual(parseKdcAddress("kdc.example"), { host: "kdc.example", port: 88 });
    assert.deepEqual(parseKdcAddress("127.0.0.1:750"), { host: "127.0.0.1", port: 750 });
    assert.deepEqual(parseKdcAddress("[::1]"), { host: "::1", port: 88 });
    for (const bad of ["::1", "h:0", "h:70000", "h:p", ""]) assert.throws(() => parseKdcAddress(bad), Krb5ConfigError, bad);
    const conf = parseKrb5Config([{ source: "c", text: "[realms]\nR = {\n kdc = https://kdcproxy.example/KdcProxy\n kdc = k.example\n}\n" }], io);
    assert.deepEqual(kdcAddresses(conf, "R"), [{ host: "k.example", port: 88 }]);
  });

  it("refuses malformed files, naming the file and line", () => {
    const bad = (text: string, message: RegExp) => assert.throws(() => parseKrb5Config([{ source: "/etc/krb5.conf", text }], io), (e: unknown) => e instanceof Krb5ConfigError && message.test(e.message));
    bad("default_realm = X\n", /^\/etc\/krb5.conf:1: relation outside any \[section\]$/);
    bad("[realms]\n R = {\n  kdc = a\n", /\/etc\/krb5.conf: 1 "\{" never closed/);
    bad("[realms]\n}\n", /\/etc\/krb5.conf:2: "\}" without a matching "\{"/);
    bad("[realms\n", /:1: malformed section header/);
    bad("[realms]\n R\n", /:2: expected "tag = value"/);
    bad("[libdefaults]\ninclude /etc/nowhere.conf\n", /:2: cannot read included \/etc\/nowhere.conf \(ENOENT\)/);
    bad("[libdefaults]\ninclude relative.conf\n", /:2: include needs an absolute path/);
    bad('[libdefaults]\n x = "open\n', /:2: unterminated quoted value/);
    assert.throws(() => dnsLookupKdc(parseKrb5Config([{ source: "c", text: "[libdefaults]\n dns_lookup_kdc = maybe\n" }], io)), /"maybe" is not a boolean/);
    const loop = files({ "/etc/loop.conf": "include /etc/loop.conf\n" });
    assert.throws(() => loadKrb5Config({ KRB5_CONFIG: "/etc/loop.conf" }, loop), /includes nested deeper than 5/);
  });
});
