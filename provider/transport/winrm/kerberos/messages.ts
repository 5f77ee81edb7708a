// Kerberos V5 messages (RFC 4120 section 5) and their GSS-API framing (RFC 4121 4.1, SPNEGO
// RFC 4178) as typed values, encoded and decoded with der.ts. No cryptography here: encrypted
// parts stay opaque (EncryptedData), and the decoders of what lies inside them (EncKDCRepPart,
// Authenticator, EncAPRepPart, PA-ENC-TS-ENC) take the plaintext the crypto layer produces.
// Also the numbers a Kerberos client needs by name: message types, error codes (RFC 4120 7.5.9),
// key usages (7.5.1), pre-authentication and authorization-data types, flags.
import {
  application,
  applicationTag,
  boolean,
  decodeWhole,
  DerError,
  Element,
  enumerated,
  explicit,
  expectTag,
  Fields,
  flags32,
  integer,
  kerberosString,
  kerberosTime,
  octetString,
  oid,
  optionalField,
  readElement,
  readEnumerated,
  readFlags32,
  readInt32,
  readKerberosString,
  readKerberosTime,
  readBoolean,
  readOctetString,
  readOid,
  readUInt32,
  readUInt32Bits,
  tlv,
  sequence,
  sequenceOf,
  Tag,
} from "./der";

// ---- numbers ---------------------------------------------------------------------------------

export const PVNO = 5;

/** msg-type values (RFC 4120 7.5.7), which are also the messages' APPLICATION tag numbers. */
export const MsgType = { AS_REQ: 10, AS_REP: 11, TGS_REQ: 12, TGS_REP: 13, AP_REQ: 14, AP_REP: 15, KRB_ERROR: 30 } as const;

/** APPLICATION tags of the other types (RFC 4120 5). */
export const AppTag = { TICKET: 1, AUTHENTICATOR: 2, ENC_TICKET_PART: 3, ENC_AS_REP_PART: 25, ENC_TGS_REP_PART: 26, ENC_AP_REP_PART: 27 } as const;

/** Principal name types (RFC 4120 6.2, RFC 6806 for ENTERPRISE). */
export const NameType = { UNKNOWN: 0, PRINCIPAL: 1, SRV_INST: 2, SRV_HST: 3, SRV_XHST: 4, UID: 5, X500: 6, SMTP: 7, ENTERPRISE: 10, WELLKNOWN: 11 } as const;

/** Encryption types (RFC 3961 8, RFC 3962, RFC 4757, RFC 8009). Only the AES-SHA1 pair is spoken. */
export const EncType = {
  DES3_CBC_SHA1: 16,
  AES128_CTS_HMAC_SHA1_96: 17,
  AES256_CTS_HMAC_SHA1_96: 18,
  AES128_CTS_HMAC_SHA256_128: 19,
  AES256_CTS_HMAC_SHA384_192: 20,
  RC4_HMAC: 23,
} as const;

/** Checksum types (RFC 3961 8, RFC 3962 7; 0x8003 is RFC 4121 4.1.1's authenticator checksum). */
export const ChecksumType = { HMAC_SHA1_96_AES128: 15, HMAC_SHA1_96_AES256: 16, GSSAPI: 0x8003 } as const;

/** Pre-authentication data types (RFC 4120 7.5.2, RFC 6113, RFC 6806, RFC 8070, MS-KILE). */
export const PaType = {
  TGS_REQ: 1,
  ENC_TIMESTAMP: 2,
  PW_SALT: 3,
  ETYPE_INFO: 11,
  ETYPE_INFO2: 19,
  PAC_REQUEST: 128,
  FX_COOKIE: 133,
  FX_FAST: 136,
  FX_ERROR: 137,
  ENCRYPTED_CHALLENGE: 138,
  REQ_ENC_PA_REP: 149,
  AS_FRESHNESS: 150,
} as const;

/** Authorization-data types (RFC 4120 7.5.4; 128 and 143 from MS-KILE / MS-PAC). */
export const AdType = { IF_RELEVANT: 1, KDC_ISSUED: 4, AND_OR: 5, MANDATORY_FOR_KDC: 8, WIN2K_PAC: 128, AUTH_DATA_AP_OPTIONS: 143 } as const;

/** MS-KILE 3.2.5.8: the client is aware of channel bindings (in AD-AUTH-DATA-AP-OPTIONS). */
export const KERB_AP_OPTIONS_CBT = 0x4000;

/** A KerberosFlags bit (bit 0 is the first on the wire) as our 32-bit number. */
const bit = (n: number) => (0x80000000 >>> n) >>> 0;

/** KDCOptions (RFC 4120 5.4.1; canonicalize from RFC 6806). */
export const KdcOptions = {
  FORWARDABLE: bit(1),
  FORWARDED: bit(2),
  PROXIABLE: bit(3),
  PROXY: bit(4),
  ALLOW_POSTDATE: bit(5),
  POSTDATED: bit(6),
  RENEWABLE: bit(8),
  CANONICALIZE: bit(15),
  DISABLE_TRANSITED_CHECK: bit(26),
  RENEWABLE_OK: bit(27),
  ENC_TKT_IN_SKEY: bit(28),
  RENEW: bit(30),
  VALIDATE: bit(31),
} as const;

/** TicketFlags (RFC 4120 5.3; enc-pa-rep RFC 6806), also the ccache's ticket_flags. */
export const TicketFlags = {
  FORWARDABLE: bit(1),
  FORWARDED: bit(2),
  PROXIABLE: bit(3),
  PROXY: bit(4),
  MAY_POSTDATE: bit(5),
  POSTDATED: bit(6),
  INVALID: bit(7),
  RENEWABLE: bit(8),
  INITIAL: bit(9),
  PRE_AUTHENT: bit(10),
  HW_AUTHENT: bit(11),
  TRANSITED_POLICY_CHECKED: bit(12),
  OK_AS_DELEGATE: bit(13),
  ENC_PA_REP: bit(15),
  ANONYMOUS: bit(16),
} as const;

/** APOptions (RFC 4120 5.5.1). */
export const ApOptions = { USE_SESSION_KEY: bit(1), MUTUAL_REQUIRED: bit(2) } as const;

/** Key usage numbers (RFC 4120 7.5.1; 22..25 from RFC 4121 2). */
export const KeyUsage = {
  AS_REQ_PA_ENC_TIMESTAMP: 1,
  KDC_REP_TICKET: 2,
  AS_REP_ENC_PART: 3,
  TGS_REQ_AUTH_DATA_SESSION_KEY: 4,
  TGS_REQ_AUTH_DATA_SUBKEY: 5,
  TGS_REQ_PA_AUTHENTICATOR_CKSUM: 6,
  TGS_REQ_PA_AUTHENTICATOR: 7,
  TGS_REP_ENC_PART_SESSION_KEY: 8,
  TGS_REP_ENC_PART_SUBKEY: 9,
  AP_REQ_AUTHENTICATOR_CKSUM: 10,
  AP_REQ_AUTHENTICATOR: 11,
  AP_REP_ENC_PART: 12,
  KRB_PRIV_ENC_PART: 13,
  KRB_CRED_ENC_PART: 14,
  KRB_SAFE_CKSUM: 15,
  AD_KDC_ISSUED_CKSUM: 19,
  GSS_ACCEPTOR_SEAL: 22,
  GSS_ACCEPTOR_SIGN: 23,
  GSS_INITIATOR_SEAL: 24,
  GSS_INITIATOR_SIGN: 25,
} as const;

