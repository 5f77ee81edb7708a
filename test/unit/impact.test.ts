// What a change means for people (provider/domain/impact.ts): the errors named, guest access
// whether managed or not, readiness from the audit log in each state it can be in, and what a
// restore would put back. Pure: no host.
import assert from "node:assert/strict";
import { AuditLogFindings, consequencesIfUnread, consequencesOf, ImpactView, insecureRestore, Readiness } from "../../provider/domain/impact";
import type { ObservedSettings } from "../../provider/domain/policy";
import { engineAddress } from "../../provider/engineLog";
import { previewConsequences } from "../../provider/operations";
import { parsePolicyInputs } from "../../provider/domain/schema";

/** A Windows 11 24H2 Home host: nothing required, guest logons on, audit off. */
const home = (): ObservedSettings => ({
  client: { requireSigning: false, enableSigning: true, enableInsecureGuestLogons: true, auditServerDoesNotSupportSigning: false, auditInsecureGuestLogon: false },
  server: { requireSigning: false, enableSigning: false, auditClientDoesNotSupportSigning: false, auditInsecureGuestLogon: false },
});

const log = (over: Partial<AuditLogFindings> = {}): AuditLogFindings => ({ log: "available", auditing: true, events: 0, truncated: false, peers: [], peerCount: over.peers?.length ?? 0, ...over });
const readiness = (server: Partial<AuditLogFindings> = {}, client: Partial<AuditLogFindings> = {}): Readiness => ({
  readAt: "2025-11-03T09:00:00.0000000Z",
  days: 7,
  server: log(server),
  client: log(client),
});
const peer = (p: string, events = 1) => ({ peer: p, events, eventIds: [3021], lastSeen: "2025-11-02T10:00:00.0000000Z" });

const view = (over: Partial<ImpactView>): ImpactView => ({ before: home(), declared: { client: {}, server: {} }, tense: "future", ...over });
const texts = (v: ImpactView) => consequencesOf(v).map((c) => `${c.severity} ${c.text}`);

describe("consequences of a change (impact.ts)", () => {
  it("requiring client signing names STATUS_INVALID_SIGNATURE, and guest access the host has on although no one manages it", () => {
    const out = texts(view({ declared: { client: { requireSigning: true }, server: {} } }));
    assert.ok(out.includes("warning client.requireSigning: true: SMB servers that do not sign (many NAS and printers) will fail with 0xc000a000 STATUS_INVALID_SIGNATURE"), out.join("\n"));
    assert.ok(
      out.includes(
        "warning client.requireSigning: true: guest access, currently enabled on this host (EnableInsecureGuestLogons=true, not managed by this resource), will be blocked (0x80070035, System error 3227320323): shares that admit only guests become unreachable",
      ),
      out.join("\n"),
    );
  });

  it("says nothing of guests when the host has them off, and nothing at all when the host already has the value", () => {
    const before = home();
    before.client.enableInsecureGuestLogons = false;
    assert.ok(!texts(view({ before, declared: { client: { requireSigning: true }, server: {} } })).some((t) => t.includes("guest")));
    before.client.requireSigning = true;
    assert.deepEqual(texts(view({ before, declared: { client: { requireSigning: true }, server: {} } })), []);
  });

  it("turning guest logons off is what blocks them when signing is not required; turning them on while signing is required does nothing", () => {
    const off = texts(view({ declared: { client: { enableInsecureGuestLogons: false }, server: {} } }));
    assert.ok(off.some((t) => t.startsWith("warning client.enableInsecureGuestLogons: false: guest access, currently enabled on this host, will be blocked")), off.join("\n"));
    const before = home();
    before.client.enableInsecureGuestLogons = false;
    before.client.requireSigning = true;
    const on = consequencesOf(view({ before, declared: { client: { enableInsecureGuestLogons: true }, server: {} } }));
    assert.deepEqual(on.map((c) => c.severity), ["info"]);
    assert.match(on[0].text, /has no effect while client\.requireSigning is true/);
  });

  it("weakenings say what is lost", () => {
    const before = home();
    before.client.requireSigning = true;
    before.server.requireSigning = true;
    const out = texts(view({ before, declared: { client: { requireSigning: false }, server: { requireSigning: false } } }));
    assert.ok(out.some((t) => /^warning client\.requireSigning: false: outbound SMB traffic will no longer be signed/.test(t)), out.join("\n"));
    assert.ok(out.some((t) => /^warning server\.requireSigning: false: inbound SMB traffic .* will no longer be signed/.test(t)), out.join("\n"));
    // Guest logons come back when signing is no longer required.
    assert.ok(out.some((t) => /this host will log on to SMB servers that offer it as an unauthenticated guest/.test(t)), out.join("\n"));
  });

  it("an audit setting is information, never a warning: nothing is refused", () => {
    const out = consequencesOf(view({ declared: { client: {}, server: { auditClientDoesNotSupportSigning: true } } }));
    assert.deepEqual(out.map((c) => [c.severity, c.text]), [["info", "server.auditClientDoesNotSupportSigning: true: SMB clients that do not sign will be logged in Microsoft-Windows-SMBServer/Audit; nothing is refused"]]);
  });

  it("the present tense describes what the resource keeps", () => {
    const out = texts(view({ tense: "present", declared: { client: { requireSigning: true }, server: {} } }));
    assert.ok(out.includes("warning client.requireSigning: true: SMB servers that do not sign (many NAS and printers) fail with 0xc000a000 STATUS_INVALID_SIGNATURE"), out.join("\n"));
    assert.ok(out.some((t) => t.includes("guest access, enabled on this host (EnableInsecureGuestLogons=true, not managed by this resource), is blocked")), out.join("\n"));
  });
});

