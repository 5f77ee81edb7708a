// Our Kerberos client (kdcTransport.ts, tickets.ts) against MIT's KDC on loopback: a TGT from a
// password and from a keytab, service tickets for HTTP/<host> that the service's own key opens
// (so the KDC really issued them), tickets from ccaches kinit and kvno wrote, an ended ccache,
// every KDC refusal a user meets (wrong password, unknown user, unknown SPN, clock skew) with its
// exact message and no password in it, the KDC down and up again, TCP and the RESPONSE_TOO_BIG
// fallback, and the provider process's ticket store reusing and sharing exchanges. Last, a ticket
// of ours carried by our AP-REQ (gssContext.ts) to MIT's acceptor, which accepts it.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Credential, readCcache } from "../../provider/transport/winrm/kerberos/ccache";
import { decrypt } from "../../provider/transport/winrm/kerberos/crypto";
import { Fields, Tag, applicationTag, decodeWhole, tlv } from "../../provider/transport/winrm/kerberos/der";
import { KerberosError } from "../../provider/transport/winrm/kerberos/errors";
import { GssInitiatorContext, serviceTicketOf } from "../../provider/transport/winrm/kerberos/gssContext";
import { KdcExchange, KdcSender, sendKdcRequest } from "../../provider/transport/winrm/kerberos/kdcTransport";
import { newestKey, readKeytab } from "../../provider/transport/winrm/kerberos/keytab";
import * as m from "../../provider/transport/winrm/kerberos/messages";
import { parsePrincipal } from "../../provider/transport/winrm/kerberos/principal";
import { KINIT_AGAIN, TicketRequest, TicketStore, getInitialTicket, getServiceTicket } from "../../provider/transport/winrm/kerberos/tickets";
import { GssSidecar } from "../simhost/gssSidecar";
import { Realm, startRealm } from "../simhost/kdc";

const HOST = "web01.corp.test";
const SPN = `HTTP/${HOST}`;
const ALICE_PASSWORD = "Alice-Pa55-kdc";
const WRONG_PASSWORD = "Not-Alices-Pa55";

/** What the KDC sent and how, one entry per request, for counting and for the protocol used. */
interface Sent {
  request: Buffer;
  exchange?: KdcExchange;
  error?: unknown;
}