/** Protocol error codes (RFC 4120 7.5.9), by name. */
export const ErrorCode = {
  KDC_ERR_NONE: 0,
  KDC_ERR_NAME_EXP: 1,
  KDC_ERR_SERVICE_EXP: 2,
  KDC_ERR_BAD_PVNO: 3,
  KDC_ERR_C_OLD_MAST_KVNO: 4,
  KDC_ERR_S_OLD_MAST_KVNO: 5,
  KDC_ERR_C_PRINCIPAL_UNKNOWN: 6,
  KDC_ERR_S_PRINCIPAL_UNKNOWN: 7,
  KDC_ERR_PRINCIPAL_NOT_UNIQUE: 8,
  KDC_ERR_NULL_KEY: 9,
  KDC_ERR_CANNOT_POSTDATE: 10,
  KDC_ERR_NEVER_VALID: 11,
  KDC_ERR_POLICY: 12,
  KDC_ERR_BADOPTION: 13,
  KDC_ERR_ETYPE_NOSUPP: 14,
  KDC_ERR_SUMTYPE_NOSUPP: 15,
  KDC_ERR_PADATA_TYPE_NOSUPP: 16,
  KDC_ERR_TRTYPE_NOSUPP: 17,
  KDC_ERR_CLIENT_REVOKED: 18,
  KDC_ERR_SERVICE_REVOKED: 19,
  KDC_ERR_TGT_REVOKED: 20,
  KDC_ERR_CLIENT_NOTYET: 21,
  KDC_ERR_SERVICE_NOTYET: 22,
  KDC_ERR_KEY_EXPIRED: 23,
  KDC_ERR_PREAUTH_FAILED: 24,
  KDC_ERR_PREAUTH_REQUIRED: 25,
  KDC_ERR_SERVER_NOMATCH: 26,
  KDC_ERR_MUST_USE_USER2USER: 27,
  KDC_ERR_PATH_NOT_ACCEPTED: 28,
  KDC_ERR_SVC_UNAVAILABLE: 29,
  KRB_AP_ERR_BAD_INTEGRITY: 31,
  KRB_AP_ERR_TKT_EXPIRED: 32,
  KRB_AP_ERR_TKT_NYV: 33,
  KRB_AP_ERR_REPEAT: 34,
  KRB_AP_ERR_NOT_US: 35,
  KRB_AP_ERR_BADMATCH: 36,
  KRB_AP_ERR_SKEW: 37,
  KRB_AP_ERR_BADADDR: 38,
  KRB_AP_ERR_BADVERSION: 39,
  KRB_AP_ERR_MSG_TYPE: 40,
  KRB_AP_ERR_MODIFIED: 41,
  KRB_AP_ERR_BADORDER: 42,
  KRB_AP_ERR_BADKEYVER: 44,
  KRB_AP_ERR_NOKEY: 45,
  KRB_AP_ERR_MUT_FAIL: 46,
  KRB_AP_ERR_BADDIRECTION: 47,
  KRB_AP_ERR_METHOD: 48,
  KRB_AP_ERR_BADSEQ: 49,
  KRB_AP_ERR_INAPP_CKSUM: 50,
  KRB_AP_PATH_NOT_ACCEPTED: 51,
  KRB_ERR_RESPONSE_TOO_BIG: 52,
  KRB_ERR_GENERIC: 60,
  KRB_ERR_FIELD_TOOLONG: 61,
  KDC_ERROR_CLIENT_NOT_TRUSTED: 62,
  KDC_ERROR_KDC_NOT_TRUSTED: 63,
  KDC_ERROR_INVALID_SIG: 64,
  KDC_ERR_KEY_TOO_WEAK: 65,
  KDC_ERR_CERTIFICATE_MISMATCH: 66,
  KRB_AP_ERR_NO_TGT: 67,
  KDC_ERR_WRONG_REALM: 68,
  KRB_AP_ERR_USER_TO_USER_REQUIRED: 69,
  KDC_ERR_CANT_VERIFY_CERTIFICATE: 70,
  KDC_ERR_INVALID_CERTIFICATE: 71,
  KDC_ERR_REVOKED_CERTIFICATE: 72,
  KDC_ERR_REVOCATION_STATUS_UNKNOWN: 73,
  KDC_ERR_REVOCATION_STATUS_UNAVAILABLE: 74,
  KDC_ERR_CLIENT_NAME_MISMATCH: 75,
  KDC_ERR_KDC_NAME_MISMATCH: 76,
} as const;

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** An error code's RFC 4120 name, or "error <n>" for a code the RFC does not list. */
export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `error ${code}`;
}

// ---- types -----------------------------------------------------------------------------------

export interface PrincipalName {
  nameType: number;
  nameString: string[];
}

export interface EncryptedData {
  etype: number;
  kvno?: number;
  cipher: Buffer;
}

export interface EncryptionKey {
  keytype: number;
  keyvalue: Buffer;
}

export interface Checksum {
  cksumtype: number;
  checksum: Buffer;
}

export interface Ticket {
  realm: string;
  sname: PrincipalName;
  encPart: EncryptedData;
  /**
   * The bytes a decoded ticket came in (not enumerable, so it does not show in comparisons):
   * encodeTicket sends them again as they came, since a client must pass a ticket on unchanged
   * and re-encoding could alter it (a negative kvno, another string encoding).
   */
  readonly der?: Buffer;
}

export interface HostAddress {
  addrType: number;
  address: Buffer;
}

export interface AuthorizationDataEntry {
  adType: number;
  adData: Buffer;
}

export interface PaData {
  padataType: number;
  padataValue: Buffer;
}

export interface PaEncTsEnc {
  patimestamp: Date;
  pausec?: number;
}

export interface EtypeInfo2Entry {
  etype: number;
  salt?: string;
  s2kparams?: Buffer;
}

export interface KdcReqBody {
  kdcOptions: number;
  cname?: PrincipalName;
  realm: string;
  sname?: PrincipalName;
  from?: Date;
  till: Date;
  rtime?: Date;
  nonce: number;
  etype: number[];
  addresses?: HostAddress[];
  encAuthorizationData?: EncryptedData;
  additionalTickets?: Ticket[];
}

export interface KdcReq {
  msgType: typeof MsgType.AS_REQ | typeof MsgType.TGS_REQ;
  padata?: PaData[];
  reqBody: KdcReqBody;
}

/** A decoded KDC-REQ keeps the req-body's bytes as sent: the TGS-REQ checksum covers them. */
export interface DecodedKdcReq extends KdcReq {
  reqBodyDer: Buffer;
}

