// Hosts whose WDAC or AppLocker policy allows only signed scripts (Constrained Language Mode for
// everything else), over SSH and WinRM: the encoded run is refused (constrainedLanguage), and a
// signed copy of smb-signing.ps1 named in connection.scriptPath is checked, then run with
// powershell.exe -File through create, read, update and delete. An edited copy is refused before
// it runs; an unsigned one gets the constrainedLanguage answer; no -EncodedCommand is ever sent.
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import type { PolicyOutputs } from "../../provider/domain/policy";
import { packageVersion, readScript, shippedScriptSha256, SIGNING_SCRIPT } from "../../provider/host/protocol";
import { SimulatedFleet } from "../simhost/fleet";
import { HostFile, HostState, signScript } from "../simhost/model";
import { failure } from "./hostFailure";

const HOST = "server-2022";
const PATH = "C:\\Program Files\\pulumi-smb-signing\\smb-signing.ps1";
const SIGNER = { subject: "CN=Contoso Code Signing, O=Contoso", thumbprint: "3F2A1B9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A" };
const SIGNING = readScript(SIGNING_SCRIPT);

describe("hosts that allow only signed scripts (WDAC / AppLocker): connection.scriptPath", () => {
  const TRANSPORTS = ["ssh", "winrm"] as const;
  let fleet: SimulatedFleet;
  before(async () => {
    fleet = await SimulatedFleet.start([{ name: HOST, preset: HOST }], { winrm: true });
  });
  after(async () => {
    await fleet?.stop();
  });

  /** The host locked down by a policy that allows SIGNER, with `file` at PATH (none: no file). */
  function lockDown(file: HostFile | undefined): void {
    fleet.reset(HOST, HOST);
    fleet.change(HOST, (s: HostState) => {
      s.languageMode = "ConstrainedLanguage";
      s.applicationControl = { allowedSigners: [SIGNER.thumbprint] };
      s.files = file ? { [PATH.toLowerCase()]: file } : {};
    });
  }

  for (const transport of TRANSPORTS) {
    describe(`over ${transport}`, () => {
      async function inputs(rest: Record<string, unknown>, scriptPath: string | null = PATH) {
        const connection = { ...fleet.connection(HOST, transport === "winrm" ? "winrm" : "password"), ...(scriptPath ? { scriptPath } : {}) };
        const r = await ops.check({}, { connection, onDelete: "restore", ...rest });
        assert.deepEqual(r.failures, undefined, JSON.stringify(r.failures));
        return r.inputs as Record<string, unknown>;
      }
      const commandLines = () => fleet.state(HOST).commandLines ?? [];

      it("the encoded run is refused there, and a signed copy named in connection.scriptPath runs create, read, update and delete, never with -EncodedCommand", async () => {
        lockDown(signScript(SIGNING, SIGNER));
        const refused = await failure(ops.create(await inputs({ server: { requireSigning: true } }, null)));
        assert.equal(refused.kind, "constrainedLanguage");
        assert.match(refused.message, /connection\.scriptPath/, "the advice names the way through");
        fleet.change(HOST, (s) => (s.commandLines = []));

        const created = await ops.create(await inputs({ server: { requireSigning: true } }));
        const outs = created.outs as PolicyOutputs;
        assert.equal(outs.observed.server.requireSigning, true);
        assert.equal(fleet.state(HOST).server.RequireSecuritySignature, true);
        assert.deepEqual(outs.scriptRun, { invocation: "file", path: PATH, languageMode: "FullLanguage", signature: { status: "Valid", signer: SIGNER.subject, thumbprint: SIGNER.thumbprint } });

        fleet.change(HOST, (s) => (s.server.RequireSecuritySignature = false));
        const read = await ops.read(created.id, outs);
        assert.equal((read.props as PolicyOutputs).observed.server.requireSigning, false, "refresh reads the drift through the file");

        const updated = await ops.update(created.id, read.props as PolicyOutputs, await inputs({ server: { requireSigning: true }, client: { requireSigning: true } }));
        assert.equal((updated.outs as PolicyOutputs).observed.client.requireSigning, true);
        assert.equal(fleet.state(HOST).client.RequireSecuritySignature, true);

        await ops.delete(created.id, updated.outs as PolicyOutputs);
        assert.equal(fleet.state(HOST).server.RequireSecuritySignature, false, "restored");
        assert.equal(fleet.state(HOST).record, undefined);

        const lines = commandLines();
        assert.ok(lines.length >= 8, lines.join("\n"));
        for (const line of lines) assert.doesNotMatch(line, /-e(nc(odedcommand)?|c)?\s/i, line);
        assert.ok(lines.every((l) => l === `type "${PATH}"` || l === `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${PATH}"`), lines.join("\n"));
        assert.equal(lines[0], `type "${PATH}"`, "checked before it runs");
      });

      it("an edited copy (signed again after the edit) is refused before it runs, naming the release and how to produce the file", async () => {
        lockDown(signScript(SIGNING.replace("$AuditPeersMax = 50", "$AuditPeersMax = 500"), SIGNER));
        const e = await failure(ops.create(await inputs({ server: { requireSigning: true } })));
        assert.equal(e.kind, "scriptMismatch");
        assert.ok(e.message.includes(`connection.scriptPath ${PATH} is not the smb-signing.ps1 of this release`), e.message);
        assert.ok(e.message.includes(`pulumi-smb-signing ${packageVersion()} (SHA-256 ${shippedScriptSha256()} before signing)`), e.message);
        assert.match(e.message, /Set-AuthenticodeSignature/);
        assert.deepEqual(commandLines(), [`type "${PATH}"`], "never run");
        assert.equal(fleet.state(HOST).counters.writes, 0);
        assert.equal(fleet.state(HOST).record, undefined);
      });

      it("a path with no file there is refused before any run, saying so", async () => {
        lockDown(undefined);
        const e = await failure(ops.create(await inputs({ server: { requireSigning: true } })));
        assert.equal(e.kind, "scriptMismatch");
        assert.match(e.message, /could not be read on the host \(The system cannot find the file specified\.\)/);
        assert.deepEqual(commandLines(), [`type "${PATH}"`]);
      });

      it("an unsigned copy runs in ConstrainedLanguage and answers with the typed constrainedLanguage error; nothing is written", async () => {
        lockDown({ text: SIGNING });
        const e = await failure(ops.create(await inputs({ server: { requireSigning: true } })));
        assert.equal(e.kind, "constrainedLanguage");
        assert.match(e.message, /runs this copy of smb-signing\.ps1 in ConstrainedLanguage mode/);
        assert.equal(fleet.state(HOST).counters.writes, 0);
        assert.equal(fleet.state(HOST).server.RequireSecuritySignature, false);
        assert.equal(commandLines().length, 2);
      });
    });
  }
});