describe("readiness from the host's audit log (impact.ts)", () => {
  const requireServer = (r: Readiness) => texts(view({ declared: { client: {}, server: { requireSigning: true } }, readiness: r }));

  it("a requirement's generic consequence asks for a decision only where no audit findings speak for its side", () => {
    const declared = { client: {}, server: { requireSigning: true } };
    assert.ok(texts(view({ declared })).includes("warning server.requireSigning: true: SMB clients that do not sign will be refused by this host"));
    assert.ok(texts(view({ declared, readiness: readiness() })).includes("info server.requireSigning: true: SMB clients that do not sign will be refused by this host"));
  });

  it("audit turned on in the same change as the requirement: the log has nothing yet, said as such (never that the audit is off)", () => {
    const out = texts(view({ declared: { client: {}, server: { requireSigning: true, auditClientDoesNotSupportSigning: true } }, readiness: readiness({ auditing: false }) }));
    assert.ok(out.some((t) => t.startsWith("warning server.auditClientDoesNotSupportSigning is turned on in this same change, so Microsoft-Windows-SMBServer/Audit has logged nothing yet")), out.join("\n"));
    assert.ok(!out.some((t) => /is false|turn that audit on/.test(t)), out.join("\n"));
    assert.ok(out.some((t) => t.startsWith("info server.auditClientDoesNotSupportSigning: true: SMB clients that do not sign will be logged")), out.join("\n"));
  });

  it("names the clients that connected without signing, busiest first, and reads no further than it may", () => {
    const out = requireServer(readiness({ peers: [peer("10.0.4.30"), peer("10.0.4.17", 2), peer("10.0.4.18")], events: 4 }));
    assert.ok(
      out.includes(
        "warning 3 clients in the last 7 days connected without signing: 10.0.4.17, 10.0.4.18, 10.0.4.30 (Microsoft-Windows-SMBServer/Audit, event 3021, read 2025-11-03T09:00:00.0000000Z)",
      ),
      out.join("\n"),
    );
    const many = requireServer(readiness({ peers: Array.from({ length: 12 }, (_, i) => peer(`10.0.5.${i + 10}`)), events: 2000, truncated: true }));
    assert.ok(many.some((t) => t.startsWith("warning at least 12 clients in the last 7 days connected without signing: 10.0.5.10,") && t.includes(", and 2 more (")), many.join("\n"));
    // The script names the busiest 50; the count is of all it saw.
    const capped = requireServer(readiness({ peers: Array.from({ length: 50 }, (_, i) => peer(`10.0.6.${i}`)), peerCount: 73, events: 73 }));
    assert.ok(capped.some((t) => t.startsWith("warning 73 clients in the last 7 days") && t.includes(", and 63 more (")), capped.join("\n"));
  });

  it("says when there is nothing to go on: no log on this release, a disabled or unreadable log, audit off", () => {
    assert.ok(requireServer(readiness({ log: "absent", auditing: null })).some((t) => /cannot tell which clients do not sign: its release has no Microsoft-Windows-SMBServer\/Audit log/.test(t)));
    assert.ok(requireServer(readiness({ log: "disabled" })).some((t) => /is disabled on this host/.test(t)));
    assert.ok(requireServer(readiness({ log: "unreadable", error: "The RPC server is unavailable" })).some((t) => /could not read .*: The RPC server is unavailable/.test(t)));
    assert.ok(
      requireServer(readiness({ auditing: false })).some((t) =>
        t.includes("this host does not log clients that do not sign (server.auditClientDoesNotSupportSigning is false): turn that audit on for a while first"),
      ),
    );
  });

  it("a log whose release logs no signing event, or whose audit nothing shows: said as such, not as a missing log or an audit set to false", () => {
    const none = requireServer(readiness({ auditing: null, signingEventIds: [] }));
    assert.ok(
      none.includes(
        'warning this host cannot tell which clients do not sign: its release logs no such event in Microsoft-Windows-SMBServer/Audit (Windows 11 24H2 and Windows Server 2025 do, and older releases with KB5066913 once its Group Policy "Audit client does not support signing" is on)',
      ),
      none.join("\n"),
    );
    const unknown = requireServer(readiness({ auditing: null, signingEventIds: [3021, 3027] }));
    assert.ok(unknown.some((t) => t.startsWith("warning this host can log clients that do not sign (Microsoft-Windows-SMBServer/Audit, event 3021, 3027) but nothing shows that it does")), unknown.join("\n"));
    // State written before the IDs were read: the audit setting decides where it says; where it does not, a refresh will tell.
    assert.ok(requireServer(readiness({ auditing: false })).some((t) => t.includes("(server.auditClientDoesNotSupportSigning is false)")));
    assert.ok(requireServer(readiness({ auditing: null })).some((t) => t.startsWith("warning nothing shows that this host logs clients that do not sign") && t.includes("run pulumi refresh")));
  });

  it("an empty log under audit is good news, said as information: no decision is asked", () => {
    const out = consequencesOf(view({ declared: { client: {}, server: { requireSigning: true } }, readiness: readiness() }));
    assert.deepEqual(
      out.map((c) => c.severity),
      ["info", "info"],
    );
    assert.match(out[1].text, /^no client connected without signing in the last 7 days/);
  });

  it("the client side names the servers this host reached without signing", () => {
    const out = texts(view({ declared: { client: { requireSigning: true }, server: {} }, readiness: readiness({}, { peers: [{ ...peer("10.0.9.5"), eventIds: [31998] }] }) }));
    assert.ok(out.some((t) => t.startsWith("warning 1 server this host connected to in the last 7 days did not sign: 10.0.9.5 (Microsoft-Windows-SMBClient/Audit, event 31998")), out.join("\n"));
  });

  it("is not consulted for a side that does not change", () => {
    const out = texts(view({ declared: { client: {}, server: { auditClientDoesNotSupportSigning: true } }, readiness: readiness({ peers: [peer("10.0.4.17")] }) }));
    assert.ok(!out.some((t) => t.includes("10.0.4.17")));
  });
});