export interface KdcRep {
  msgType: typeof MsgType.AS_REP | typeof MsgType.TGS_REP;
  padata?: PaData[];
  crealm: string;
  cname: PrincipalName;
  ticket: Ticket;
  encPart: EncryptedData;
}

export interface LastReqEntry {
  lrType: number;
  lrValue: Date;
}

export interface EncKdcRepPart {
  key: EncryptionKey;
  lastReq: LastReqEntry[];
  nonce: number;
  keyExpiration?: Date;
  flags: number;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
  srealm: string;
  sname: PrincipalName;
  caddr?: HostAddress[];
  /** RFC 6806 11: encrypted-pa-data [12], which MIT's KDC sends when asked (PA-REQ-ENC-PA-REP). */
  encryptedPaData?: PaData[];
}

export interface ApReq {
  apOptions: number;
  ticket: Ticket;
  authenticator: EncryptedData;
}

export interface Authenticator {
  crealm: string;
  cname: PrincipalName;
  cksum?: Checksum;
  cusec: number;
  ctime: Date;
  subkey?: EncryptionKey;
  seqNumber?: number;
  authorizationData?: AuthorizationDataEntry[];
}

export interface ApRep {
  encPart: EncryptedData;
}

export interface EncApRepPart {
  ctime: Date;
  cusec: number;
  subkey?: EncryptionKey;
  seqNumber?: number;
}

export interface KrbError {
  ctime?: Date;
  cusec?: number;
  stime: Date;
  susec: number;
  errorCode: number;
  crealm?: string;
  cname?: PrincipalName;
  realm: string;
  sname: PrincipalName;
  eText?: string;
  eData?: Buffer;
}

// ---- shared pieces ---------------------------------------------------------------------------

const list = <T>(items: readonly T[], encode: (v: T) => Buffer) => sequence(...items.map(encode));
const listOf = <T>(e: Element, what: string, decode: (m: Element, w: string) => T) =>
  sequenceOf(e, what, Tag.SEQUENCE).map((m, i) => decode(m, `${what}[${i}]`));
const int = (v: number) => integer(v);

function microseconds(e: Element, what: string): number {
  const v = readUInt32(e, what);
  if (v > 999999) throw new DerError(`${what}: ${v} is not a number of microseconds (0..999999)`);
  return v;
}

function expectNumber(e: Element, what: string, allowed: readonly number[]): number {
  const v = readInt32(e, what);
  if (!allowed.includes(v)) throw new DerError(`${what}: ${v}, expected ${allowed.join(" or ")}`);
  return v;
}

export function encodePrincipalName(p: PrincipalName): Buffer {
  return sequence(explicit(0, int(p.nameType)), explicit(1, list(p.nameString, kerberosString)));
}

function principalName(e: Element, what: string): PrincipalName {
  const f = new Fields(e, what, [0, 1]);
  const names = sequenceOf(f.required(1, "name-string"), `${what} name-string`, Tag.GENERAL_STRING);
  return {
    nameType: readInt32(f.required(0, "name-type"), `${what} name-type`),
    nameString: names.map((n, i) => readKerberosString(n, `${what} name-string[${i}]`)),
  };
}

export function decodePrincipalName(b: Buffer): PrincipalName {
  return principalName(decodeWhole(b, Tag.SEQUENCE, "PrincipalName"), "PrincipalName");
}

export function encodeEncryptedData(d: EncryptedData): Buffer {
  return sequence(explicit(0, int(d.etype)), optionalField(1, d.kvno, int), explicit(2, octetString(d.cipher)));
}

function encryptedData(e: Element, what: string): EncryptedData {
  const f = new Fields(e, what, [0, 1, 2]);
  const kvno = f.optional(1);
  return {
    etype: readInt32(f.required(0, "etype"), `${what} etype`),
    ...(kvno ? { kvno: readUInt32Bits(kvno, `${what} kvno`) } : {}),
    cipher: readOctetString(f.required(2, "cipher"), `${what} cipher`),
  };
}

export function decodeEncryptedData(b: Buffer): EncryptedData {
  return encryptedData(decodeWhole(b, Tag.SEQUENCE, "EncryptedData"), "EncryptedData");
}

export function encodeEncryptionKey(k: EncryptionKey): Buffer {
  return sequence(explicit(0, int(k.keytype)), explicit(1, octetString(k.keyvalue)));
}

function encryptionKey(e: Element, what: string): EncryptionKey {
  const f = new Fields(e, what, [0, 1]);
  return { keytype: readInt32(f.required(0, "keytype"), `${what} keytype`), keyvalue: readOctetString(f.required(1, "keyvalue"), `${what} keyvalue`) };
}

export function decodeEncryptionKey(b: Buffer): EncryptionKey {
  return encryptionKey(decodeWhole(b, Tag.SEQUENCE, "EncryptionKey"), "EncryptionKey");
}

export function encodeChecksum(c: Checksum): Buffer {
  return sequence(explicit(0, int(c.cksumtype)), explicit(1, octetString(c.checksum)));
}

function checksum(e: Element, what: string): Checksum {
  const f = new Fields(e, what, [0, 1]);
  return { cksumtype: readInt32(f.required(0, "cksumtype"), `${what} cksumtype`), checksum: readOctetString(f.required(1, "checksum"), `${what} checksum`) };
}

export function decodeChecksum(b: Buffer): Checksum {
  return checksum(decodeWhole(b, Tag.SEQUENCE, "Checksum"), "Checksum");
}

export function encodeTicket(t: Ticket): Buffer {
  if (t.der) return t.der;
  return application(
    AppTag.TICKET,
    sequence(
      explicit(0, int(PVNO)),
      explicit(1, kerberosString(t.realm)),
      explicit(2, encodePrincipalName(t.sname)),
      explicit(3, encodeEncryptedData(t.encPart)),
    ),
  );
}

function ticket(e: Element, what: string): Ticket {
  expectTag(e, applicationTag(AppTag.TICKET), what);
  const f = new Fields(decodeWhole(e.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3]);
  expectNumber(f.required(0, "tkt-vno"), `${what} tkt-vno`, [PVNO]);
  const t: Ticket = {
    realm: readKerberosString(f.required(1, "realm"), `${what} realm`),
    sname: principalName(f.required(2, "sname"), `${what} sname`),
    encPart: encryptedData(f.required(3, "enc-part"), `${what} enc-part`),
  };
  // Strict DER has one encoding of a length, so tag, length and the contents as read are the bytes received.
  Object.defineProperty(t, "der", { value: tlv(e.tag, e.contents), enumerable: false });
  return t;
}

export function decodeTicket(b: Buffer): Ticket {
  return ticket(decodeWhole(b, applicationTag(AppTag.TICKET), "Ticket"), "Ticket");
}

function encodeHostAddress(a: HostAddress): Buffer {
  return sequence(explicit(0, int(a.addrType)), explicit(1, octetString(a.address)));
}

function hostAddress(e: Element, what: string): HostAddress {
  const f = new Fields(e, what, [0, 1]);
  return { addrType: readInt32(f.required(0, "addr-type"), `${what} addr-type`), address: readOctetString(f.required(1, "address"), `${what} address`) };
}