describe("Kerberos tickets from MIT's KDC: AS and TGS exchanges, ccaches, errors, transport, reuse", function () {
  this.timeout(60_000);
  let realm: Realm;
  let httpKeytab: string;
  let bobKeytab: string;
  const sent: Sent[] = [];
  const counting: KdcSender = async (r, kdcs, request, options) => {
    const entry: Sent = { request };
    sent.push(entry);
    try {
      entry.exchange = await sendKdcRequest(r, kdcs, request, options);
      return entry.exchange;
    } catch (err) {
      entry.error = err;
      throw err;
    }
  };
  const store = (options: ConstructorParameters<typeof TicketStore>[0] = {}) => new TicketStore({ send: counting, ...options });
  const req = (extra: Partial<TicketRequest>): TicketRequest => ({ host: HOST, env: realm.childEnv(), ...extra });
  const types = (from: number) => sent.slice(from).map((s) => m.messageType(s.request));

  before(async () => {
    realm = await startRealm({ realm: "CORP.TEST" });
    await realm.addPrincipal("alice", ALICE_PASSWORD);
    await realm.addPrincipal("bob");
    await realm.addPrincipal("carol", "Carol-Pa55-kdc");
    // carol needs no pre-authentication: the KDC answers her first AS-REQ with an AS-REP.
    await realm.kadmin("modprinc -requires_preauth carol@CORP.TEST");
    await realm.addPrincipal(SPN);
    httpKeytab = await realm.keytab(SPN, path.join(realm.dir, "http.keytab"));
    bobKeytab = await realm.keytab("bob", path.join(realm.dir, "bob.keytab"));
  });
  after(async () => {
    await realm?.stop();
  });

  /** The service ticket's enc-part opened with the service's key from the realm's keytab (key usage 2). */
  function openWithServiceKey(cred: Credential) {
    const ticket = m.decodeTicket(cred.ticket);
    const entry = newestKey(readKeytab(httpKeytab), parsePrincipal(`${SPN}@CORP.TEST`), ticket.encPart.etype)!;
    assert.ok(entry, `the keytab has a key of enctype ${ticket.encPart.etype}`);
    assert.equal(ticket.encPart.kvno, entry.kvno);
    const plain = decrypt({ etype: entry.enctype, value: entry.key }, m.KeyUsage.KDC_REP_TICKET, ticket.encPart.cipher);
    const outer = decodeWhole(plain, applicationTag(m.AppTag.ENC_TICKET_PART), "EncTicketPart");
    const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, "EncTicketPart"), "EncTicketPart", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const key = m.decodeEncryptionKey(tlv(Tag.SEQUENCE, f.required(1, "key").contents));
    const cname = m.decodePrincipalName(tlv(Tag.SEQUENCE, f.required(3, "cname").contents));
    return { key, cname, ticket };
  }

  function assertServiceTicket(cred: Credential, user: string) {
    assert.deepEqual([cred.server.realm, cred.server.components], ["CORP.TEST", ["HTTP", HOST]]);
    assert.deepEqual([cred.client.realm, cred.client.components], ["CORP.TEST", [user]]);
    const opened = openWithServiceKey(cred);
    assert.deepEqual({ etype: opened.key.keytype, value: opened.key.keyvalue }, cred.key, "the session key inside the ticket is ours");
    assert.deepEqual(opened.cname.nameString, [user]);
    assert.ok(cred.endtime.getTime() > Date.now() + 3600_000);
  }

  async function rejection(p: Promise<unknown>): Promise<KerberosError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof KerberosError, `a KerberosError, not ${String(err)}`);
      return err;
    }
    assert.fail("no error");
  }

  it("password: PREAUTH_REQUIRED, then PA-ENC-TIMESTAMP and PA-PAC-REQUEST give a TGT; the TGS exchange gives HTTP/<host>, which the service key opens", async () => {
    const target = { realm: "CORP.TEST", kdcs: [{ host: realm.kdcAddress, port: realm.port }], send: counting };
    const from = sent.length;
    const alice = parsePrincipal("alice@CORP.TEST");
    const tgt = await getInitialTicket(alice, { password: ALICE_PASSWORD }, target);
    assert.deepEqual([tgt.server.realm, tgt.server.components], ["CORP.TEST", ["krbtgt", "CORP.TEST"]]);
    assert.equal(tgt.key.etype, 18);
    assert.ok(tgt.ticketFlags & m.TicketFlags.PRE_AUTHENT && tgt.ticketFlags & m.TicketFlags.INITIAL);
    assert.deepEqual(types(from), [m.MsgType.AS_REQ, m.MsgType.AS_REQ]);
    const first = m.decodeKdcReq(sent[from].request, m.MsgType.AS_REQ);
    const second = m.decodeKdcReq(sent[from + 1].request, m.MsgType.AS_REQ);
    assert.deepEqual(first.padata!.map((p) => p.padataType), [m.PaType.PAC_REQUEST]);
    assert.deepEqual(second.padata!.map((p) => p.padataType), [m.PaType.ENC_TIMESTAMP, m.PaType.PAC_REQUEST]);
    assert.equal(m.decodePaPacRequest(second.padata![1].padataValue), true);
    assert.deepEqual(first.reqBody.etype, [18, 17]);
    assert.notEqual(first.reqBody.nonce, second.reqBody.nonce);
    assert.ok(second.reqBody.nonce > 0 && second.reqBody.nonce < 2 ** 31);

    const ticket = await getServiceTicket(tgt, parsePrincipal(SPN, "CORP.TEST", m.NameType.SRV_INST), target);
    assert.deepEqual(types(from + 2), [m.MsgType.TGS_REQ]);
    const tgsReq = m.decodeKdcReq(sent[from + 2].request, m.MsgType.TGS_REQ);
    assert.ok(tgsReq.reqBody.kdcOptions & m.KdcOptions.CANONICALIZE);
    assertServiceTicket(ticket, "alice");
    assert.match(realm.kdcLog(), /TGS_REQ .*: ISSUE: authtime \d+, etypes \{rep=aes256-cts-hmac-sha1-96\(18\).*alice@CORP\.TEST for HTTP\/web01\.corp\.test@CORP\.TEST/);
  });

  it("keytab: bob's newest key logs him in, and the service ticket is real", async () => {
    const from = sent.length;
    const cred = await store().getServiceTicket(req({ user: "bob", keytab: `FILE:${bobKeytab}` }));
    assertServiceTicket(cred, "bob");
    assert.deepEqual(types(from), [m.MsgType.AS_REQ, m.MsgType.AS_REQ, m.MsgType.TGS_REQ]);
  });

  it("a ccache from kinit -kt: its TGT gets the service ticket in one TGS exchange", async () => {
    const cc = path.join(realm.dir, "bob-kinit.cc");
    await realm.kinit("bob", { keytab: bobKeytab, ccache: cc });
    const from = sent.length;
    const cred = await store().getServiceTicket(req({ ccache: `FILE:${cc}` }));
    assertServiceTicket(cred, "bob");
    assert.deepEqual(types(from), [m.MsgType.TGS_REQ]);
    // KRB5CCNAME is the default when no password, keytab or ccache is given.
    const viaEnv = await store().getServiceTicket({ host: HOST, env: realm.childEnv({ KRB5CCNAME: `FILE:${cc}` }) });
    assertServiceTicket(viaEnv, "bob");
  });

  it("a ccache that already holds the service ticket (kinit, then kvno): used as is, no KDC request", async () => {
    const cc = path.join(realm.dir, "alice-kvno.cc");
    await realm.kinit("alice", { password: ALICE_PASSWORD, ccache: cc });
    const kvno = await realm.tool("/usr/bin/kvno", ["-c", `FILE:${cc}`, SPN]);
    assert.equal(kvno.code, 0, kvno.stderr);
    const from = sent.length;
    const cred = await store().getServiceTicket(req({ ccache: cc, user: "alice" }));
    assert.equal(sent.length, from);
    const inCache = readCcache(cc).credentials.find((c) => c.server.components[0] === "HTTP")!;
    assert.deepEqual(cred.ticket, inCache.ticket);
    assertServiceTicket(cred, "alice");
  });

  it("a ccache whose tickets ended (kinit -l 1s): ticketExpired, with the kinit advice", async () => {
    const cc = path.join(realm.dir, "short.cc");
    await realm.kinit("alice", { password: ALICE_PASSWORD, ccache: cc, lifetime: "1s" });
    await new Promise((r) => setTimeout(r, 2100));
    const from = sent.length;
    const err = await rejection(store().getServiceTicket(req({ ccache: cc })));
    assert.equal(err.failure, "ticketExpired");
    assert.equal(err.transient, false);
    assert.match(err.message, new RegExp(`^the Kerberos tickets of alice@CORP\\.TEST in ${cc.replace(/[.]/g, "\\.")} ended at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: run kinit again; in CI: kinit -kt <keytab> -c FILE:<path> <principal> before pulumi$`));
    assert.ok(err.message.endsWith(KINIT_AGAIN));
    assert.equal(sent.length, from, "no KDC request for an ended cache");
  });

  it("a wrong password: preauthFailed (24) with the fix, and the password appears nowhere in the error", async () => {
    const err = await rejection(store().getServiceTicket(req({ user: "alice", password: WRONG_PASSWORD })));
    assert.equal(err.failure, "preauthFailed");
    assert.equal(err.code, 24);
    assert.equal(err.message, "KDC_ERR_PREAUTH_FAILED (24) for alice@CORP.TEST: wrong password, or the keytab's key is older than the account's: export a new keytab");
    for (const where of [err.message, String(err.stack), JSON.stringify(err), JSON.stringify(Object.entries(err))]) {
      assert.ok(!where.includes(WRONG_PASSWORD), `password in ${where}`);
    }
    assert.match(realm.kdcLog(), /AS_REQ .* PREAUTH_FAILED: alice@CORP\.TEST for krbtgt\/CORP\.TEST@CORP\.TEST/);
  });

  it("a stale keytab (the account's key changed since): preauthFailed too", async () => {
    const stale = path.join(realm.dir, "dave-old.keytab");
    await realm.addPrincipal("dave");
    await realm.keytab("dave", stale);
    await realm.keytab("dave", path.join(realm.dir, "dave-new.keytab"));
    const err = await rejection(store().getServiceTicket(req({ user: "dave@CORP.TEST", keytab: stale })));
    assert.deepEqual([err.failure, err.code], ["preauthFailed", 24]);
  });

  it("an unknown user: clientPrincipalUnknown (6)", async () => {
    const err = await rejection(store().getServiceTicket(req({ user: "nobody", password: ALICE_PASSWORD })));
    assert.deepEqual([err.failure, err.code], ["clientPrincipalUnknown", 6]);
    assert.equal(err.message, "KDC_ERR_C_PRINCIPAL_UNKNOWN (6): nobody@CORP.TEST is not in realm CORP.TEST: check the user name and its realm (user@REALM)");
    assert.ok(!err.message.includes(ALICE_PASSWORD) && !String(err.stack).includes(ALICE_PASSWORD));
  });

  it("an unknown service principal: servicePrincipalUnknown (7), saying how to register it", async () => {
    const err = await rejection(store().getServiceTicket(req({ host: "nosuch.corp.test", user: "alice", password: ALICE_PASSWORD })));
    assert.deepEqual([err.failure, err.code], ["servicePrincipalUnknown", 7]);
    assert.equal(
      err.message,
      "KDC_ERR_S_PRINCIPAL_UNKNOWN (7): no account in realm CORP.TEST holds the service principal HTTP/nosuch.corp.test@CORP.TEST: register HTTP/nosuch.corp.test (setspn -S HTTP/nosuch.corp.test <computer account>) or set the service principal to the name the SPN has",
    );
  });

  it("a host given as an IP address without a service principal is refused before any KDC traffic", async () => {
    const from = sent.length;
    for (const host of ["127.0.0.1", "::1", "[fe80::1]"]) {
      const err = await rejection(store().getServiceTicket(req({ host, user: "alice", password: ALICE_PASSWORD })));
      assert.equal(err.failure, "configuration");
      assert.equal(err.message, `Kerberos needs the host's name as its SPN has it (HTTP/<name>), not the IP address ${host}: give connection.host as that name or set the service principal`);
    }
    assert.equal(sent.length, from);
    // With the service principal given, an IP address is fine.
    const cred = await store().getServiceTicket(req({ host: "127.0.0.1", servicePrincipal: SPN, user: "alice", password: ALICE_PASSWORD }));
    assertServiceTicket(cred, "alice");
  });

  it("TCP: a udp_preference_limit of 1 sends every request over TCP (4-byte length framing)", async () => {
    const from = sent.length;
    const cred = await store({ udpPreferenceLimit: 1 }).getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }));
    assertServiceTicket(cred, "alice");
    const exchanges = sent.slice(from).map((s) => s.exchange!);
    assert.equal(exchanges.length, 3);
    for (const x of exchanges) assert.deepEqual(x.attempts.map((a) => [a.protocol, a.outcome]), [["tcp", "answered"]]);
    // By default the same requests go over UDP.
    const udpFrom = sent.length;
    await store().getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }));
    for (const s of sent.slice(udpFrom)) assert.equal(s.exchange!.protocol, "udp");
  });

  it("KRB_ERR_RESPONSE_TOO_BIG over UDP (a KDC with kdc_max_dgram_reply_size 200): the same KDC is asked again over TCP", async () => {
    const conf = path.join(realm.dir, "kdc.conf");
    const original = fs.readFileSync(conf, "utf8");
    await realm.stopKdc();
    fs.writeFileSync(conf, original.replace("[kdcdefaults]\n", "[kdcdefaults]\n  kdc_max_dgram_reply_size = 200\n"));
    try {
      await realm.startKdc();
      const from = sent.length;
      const cred = await store().getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }));
      assertServiceTicket(cred, "alice");
      const attempts = sent.slice(from).map((s) => s.exchange!.attempts.map((a) => `${a.protocol}:${a.outcome}`).join(" "));
      // PREAUTH_REQUIRED (with its ETYPE-INFO2), the AS-REP and the TGS-REP are all above 200 bytes.
      assert.deepEqual(attempts, ["udp:tooBig tcp:answered", "udp:tooBig tcp:answered", "udp:tooBig tcp:answered"]);
    } finally {
      await realm.stopKdc();
      fs.writeFileSync(conf, original);
      await realm.startKdc();
    }
  });

  it("the KDC down: kdcUnreachable, transient, naming the address tried; up again on the same port: a ticket", async () => {
    await realm.stopKdc();
    try {
      const s = store();
      const err = await rejection(s.getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD })));
      assert.equal(err.failure, "kdcUnreachable");
      assert.equal(err.transient, true);
      assert.equal(
        err.message,
        `no KDC for realm CORP.TEST answered (tried ${realm.kdcAddress}:${realm.port}): check krb5.conf [realms] kdc or connection.kdc, and that the port named there (88 unless given) is reachable`,
      );
      assert.deepEqual(sent.at(-1)!.exchange, undefined);
      await realm.startKdc();
      // The failure is not remembered: the same store tries again.
      assertServiceTicket(await s.getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD })), "alice");
    } finally {
      if (!realm.running) await realm.startKdc();
    }
  });

  describe("a KDC whose clock runs 600 s ahead (krb5kdc -T 600)", () => {
    before(async () => {
      await realm.stopKdc();
      await realm.startKdc({ timeOffsetSeconds: 600 });
    });
    after(async () => {
      await realm.stopKdc();
      await realm.startKdc();
    });

    it("refuses our PA-ENC-TIMESTAMP: clockSkew (37) with both clocks; we do not retry on the KDC's time", async () => {
      const from = sent.length;
      const err = await rejection(store().getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD })));
      assert.deepEqual([err.failure, err.code], ["clockSkew", 37]);
      const [, ours, theirs, apart] = /^KRB_AP_ERR_SKEW \(37\): the KDC of CORP\.TEST refused our time: this machine's clock said (\S+) and the KDC's (\S+), (\d+) s apart, more than the 300 s Kerberos allows: synchronise this machine's clock with the domain's time \(w32tm \/resync, chronyc makestep, timedatectl set-ntp true\); the KDC's time is not adopted$/.exec(err.message) ?? [];
      assert.ok(ours && theirs, err.message);
      assert.ok(Math.abs(Number(apart) - 600) <= 2, apart);
      assert.ok(Math.abs(new Date(theirs).getTime() - new Date(ours).getTime() - 600_000) < 2000);
      // PREAUTH_REQUIRED, our timestamp, the refusal: no third AS-REQ on the KDC's clock.
      assert.deepEqual(types(from), [m.MsgType.AS_REQ, m.MsgType.AS_REQ]);
    });

    it("an AS-REP (no pre-authentication) whose ticket starts 600 s from our clock is refused as clockSkew, not taken as the KDC's time", async () => {
      const err = await rejection(store().getServiceTicket(req({ user: "carol", password: "Carol-Pa55-kdc" })));
      assert.equal(err.failure, "clockSkew");
      assert.match(err.message, /^the KDC of CORP\.TEST issued a ticket starting at its time: this machine's clock said \S+ and the KDC's \S+, (599|600|601) s apart, more than the 300 s Kerberos allows: .*the KDC's time is not adopted$/);
    });

    it("refuses a TGS-REQ whose authenticator is on our clock: clockSkew (37)", async () => {
      const cc = path.join(realm.dir, "skew.cc");
      // kinit adopts the KDC's time, so its TGT is issued; our TGS exchange with it is refused.
      await realm.kinit("alice", { password: ALICE_PASSWORD, ccache: cc });
      const from = sent.length;
      const err = await rejection(store().getServiceTicket(req({ ccache: cc })));
      assert.deepEqual(types(from), [m.MsgType.TGS_REQ]);
      assert.deepEqual([err.failure, err.code], ["clockSkew", 37]);
    });
  });

  it("a service ticket of our own exchanges, in our AP-REQ, is accepted by MIT's acceptor holding the service keytab; its AP-REP verifies", async () => {
    const cred = await store().getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }));
    const gss = await GssSidecar.start({ env: realm.env, keytab: httpKeytab });
    try {
      const ctx = new GssInitiatorContext(serviceTicketOf(cred));
      const accepted = await gss.accept("ours", ctx.initialToken({ cbtAware: false }));
      assert.equal(accepted.complete, true);
      assert.equal(accepted.initiator, "alice@CORP.TEST");
      const session = ctx.acceptReply(accepted.token);
      const sealed = session.wrap(Buffer.from("<s:Envelope/>"));
      assert.deepEqual((await gss.unwrapIov("ours", sealed.header, sealed.data)).data, Buffer.from("<s:Envelope/>"));
    } finally {
      await gss.dispose();
    }
  });

  describe("the provider process's ticket store", () => {
    it("a second ticket for the same SPN comes from memory: no KDC request, nothing in the KDC's log", async () => {
      const s = store();
      const first = await s.getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }));
      const from = sent.length;
      const log = realm.kdcLog().length;
      const second = await s.getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }));
      assert.equal(second, first);
      assert.equal(sent.length, from);
      assert.equal(realm.kdcLog().length, log);
      // Another SPN for the same user: one TGS exchange with the TGT kept in memory.
      await realm.addPrincipal("HTTP/web02.corp.test");
      await s.getServiceTicket(req({ host: "web02.corp.test", user: "alice", password: ALICE_PASSWORD }));
      assert.deepEqual(types(from), [m.MsgType.TGS_REQ]);
      // Another password for the same user is not answered from memory.
      const err = await rejection(s.getServiceTicket(req({ user: "alice", password: WRONG_PASSWORD })));
      assert.equal(err.failure, "preauthFailed");
    });

    it("a ticket within 5 minutes of its end is not reused: a new exchange", async () => {
      let shift = 0;
      const s = store({ now: () => new Date(Date.now() + shift) });
      const first = await s.getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }));
      shift = first.endtime.getTime() - Date.now() - 299_000;
      const from = sent.length;
      // Our clock moved: the KDC sees our timestamp far ahead, so the exchange is tried and refused.
      await rejection(s.getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD })));
      assert.ok(sent.length > from, "the KDC was asked again");
    });

    it("callers asking at once share one exchange: 8 callers, one AS exchange and one TGS exchange", async () => {
      const s = store();
      const from = sent.length;
      const creds = await Promise.all(Array.from({ length: 8 }, () => s.getServiceTicket(req({ user: "alice", password: ALICE_PASSWORD }))));
      assert.ok(creds.every((c) => c === creds[0]));
      assert.deepEqual(types(from), [m.MsgType.AS_REQ, m.MsgType.AS_REQ, m.MsgType.TGS_REQ]);
    });
  });
});