describe("a host not read yet, a restore, and where warnings go", () => {
  it("a create in preview says what requiring signing would do unless the host has it already", () => {
    const out = consequencesIfUnread({ client: { requireSigning: true }, server: { requireSigning: true } });
    assert.deepEqual(out.map((c) => c.setting), ["client.requireSigning", "server.requireSigning"]);
    assert.match(out[0].text, /unless this host already requires outbound signing, SMB servers that do not sign .* 0xc000a000 .* guest access, if enabled, will be blocked/);
  });

  it("preview works from the last observed host, and treats a replacement as a host not read yet", () => {
    const inputs = parsePolicyInputs({ connection: { host: "fs01", user: "a", password: "p", hostKey: "SHA256:" + "A".repeat(43) }, client: { requireSigning: true } });
    assert.ok(inputs.ok);
    const olds = { observed: home(), readiness: null };
    assert.match(previewConsequences(olds, inputs.inputs)[0].text, /^client\.requireSigning: true: SMB servers that do not sign/);
    assert.match(previewConsequences(olds, inputs.inputs, true)[0].text, /unless this host already requires/);
  });

  it("a restore that weakens the host is named value by value; a secure one is not", () => {
    assert.equal(
      insecureRestore({ client: { requireSigning: false, enableInsecureGuestLogons: true }, server: { requireSigning: false } }),
      "client.requireSigning=false, client.enableInsecureGuestLogons=true, server.requireSigning=false: unsigned SMB traffic can be tampered with or relayed, and guest logons let any server impersonate a share",
    );
    assert.equal(insecureRestore({ client: { requireSigning: true }, server: { auditClientDoesNotSupportSigning: false } }), undefined);
  });

  it("finds the engine only in Pulumi's dynamic provider process, taking its last argument", () => {
    const script = "/x/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js";
    assert.equal(engineAddress(["node", script, "127.0.0.1:41234"]), "127.0.0.1:41234");
    assert.equal(engineAddress(["node", script, "--logtostderr", "-v=9", "127.0.0.1:5"]), "127.0.0.1:5");
    assert.equal(engineAddress(["node", "/x/dist/test/unit/impact.test.js", "127.0.0.1:41234"]), undefined);
    assert.equal(engineAddress(["node", script, "--logtostderr"]), undefined);
  });
});