function encodeHostAddresses(a: readonly HostAddress[]): Buffer {
  return list(a, encodeHostAddress);
}

export function encodeAuthorizationData(ad: readonly AuthorizationDataEntry[]): Buffer {
  return list(ad, (x) => sequence(explicit(0, int(x.adType)), explicit(1, octetString(x.adData))));
}

function authorizationData(e: Element, what: string): AuthorizationDataEntry[] {
  return listOf(e, what, (m, w) => {
    const f = new Fields(m, w, [0, 1]);
    return { adType: readInt32(f.required(0, "ad-type"), `${w} ad-type`), adData: readOctetString(f.required(1, "ad-data"), `${w} ad-data`) };
  });
}

export function decodeAuthorizationData(b: Buffer): AuthorizationDataEntry[] {
  return authorizationData(decodeWhole(b, Tag.SEQUENCE, "AuthorizationData"), "AuthorizationData");
}

/**
 * The authorization data a channel-binding-aware client puts in its authenticator (MS-KILE
 * 3.2.5.8): AD-IF-RELEVANT holding AD-AUTH-DATA-AP-OPTIONS whose ad-data is KERB_AP_OPTIONS_CBT
 * as 32 bits little-endian (as MIT writes it with client_aware_channel_bindings).
 */
export function cbtAwareAuthorizationData(): AuthorizationDataEntry[] {
  const options = Buffer.alloc(4);
  options.writeUInt32LE(KERB_AP_OPTIONS_CBT);
  return [{ adType: AdType.IF_RELEVANT, adData: encodeAuthorizationData([{ adType: AdType.AUTH_DATA_AP_OPTIONS, adData: options }]) }];
}

/** The AD-AUTH-DATA-AP-OPTIONS value found inside AD-IF-RELEVANT, if any (what an acceptor checks). */
export function authDataApOptions(ad: readonly AuthorizationDataEntry[]): number | undefined {
  for (const entry of ad) {
    if (entry.adType !== AdType.IF_RELEVANT) continue;
    for (const inner of decodeAuthorizationData(entry.adData)) {
      if (inner.adType !== AdType.AUTH_DATA_AP_OPTIONS) continue;
      if (inner.adData.length !== 4) throw new DerError(`AD-AUTH-DATA-AP-OPTIONS: ${inner.adData.length} bytes, expected 4`);
      return inner.adData.readUInt32LE(0);
    }
  }
  return undefined;
}

function encodePaData(p: PaData): Buffer {
  return sequence(explicit(1, int(p.padataType)), explicit(2, octetString(p.padataValue)));
}

function paData(e: Element, what: string): PaData {
  const f = new Fields(e, what, [1, 2]);
  return {
    padataType: readInt32(f.required(1, "padata-type"), `${what} padata-type`),
    padataValue: readOctetString(f.required(2, "padata-value"), `${what} padata-value`),
  };
}

/** METHOD-DATA ::= SEQUENCE OF PA-DATA (RFC 4120 5.9.1), also the padata lists of requests and replies. */
export function encodeMethodData(p: readonly PaData[]): Buffer {
  return list(p, encodePaData);
}

export function decodeMethodData(b: Buffer): PaData[] {
  return listOf(decodeWhole(b, Tag.SEQUENCE, "METHOD-DATA"), "METHOD-DATA", paData);
}

export function encodePaEncTsEnc(p: PaEncTsEnc): Buffer {
  return sequence(explicit(0, kerberosTime(p.patimestamp)), optionalField(1, p.pausec, int));
}

export function decodePaEncTsEnc(b: Buffer): PaEncTsEnc {
  const f = new Fields(decodeWhole(b, Tag.SEQUENCE, "PA-ENC-TS-ENC"), "PA-ENC-TS-ENC", [0, 1]);
  const usec = f.optional(1);
  return {
    patimestamp: readKerberosTime(f.required(0, "patimestamp"), "PA-ENC-TS-ENC patimestamp"),
    ...(usec ? { pausec: microseconds(usec, "PA-ENC-TS-ENC pausec") } : {}),
  };
}

export function encodeEtypeInfo2(entries: readonly EtypeInfo2Entry[]): Buffer {
  return list(entries, (x) => sequence(explicit(0, int(x.etype)), optionalField(1, x.salt, kerberosString), optionalField(2, x.s2kparams, octetString)));
}

export function decodeEtypeInfo2(b: Buffer): EtypeInfo2Entry[] {
  const entries = listOf(decodeWhole(b, Tag.SEQUENCE, "ETYPE-INFO2"), "ETYPE-INFO2", (m, w) => {
    const f = new Fields(m, w, [0, 1, 2]);
    const salt = f.optional(1);
    const params = f.optional(2);
    return {
      etype: readInt32(f.required(0, "etype"), `${w} etype`),
      ...(salt ? { salt: readKerberosString(salt, `${w} salt`) } : {}),
      ...(params ? { s2kparams: readOctetString(params, `${w} s2kparams`) } : {}),
    };
  });
  if (entries.length === 0) throw new DerError("ETYPE-INFO2: empty (SIZE (1..MAX))");
  return entries;
}

/**
 * KERB-PA-PAC-REQUEST (MS-KILE 2.2.3): SEQUENCE { include-pac [0] BOOLEAN }, the value of
 * PA-PAC-REQUEST (128), with which a client asks Active Directory for a ticket with or without a PAC.
 */
export function encodePaPacRequest(includePac: boolean): Buffer {
  return sequence(explicit(0, boolean(includePac)));
}

export function decodePaPacRequest(b: Buffer): boolean {
  const f = new Fields(decodeWhole(b, Tag.SEQUENCE, "KERB-PA-PAC-REQUEST"), "KERB-PA-PAC-REQUEST", [0]);
  return readBoolean(f.required(0, "include-pac"), "KERB-PA-PAC-REQUEST include-pac");
}

// ---- KDC exchanges ---------------------------------------------------------------------------

export function encodeKdcReqBody(b: KdcReqBody): Buffer {
  return sequence(
    explicit(0, flags32(b.kdcOptions)),
    optionalField(1, b.cname, encodePrincipalName),
    explicit(2, kerberosString(b.realm)),
    optionalField(3, b.sname, encodePrincipalName),
    optionalField(4, b.from, kerberosTime),
    explicit(5, kerberosTime(b.till)),
    optionalField(6, b.rtime, kerberosTime),
    explicit(7, int(b.nonce)),
    explicit(8, list(b.etype, int)),
    optionalField(9, b.addresses, encodeHostAddresses),
    optionalField(10, b.encAuthorizationData, encodeEncryptedData),
    optionalField(11, b.additionalTickets, (t) => list(t, encodeTicket)),
  );
}

