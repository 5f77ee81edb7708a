// MIT's recorded AS and TGS exchange (test/fixtures/kerberos) opened with the keys the other
// fixtures hold: alice's key from the ktutil keytab (same password, default salt) decrypts her
// PA-ENC-TIMESTAMP and the AS-REP's reply part, whose session key is the one kinit stored in the
// ccache; that session key decrypts the TGS-REQ's authenticator, whose checksum covers the
// req-body bytes as decoded. The decoders of messages.ts meet the keytab and ccache readers and
// crypto.ts on data none of them produced.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { readCcache } from "../../provider/transport/winrm/kerberos/ccache";
import { decrypt, verifyChecksum } from "../../provider/transport/winrm/kerberos/crypto";
import { newestKey, readKeytab } from "../../provider/transport/winrm/kerberos/keytab";
import * as m from "../../provider/transport/winrm/kerberos/messages";
import { KeyUsage, MsgType, PaType } from "../../provider/transport/winrm/kerberos/messages";
import { parsePrincipal } from "../../provider/transport/winrm/kerberos/principal";
import { REPO_ROOT } from "../e2e/pulumiCli";

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "kerberos");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

describe("MIT's recorded exchange, decrypted with the fixtures' own keys", () => {
  const entry = newestKey(readKeytab(path.join(FIXTURES, "ktutil.keytab")), parsePrincipal("alice@FIXTURE.TEST"), m.EncType.AES256_CTS_HMAC_SHA1_96)!;
  const aliceKey = { etype: entry.enctype, value: entry.key };
  const asReq = m.decodeKdcReq(fixture("as-req-enc-timestamp.der"), MsgType.AS_REQ);
  const asRep = m.decodeKdcRep(fixture("as-rep.der"), MsgType.AS_REP);
  const [tgt] = readCcache(path.join(FIXTURES, "ccache-v4")).credentials;

  it("PA-ENC-TIMESTAMP (key usage 1) holds kinit's time, a day before the till it asked for", () => {
    const pa = m.decodeEncryptedData(asReq.padata!.find((p) => p.padataType === PaType.ENC_TIMESTAMP)!.padataValue);
    const ts = m.decodePaEncTsEnc(decrypt(aliceKey, KeyUsage.AS_REQ_PA_ENC_TIMESTAMP, pa.cipher));
    const sent = ts.patimestamp.getTime() + (ts.pausec ?? 0) / 1000;
    assert.ok(Math.abs(asReq.reqBody.till.getTime() - 24 * 3600 * 1000 - sent) < 5000, `${ts.patimestamp.toISOString()} vs till ${asReq.reqBody.till.toISOString()}`);
  });

  it("the AS-REP's reply part (key usage 3), tagged EncTGSRepPart as MIT does, has the request's nonce and the ccache's session key, times and flags", () => {
    const plain = decrypt(aliceKey, KeyUsage.AS_REP_ENC_PART, asRep.encPart.cipher);
    const part = m.decodeEncKdcRepPart(plain);
    assert.equal(part.nonce, asReq.reqBody.nonce);
    assert.deepEqual({ etype: part.key.keytype, value: part.key.keyvalue }, tgt.key);
    assert.deepEqual([part.authtime, part.endtime, part.renewTill, part.flags], [tgt.authtime, tgt.endtime, tgt.renewTill, tgt.ticketFlags]);
    assert.deepEqual([part.srealm, part.sname], ["FIXTURE.TEST", { nameType: 2, nameString: ["krbtgt", "FIXTURE.TEST"] }]);
    assert.ok(part.flags & m.TicketFlags.ENC_PA_REP, "the KDC answered PA-REQ-ENC-PA-REP");
    assert.ok(part.encryptedPaData && part.encryptedPaData.length > 0, "with encrypted-pa-data [12]");
    // MIT's KDC tags the AS-REP's reply part as EncTGSRepPart, which is why either tag is accepted
    assert.equal(plain[0], 0x7a, "MIT sends [APPLICATION 26] in an AS-REP");
    assert.equal(m.encodeEncKdcRepPart(part, 26).toString("hex"), plain.toString("hex"), "and it re-encodes to MIT's bytes");
  });

  it("the TGS-REQ's authenticator (key usage 7) names alice, and its checksum (usage 6) covers the req-body as decoded", () => {
    const tgsReq = m.decodeKdcReq(fixture("tgs-req.der"), MsgType.TGS_REQ);
    const apReq = m.decodeApReq(tgsReq.padata!.find((p) => p.padataType === PaType.TGS_REQ)!.padataValue);
    const plain = decrypt(tgt.key, KeyUsage.TGS_REQ_PA_AUTHENTICATOR, apReq.authenticator.cipher);
    const authenticator = m.decodeAuthenticator(plain);
    assert.equal(m.encodeAuthenticator(authenticator).toString("hex"), plain.toString("hex"));
    assert.deepEqual([authenticator.crealm, authenticator.cname], ["FIXTURE.TEST", { nameType: 1, nameString: ["alice"] }]);
    assert.ok(authenticator.cusec >= 0 && authenticator.cusec <= 999999);
    const cksum = authenticator.cksum!;
    assert.equal(cksum.cksumtype, m.ChecksumType.HMAC_SHA1_96_AES256);
    assert.ok(verifyChecksum(tgt.key, KeyUsage.TGS_REQ_PA_AUTHENTICATOR_CKSUM, tgsReq.reqBodyDer, cksum.checksum));
    assert.ok(!verifyChecksum(tgt.key, KeyUsage.TGS_REQ_PA_AUTHENTICATOR_CKSUM, Buffer.concat([tgsReq.reqBodyDer, Buffer.from([0])]), cksum.checksum));
  });
});