function kdcReqBody(e: Element, what: string): KdcReqBody {
  const f = new Fields(e, what, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const cname = f.optional(1);
  const sname = f.optional(3);
  const from = f.optional(4);
  const rtime = f.optional(6);
  const addresses = f.optional(9);
  const encAd = f.optional(10);
  const tickets = f.optional(11);
  const etypes = sequenceOf(f.required(8, "etype"), `${what} etype`, Tag.INTEGER).map((x, i) => readInt32(x, `${what} etype[${i}]`));
  return {
    kdcOptions: readFlags32(f.required(0, "kdc-options"), `${what} kdc-options`),
    ...(cname ? { cname: principalName(cname, `${what} cname`) } : {}),
    realm: readKerberosString(f.required(2, "realm"), `${what} realm`),
    ...(sname ? { sname: principalName(sname, `${what} sname`) } : {}),
    ...(from ? { from: readKerberosTime(from, `${what} from`) } : {}),
    till: readKerberosTime(f.required(5, "till"), `${what} till`),
    ...(rtime ? { rtime: readKerberosTime(rtime, `${what} rtime`) } : {}),
    nonce: readUInt32(f.required(7, "nonce"), `${what} nonce`),
    etype: etypes,
    ...(addresses ? { addresses: listOf(addresses, `${what} addresses`, hostAddress) } : {}),
    ...(encAd ? { encAuthorizationData: encryptedData(encAd, `${what} enc-authorization-data`) } : {}),
    ...(tickets
      ? {
          additionalTickets: sequenceOf(tickets, `${what} additional-tickets`, applicationTag(AppTag.TICKET)).map((t, i) =>
            ticket(t, `${what} additional-tickets[${i}]`),
          ),
        }
      : {}),
  };
}

/** AS-REQ or TGS-REQ (by msgType). */
export function encodeKdcReq(r: KdcReq): Buffer {
  return application(
    r.msgType,
    sequence(explicit(1, int(PVNO)), explicit(2, int(r.msgType)), optionalField(3, r.padata, encodeMethodData), explicit(4, encodeKdcReqBody(r.reqBody))),
  );
}

/** An AS-REQ or TGS-REQ; `expected` narrows it to one of them. */
export function decodeKdcReq(b: Buffer, expected?: KdcReq["msgType"]): DecodedKdcReq {
  const what = expected === MsgType.TGS_REQ ? "TGS-REQ" : expected === MsgType.AS_REQ ? "AS-REQ" : "KDC-REQ";
  const { element: outer } = readElement(b, 0, what);
  const app = outer.tag & 0x1f;
  const allowed = expected ? [expected] : [MsgType.AS_REQ, MsgType.TGS_REQ];
  if (!allowed.some((t) => applicationTag(t) === outer.tag))
    throw new DerError(`${what}: expected ${allowed.map((t) => `[APPLICATION ${t}]`).join(" or ")}, found tag 0x${outer.tag.toString(16)}`);
  decodeWhole(b, outer.tag, what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [1, 2, 3, 4]);
  expectNumber(f.required(1, "pvno"), `${what} pvno`, [PVNO]);
  const msgType = expectNumber(f.required(2, "msg-type"), `${what} msg-type`, [app]) as KdcReq["msgType"];
  const padata = f.optional(3);
  const body = f.required(4, "req-body");
  return {
    msgType,
    ...(padata ? { padata: listOf(padata, `${what} padata`, paData) } : {}),
    reqBody: kdcReqBody(body, `${what} req-body`),
    reqBodyDer: sequence(body.contents),
  };
}

/** AS-REP or TGS-REP (by msgType). */
export function encodeKdcRep(r: KdcRep): Buffer {
  return application(
    r.msgType,
    sequence(
      explicit(0, int(PVNO)),
      explicit(1, int(r.msgType)),
      optionalField(2, r.padata, encodeMethodData),
      explicit(3, kerberosString(r.crealm)),
      explicit(4, encodePrincipalName(r.cname)),
      explicit(5, encodeTicket(r.ticket)),
      explicit(6, encodeEncryptedData(r.encPart)),
    ),
  );
}

/** An AS-REP or TGS-REP; `expected` narrows it to one of them. */
export function decodeKdcRep(b: Buffer, expected?: KdcRep["msgType"]): KdcRep {
  const what = expected === MsgType.TGS_REP ? "TGS-REP" : expected === MsgType.AS_REP ? "AS-REP" : "KDC-REP";
  const { element: outer } = readElement(b, 0, what);
  const allowed = expected ? [expected] : [MsgType.AS_REP, MsgType.TGS_REP];
  if (!allowed.some((t) => applicationTag(t) === outer.tag))
    throw new DerError(`${what}: expected ${allowed.map((t) => `[APPLICATION ${t}]`).join(" or ")}, found tag 0x${outer.tag.toString(16)}`);
  decodeWhole(b, outer.tag, what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3, 4, 5, 6]);
  expectNumber(f.required(0, "pvno"), `${what} pvno`, [PVNO]);
  const msgType = expectNumber(f.required(1, "msg-type"), `${what} msg-type`, [outer.tag & 0x1f]) as KdcRep["msgType"];
  const padata = f.optional(2);
  return {
    msgType,
    ...(padata ? { padata: listOf(padata, `${what} padata`, paData) } : {}),
    crealm: readKerberosString(f.required(3, "crealm"), `${what} crealm`),
    cname: principalName(f.required(4, "cname"), `${what} cname`),
    ticket: ticket(f.required(5, "ticket"), `${what} ticket`),
    encPart: encryptedData(f.required(6, "enc-part"), `${what} enc-part`),
  };
}

function encodeLastReq(l: readonly LastReqEntry[]): Buffer {
  return list(l, (x) => sequence(explicit(0, int(x.lrType)), explicit(1, kerberosTime(x.lrValue))));
}

function lastReq(e: Element, what: string): LastReqEntry[] {
  return listOf(e, what, (m, w) => {
    const f = new Fields(m, w, [0, 1]);
    return { lrType: readInt32(f.required(0, "lr-type"), `${w} lr-type`), lrValue: readKerberosTime(f.required(1, "lr-value"), `${w} lr-value`) };
  });
}

/** EncASRepPart [APPLICATION 25] by default, EncTGSRepPart [APPLICATION 26] when asked. */
export function encodeEncKdcRepPart(p: EncKdcRepPart, tag: 25 | 26 = AppTag.ENC_AS_REP_PART): Buffer {
  return application(
    tag,
    sequence(
      explicit(0, encodeEncryptionKey(p.key)),
      explicit(1, encodeLastReq(p.lastReq)),
      explicit(2, int(p.nonce)),
      optionalField(3, p.keyExpiration, kerberosTime),
      explicit(4, flags32(p.flags)),
      explicit(5, kerberosTime(p.authtime)),
      optionalField(6, p.starttime, kerberosTime),
      explicit(7, kerberosTime(p.endtime)),
      optionalField(8, p.renewTill, kerberosTime),
      explicit(9, kerberosString(p.srealm)),
      explicit(10, encodePrincipalName(p.sname)),
      optionalField(11, p.caddr, encodeHostAddresses),
      optionalField(12, p.encryptedPaData, encodeMethodData),
    ),
  );
}

/**
 * The decrypted enc-part of an AS-REP or TGS-REP. Either APPLICATION tag is accepted in either
 * reply: MIT's own KDC tags its AS-REP's part as EncTGSRepPart (26; test/unit/kerberosRecorded),
 * and RFC 4120 5.4.2 tells clients to accept both, as MIT's client does.
 */
export function decodeEncKdcRepPart(b: Buffer): EncKdcRepPart {
  const what = "EncKDCRepPart";
  const { element: outer } = readElement(b, 0, what);
  if (outer.tag !== applicationTag(AppTag.ENC_AS_REP_PART) && outer.tag !== applicationTag(AppTag.ENC_TGS_REP_PART)) {
    throw new DerError(`${what}: expected [APPLICATION 25] or [APPLICATION 26], found tag 0x${outer.tag.toString(16)}`);
  }
  decodeWhole(b, outer.tag, what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const keyExpiration = f.optional(3);
  const starttime = f.optional(6);
  const renewTill = f.optional(8);
  const caddr = f.optional(11);
  const encPa = f.optional(12);
  return {
    key: encryptionKey(f.required(0, "key"), `${what} key`),
    lastReq: lastReq(f.required(1, "last-req"), `${what} last-req`),
    nonce: readUInt32(f.required(2, "nonce"), `${what} nonce`),
    ...(keyExpiration ? { keyExpiration: readKerberosTime(keyExpiration, `${what} key-expiration`) } : {}),
    flags: readFlags32(f.required(4, "flags"), `${what} flags`),
    authtime: readKerberosTime(f.required(5, "authtime"), `${what} authtime`),
    ...(starttime ? { starttime: readKerberosTime(starttime, `${what} starttime`) } : {}),
    endtime: readKerberosTime(f.required(7, "endtime"), `${what} endtime`),
    ...(renewTill ? { renewTill: readKerberosTime(renewTill, `${what} renew-till`) } : {}),
    srealm: readKerberosString(f.required(9, "srealm"), `${what} srealm`),
    sname: principalName(f.required(10, "sname"), `${what} sname`),
    ...(caddr ? { caddr: listOf(caddr, `${what} caddr`, hostAddress) } : {}),
    ...(encPa ? { encryptedPaData: listOf(encPa, `${what} encrypted-pa-data`, paData) } : {}),
  };
}

// ---- client/server exchange ------------------------------------------------------------------

export function encodeApReq(r: ApReq): Buffer {
  return application(
    MsgType.AP_REQ,
    sequence(
      explicit(0, int(PVNO)),
      explicit(1, int(MsgType.AP_REQ)),
      explicit(2, flags32(r.apOptions)),
      explicit(3, encodeTicket(r.ticket)),
      explicit(4, encodeEncryptedData(r.authenticator)),
    ),
  );
}

export function decodeApReq(b: Buffer): ApReq {
  const what = "AP-REQ";
  const outer = decodeWhole(b, applicationTag(MsgType.AP_REQ), what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3, 4]);
  expectNumber(f.required(0, "pvno"), `${what} pvno`, [PVNO]);
  expectNumber(f.required(1, "msg-type"), `${what} msg-type`, [MsgType.AP_REQ]);
  return {
    apOptions: readFlags32(f.required(2, "ap-options"), `${what} ap-options`),
    ticket: ticket(f.required(3, "ticket"), `${what} ticket`),
    authenticator: encryptedData(f.required(4, "authenticator"), `${what} authenticator`),
  };
}

export function encodeAuthenticator(a: Authenticator): Buffer {
  return application(
    AppTag.AUTHENTICATOR,
    sequence(
      explicit(0, int(PVNO)),
      explicit(1, kerberosString(a.crealm)),
      explicit(2, encodePrincipalName(a.cname)),
      optionalField(3, a.cksum, encodeChecksum),
      explicit(4, int(a.cusec)),
      explicit(5, kerberosTime(a.ctime)),
      optionalField(6, a.subkey, encodeEncryptionKey),
      optionalField(7, a.seqNumber, int),
      optionalField(8, a.authorizationData, encodeAuthorizationData),
    ),
  );
}

export function decodeAuthenticator(b: Buffer): Authenticator {
  const what = "Authenticator";
  const outer = decodeWhole(b, applicationTag(AppTag.AUTHENTICATOR), what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  expectNumber(f.required(0, "authenticator-vno"), `${what} authenticator-vno`, [PVNO]);
  const cksum = f.optional(3);
  const subkey = f.optional(6);
  const seq = f.optional(7);
  const ad = f.optional(8);
  return {
    crealm: readKerberosString(f.required(1, "crealm"), `${what} crealm`),
    cname: principalName(f.required(2, "cname"), `${what} cname`),
    ...(cksum ? { cksum: checksum(cksum, `${what} cksum`) } : {}),
    cusec: microseconds(f.required(4, "cusec"), `${what} cusec`),
    ctime: readKerberosTime(f.required(5, "ctime"), `${what} ctime`),
    ...(subkey ? { subkey: encryptionKey(subkey, `${what} subkey`) } : {}),
    ...(seq ? { seqNumber: readUInt32Bits(seq, `${what} seq-number`) } : {}),
    ...(ad ? { authorizationData: authorizationData(ad, `${what} authorization-data`) } : {}),
  };
}

export function encodeApRep(r: ApRep): Buffer {
  return application(MsgType.AP_REP, sequence(explicit(0, int(PVNO)), explicit(1, int(MsgType.AP_REP)), explicit(2, encodeEncryptedData(r.encPart))));
}

export function decodeApRep(b: Buffer): ApRep {
  const what = "AP-REP";
  const outer = decodeWhole(b, applicationTag(MsgType.AP_REP), what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [0, 1, 2]);
  expectNumber(f.required(0, "pvno"), `${what} pvno`, [PVNO]);
  expectNumber(f.required(1, "msg-type"), `${what} msg-type`, [MsgType.AP_REP]);
  return { encPart: encryptedData(f.required(2, "enc-part"), `${what} enc-part`) };
}

export function encodeEncApRepPart(p: EncApRepPart): Buffer {
  return application(
    AppTag.ENC_AP_REP_PART,
    sequence(
      explicit(0, kerberosTime(p.ctime)),
      explicit(1, int(p.cusec)),
      optionalField(2, p.subkey, encodeEncryptionKey),
      optionalField(3, p.seqNumber, int),
    ),
  );
}

export function decodeEncApRepPart(b: Buffer): EncApRepPart {
  const what = "EncAPRepPart";
  const outer = decodeWhole(b, applicationTag(AppTag.ENC_AP_REP_PART), what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3]);
  const subkey = f.optional(2);
  const seq = f.optional(3);
  return {
    ctime: readKerberosTime(f.required(0, "ctime"), `${what} ctime`),
    cusec: microseconds(f.required(1, "cusec"), `${what} cusec`),
    ...(subkey ? { subkey: encryptionKey(subkey, `${what} subkey`) } : {}),
    ...(seq ? { seqNumber: readUInt32Bits(seq, `${what} seq-number`) } : {}),
  };
}

export function encodeKrbError(e: KrbError): Buffer {
  return application(
    MsgType.KRB_ERROR,
    sequence(
      explicit(0, int(PVNO)),
      explicit(1, int(MsgType.KRB_ERROR)),
      optionalField(2, e.ctime, kerberosTime),
      optionalField(3, e.cusec, int),
      explicit(4, kerberosTime(e.stime)),
      explicit(5, int(e.susec)),
      explicit(6, int(e.errorCode)),
      optionalField(7, e.crealm, kerberosString),
      optionalField(8, e.cname, encodePrincipalName),
      explicit(9, kerberosString(e.realm)),
      explicit(10, encodePrincipalName(e.sname)),
      optionalField(11, e.eText, kerberosString),
      optionalField(12, e.eData, octetString),
    ),
  );
}

function lenientText(e: Element, what: string): string {
  expectTag(e, Tag.GENERAL_STRING, what);
  try {
    return readKerberosString(e, what);
  } catch {
    return e.contents.toString("latin1");
  }
}

export function decodeKrbError(b: Buffer): KrbError {
  const what = "KRB-ERROR";
  const outer = decodeWhole(b, applicationTag(MsgType.KRB_ERROR), what);
  const f = new Fields(decodeWhole(outer.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  expectNumber(f.required(0, "pvno"), `${what} pvno`, [PVNO]);
  expectNumber(f.required(1, "msg-type"), `${what} msg-type`, [MsgType.KRB_ERROR]);
  const ctime = f.optional(2);
  const cusec = f.optional(3);
  const crealm = f.optional(7);
  const cname = f.optional(8);
  const eText = f.optional(11);
  const eData = f.optional(12);
  return {
    ...(ctime ? { ctime: readKerberosTime(ctime, `${what} ctime`) } : {}),
    ...(cusec ? { cusec: microseconds(cusec, `${what} cusec`) } : {}),
    stime: readKerberosTime(f.required(4, "stime"), `${what} stime`),
    susec: microseconds(f.required(5, "susec"), `${what} susec`),
    errorCode: readInt32(f.required(6, "error-code"), `${what} error-code`),
    ...(crealm ? { crealm: readKerberosString(crealm, `${what} crealm`) } : {}),
    ...(cname ? { cname: principalName(cname, `${what} cname`) } : {}),
    realm: readKerberosString(f.required(9, "realm"), `${what} realm`),
    sname: principalName(f.required(10, "sname"), `${what} sname`),
    // e-text is for people; a KDC writing it in another charset must not hide the error code
    ...(eText ? { eText: lenientText(eText, `${what} e-text`) } : {}),
    ...(eData ? { eData: readOctetString(eData, `${what} e-data`) } : {}),
  };
}

/**
 * The ETYPE-INFO2 a KRB-ERROR carries in its e-data as METHOD-DATA (RFC 4120 5.2.7.5; sent with
 * KDC_ERR_PREAUTH_REQUIRED, and by MIT with KDC_ERR_PREAUTH_FAILED too), or undefined when there
 * is none. With PREAUTH_REQUIRED, e-data that is not METHOD-DATA is refused (DerError); with
 * PREAUTH_FAILED it only means there is no salt to learn, since the error itself is the news.
 * Other errors' e-data (TYPED-DATA, Windows' KERB-ERROR-DATA) is not read as METHOD-DATA.
 */
export function errorEtypeInfo2(e: KrbError): EtypeInfo2Entry[] | undefined {
  if (!e.eData) return undefined;
  const read = () => {
    const pa = decodeMethodData(e.eData!).find((p) => p.padataType === PaType.ETYPE_INFO2);
    return pa ? decodeEtypeInfo2(pa.padataValue) : undefined;
  };
  if (e.errorCode === ErrorCode.KDC_ERR_PREAUTH_REQUIRED) return read();
  if (e.errorCode !== ErrorCode.KDC_ERR_PREAUTH_FAILED) return undefined;
  try {
    return read();
  } catch (err) {
    if (err instanceof DerError) return undefined;
    throw err;
  }
}

/** Which of the three messages a KDC or acceptor reply is, by its APPLICATION tag. */
export function messageType(b: Buffer): number | undefined {
  if (b.length === 0 || (b[0] & 0xe0) !== 0x60) return undefined;
  return b[0] & 0x1f;
}

// ---- GSS-API framing -------------------------------------------------------------------------

export const Oid = {
  KRB5: "1.2.840.113554.1.2.2",
  /** The Kerberos OID as Windows wrote it wrongly once and lists it first since (MS-KILE 3.1.5.12 note). */
  MS_KRB5: "1.2.840.48018.1.2.2",
  SPNEGO: "1.3.6.1.5.5.2",
  NTLMSSP: "1.3.6.1.4.1.311.2.2.10",
} as const;

/** TOK_ID of the krb5 mechanism's context tokens (RFC 4121 4.1). */
export const TokId = { AP_REQ: 0x0100, AP_REP: 0x0200, KRB_ERROR: 0x0300 } as const;

/** GSS context flags carried in the 0x8003 checksum (RFC 4121 4.1.1.1; DCE_STYLE etc. from MS-KILE 3.2.5.2). */
export const GssFlags = {
  DELEG: 0x01,
  MUTUAL: 0x02,
  REPLAY: 0x04,
  SEQUENCE: 0x08,
  CONF: 0x10,
  INTEG: 0x20,
  DCE_STYLE: 0x1000,
  IDENTIFY: 0x2000,
  EXTENDED_ERROR: 0x4000,
} as const;

/** InitialContextToken (RFC 2743 3.1): [APPLICATION 0] IMPLICIT { thisMech, innerContextToken }. */
function frame(mech: string, inner: Buffer): Buffer {
  return application(0, Buffer.concat([oid(mech), inner]));
}

function unframe(b: Buffer, what: string): { mech: string; inner: Buffer } {
  const outer = decodeWhole(b, applicationTag(0), what);
  const { element, end } = readElement(outer.contents, 0, `${what} thisMech`);
  return { mech: readOid(element, `${what} thisMech`), inner: outer.contents.subarray(end) };
}

/** A krb5 mechanism token (RFC 4121 4.1): the framing, the krb5 OID, TOK_ID, then the message. */
export function encodeKrb5Token(tokId: number, message: Buffer): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(tokId);
  return frame(Oid.KRB5, Buffer.concat([id, message]));
}

export function decodeKrb5Token(b: Buffer): { tokId: number; message: Buffer } {
  const { mech, inner } = unframe(b, "krb5 token");
  if (mech !== Oid.KRB5 && mech !== Oid.MS_KRB5) throw new DerError(`krb5 token: mechanism ${mech} is not Kerberos`);
  if (inner.length < 2) throw new DerError("krb5 token: no TOK_ID");
  const tokId = inner.readUInt16BE(0);
  const expected = { [TokId.AP_REQ]: MsgType.AP_REQ, [TokId.AP_REP]: MsgType.AP_REP, [TokId.KRB_ERROR]: MsgType.KRB_ERROR }[tokId];
  if (expected === undefined) throw new DerError(`krb5 token: TOK_ID ${inner.subarray(0, 2).toString("hex")} is none of 0100, 0200, 0300`);
  const message = inner.subarray(2);
  if (messageType(message) !== expected)
    throw new DerError(`krb5 token: TOK_ID ${inner.subarray(0, 2).toString("hex")} does not frame a message of type ${expected}`);
  return { tokId, message };
}

/** RFC 4178 4.2.2 negState. */
export const NegState = { ACCEPT_COMPLETED: 0, ACCEPT_INCOMPLETE: 1, REJECT: 2, REQUEST_MIC: 3 } as const;

export interface NegTokenInit {
  mechTypes: string[];
  mechToken?: Buffer;
  mechListMIC?: Buffer;
  /** MS-SPNG 2.2.1 NegTokenInit2's negHints hintName, read if a server sends one. */
  hintName?: string;
}

export interface NegTokenResp {
  negState?: number;
  supportedMech?: string;
  responseToken?: Buffer;
  mechListMIC?: Buffer;
}

/** MechTypeList's DER: what mechListMIC is computed over (RFC 4178 5). */
export function encodeMechTypeList(mechs: readonly string[]): Buffer {
  return list(mechs, oid);
}

/** The client's first SPNEGO token: framed with the SPNEGO OID, [0] NegTokenInit. */
export function encodeNegTokenInit(t: NegTokenInit): Buffer {
  const init = sequence(explicit(0, encodeMechTypeList(t.mechTypes)), optionalField(2, t.mechToken, octetString), optionalField(3, t.mechListMIC, octetString));
  return frame(Oid.SPNEGO, explicit(0, init));
}

export function decodeNegTokenInit(b: Buffer): NegTokenInit {
  const what = "NegTokenInit";
  const { mech, inner } = unframe(b, what);
  if (mech !== Oid.SPNEGO) throw new DerError(`${what}: mechanism ${mech} is not SPNEGO`);
  const choice = decodeWhole(inner, 0xa0, what);
  // [3] is mechListMIC in RFC 4178's NegTokenInit, negHints in MS-SPNG's NegTokenInit2 (whose MIC is [4]).
  const f = new Fields(decodeWhole(choice.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3, 4]);
  const token = f.optional(2);
  const three = f.optional(3);
  const four = f.optional(4);
  let hintName: string | undefined;
  let mic: Buffer | undefined;
  if (three && three.tag === Tag.OCTET_STRING) mic = three.contents;
  else if (three) {
    const hints = new Fields(three, `${what} negHints`, [0, 1]);
    const name = hints.optional(0);
    if (name) hintName = readKerberosString(name, `${what} hintName`);
  }
  if (four) {
    if (mic) throw new DerError(`${what}: mechListMIC both in [3] and [4]`);
    mic = readOctetString(four, `${what} mechListMIC`);
  }
  const mechTypes = sequenceOf(f.required(0, "mechTypes"), `${what} mechTypes`, Tag.OBJECT_IDENTIFIER).map((m, i) => readOid(m, `${what} mechTypes[${i}]`));
  return {
    mechTypes,
    ...(token ? { mechToken: readOctetString(token, `${what} mechToken`) } : {}),
    ...(mic ? { mechListMIC: mic } : {}),
    ...(hintName !== undefined ? { hintName } : {}),
  };
}

/** A later SPNEGO token: [1] NegTokenResp, not framed (RFC 4178 4.2). */
export function encodeNegTokenResp(t: NegTokenResp): Buffer {
  return explicit(
    1,
    sequence(
      optionalField(0, t.negState, enumerated),
      optionalField(1, t.supportedMech, oid),
      optionalField(2, t.responseToken, octetString),
      optionalField(3, t.mechListMIC, octetString),
    ),
  );
}

export function decodeNegTokenResp(b: Buffer): NegTokenResp {
  const what = "NegTokenResp";
  const choice = decodeWhole(b, 0xa1, what);
  const f = new Fields(decodeWhole(choice.contents, Tag.SEQUENCE, what), what, [0, 1, 2, 3]);
  const state = f.optional(0);
  const mech = f.optional(1);
  const token = f.optional(2);
  const mic = f.optional(3);
  const negState = state ? readEnumerated(state, `${what} negState`) : undefined;
  if (negState !== undefined && (negState < 0 || negState > 3)) throw new DerError(`${what}: negState ${negState} is none of 0..3`);
  return {
    ...(negState !== undefined ? { negState } : {}),
    ...(mech ? { supportedMech: readOid(mech, `${what} supportedMech`) } : {}),
    ...(token ? { responseToken: readOctetString(token, `${what} responseToken`) } : {}),
    ...(mic ? { mechListMIC: readOctetString(mic, `${what} mechListMIC`) } : {}),
  };
}

// ---- the authenticator checksum (RFC 4121 4.1.1) ---------------------------------------------

export interface GssChecksum {
  /** Bnd: MD5 of the gss_channel_bindings_struct (channelBinding.ts channelBindingsHash), or 16 zero bytes. */
  bindingsHash: Buffer;
  flags: number;
  /** DlgOpt 1 with a KRB-CRED, when DELEG is set; never sent by this client. */
  delegation?: Buffer;
}

/** The 0x8003 checksum: Lgth (16, little-endian), Bnd, Flags (little-endian). */
export function encodeGssChecksum(c: { bindingsHash?: Buffer; flags: number }): Checksum {
  const bnd = c.bindingsHash ?? Buffer.alloc(16);
  if (bnd.length !== 16) throw new DerError(`0x8003 checksum: Bnd is ${bnd.length} bytes, expected 16`);
  if (c.flags & GssFlags.DELEG) throw new DerError("0x8003 checksum: delegation is not supported");
  const v = Buffer.alloc(24);
  v.writeUInt32LE(16, 0);
  bnd.copy(v, 4);
  v.writeUInt32LE(c.flags >>> 0, 20);
  return { cksumtype: ChecksumType.GSSAPI, checksum: v };
}

export function decodeGssChecksum(c: Checksum): GssChecksum {
  if (c.cksumtype !== ChecksumType.GSSAPI) throw new DerError(`authenticator checksum type ${c.cksumtype}, expected 0x8003`);
  const v = c.checksum;
  if (v.length < 24) throw new DerError(`0x8003 checksum: ${v.length} bytes, at least 24 expected`);
  if (v.readUInt32LE(0) !== 16) throw new DerError(`0x8003 checksum: Lgth ${v.readUInt32LE(0)}, expected 16`);
  const flags = v.readUInt32LE(20);
  let delegation: Buffer | undefined;
  if (flags & GssFlags.DELEG) {
    if (v.length < 28) throw new DerError("0x8003 checksum: DELEG set without DlgOpt and Dlgth");
    const dlgOpt = v.readUInt16LE(24);
    const dlgth = v.readUInt16LE(26);
    if (dlgOpt !== 1 || v.length < 28 + dlgth) throw new DerError("0x8003 checksum: malformed delegation field");
    delegation = v.subarray(28, 28 + dlgth);
  }
  return { bindingsHash: v.subarray(4, 20), flags, ...(delegation ? { delegation } : {}) };
}
