// connection.scriptPath: smb-signing.ps1 run as a signed file (powershell.exe -File) on hosts
// whose WDAC or AppLocker policy allows only signed scripts. The path is validated before any
// host is touched and quoted as data; the file's text is checked against the shipped script
// before it runs; the shipped script, run as a file through the PowerShell interpreter on a
// modelled host, reads its request from stdin, answers Constrained Language Mode with the typed
// error, and reports how it ran.
import assert from "node:assert/strict";
import * as ops from "../../provider/operations";
import { HostError } from "../../provider/errors";
import { checkScriptFile } from "../../provider/host/signingScript";
import {
  asciiJson,
  bootstrapCommandLine,
  comparableScriptText,
  fileCommandLine,
  fileStdin,
  packageVersion,
  quotedScriptPath,
  readFileCommandLine,
  scriptFileProblem,
  shippedScriptSha256,
} from "../../provider/host/protocol";
import { parseProviderConfig } from "../../provider/plugin/config";
import { parsePowerShell, parseTypeCommand, splitWindowsArgs } from "../simhost/commandLine";
import { HostState, newHostState, scriptFileLanguageMode, signScript } from "../simhost/model";
import { runPowerShellSync } from "../simhost/powershell/run";
import { windowsSurface } from "../simhost/windowsSurface";
import { BOOTSTRAP, loadInterpreter, runShipped, SIGNING } from "./shippedScripts";

const PATH = "C:\\Program Files\\pulumi-smb-signing\\smb-signing.ps1";
const SIGNER = { subject: "CN=Contoso Code Signing, O=Contoso", thumbprint: "3F2A1B9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A" };
const OTHER_SIGNER = { subject: "CN=Someone Else", thumbprint: "0000000000000000000000000000000000000001" };
const OWNER = "0b9c7a52-5f7e-4b8a-9a51-2f8d3c1e6a10";

/** A host under a WDAC policy whose signer rule allows SIGNER, with `text` (signed or not) at PATH. */
function lockedHost(file: HostState["files"] extends infer F ? (F extends Record<string, infer V> ? V : never) : never): HostState {
  const state = newHostState("server-2022");
  state.languageMode = "ConstrainedLanguage";
  state.applicationControl = { allowedSigners: [SIGNER.thumbprint] };
  state.files = { [PATH.toLowerCase()]: file };
  return state;
}

/** One run of `powershell.exe -File PATH` on the host, the request on stdin, as windowsHost.ts runs it. */
function runFile(state: HostState, request: unknown) {
  const file = state.files![PATH.toLowerCase()];
  const r = runPowerShellSync({ script: file.text, file: PATH, stdin: fileStdin(request).toString("latin1"), host: windowsSurface(state, { file: PATH }) });
  let reply: Record<string, unknown> | undefined;
  try {
    reply = JSON.parse(r.stdout);
  } catch {
    reply = undefined;
  }
  return { ...r, reply };
}

const conn = (extra: Record<string, unknown> = {}) => ({
  host: "fs01",
  user: "admin",
  password: "pw",
  hostKey: "SHA256:" + "A".repeat(43),
  ...extra,
});

describe("connection.scriptPath: the signed copy of smb-signing.ps1 run as a file", () => {
  before(async () => {
    await loadInterpreter();
  });

  describe("the path is data", () => {
    it("a path that is not a full .ps1 path of plain characters is refused by check, naming connection.scriptPath, before anything touches a host", async () => {
      for (const bad of ["smb-signing.ps1", "C:\\scripts\\smb-signing.txt", "C:\\a\\..\\smb-signing.ps1", "C:\\tmp\\a&calc.ps1", "C:\\tmp\\%COMSPEC%.ps1", 'C:\\x" -EncodedCommand ZQB4AGkAdAA=.ps1', "\\\\srv\\share\\smb-signing.ps1", "C:\\tmp\\x.ps1 ", "C:\\NUL\\smb-signing.ps1"]) {
        const r = await ops.check({}, { connection: conn({ scriptPath: bad }) });
        assert.ok(r.failures, `accepted ${JSON.stringify(bad)}`);
        assert.deepEqual(
          r.failures.map((f) => f.property),
          ["connection.scriptPath"],
          JSON.stringify(r.failures),
        );
        assert.match(r.failures[0].reason, /must be the full path of the signed copy of smb-signing\.ps1 on the host/);
      }
      const ok = await ops.check({}, { connection: conn({ scriptPath: PATH }) });
      assert.equal(ok.failures, undefined, JSON.stringify(ok.failures));
    });

    it("the plugin's configuration takes smbsigning:scriptPath for a fleet, refused in the same words", () => {
      assert.deepEqual(parseProviderConfig({ scriptPath: PATH }), { config: { scriptPath: PATH }, failures: [] });
      const bad = parseProviderConfig({ scriptPath: "C:\\tmp\\a|b.ps1" });
      assert.equal(bad.failures[0].property, "scriptPath");
      assert.match(bad.failures[0].reason, /^smbsigning:scriptPath must be the full path of the signed copy/);
    });

    it("the command lines quote it as one argument, -File last and no -EncodedCommand; a path the schema refuses never becomes a command line", () => {
      const line = fileCommandLine(PATH);
      assert.equal(line, `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${PATH}"`);
      assert.doesNotMatch(line, /EncodedCommand/i);
      assert.deepEqual(splitWindowsArgs(line).slice(-2), ["-File", PATH]);
      const parsed = parsePowerShell(line);
      assert.deepEqual([parsed.file, parsed.fileArgs, parsed.encoded], [PATH, [], false]);
      assert.equal(parseTypeCommand(readFileCommandLine(PATH)), PATH);
      for (const bad of ['C:\\x" & calc & ".ps1', "C:\\x\\..\\y.ps1", "relative.ps1"]) {
        assert.throws(() => quotedScriptPath(bad), /connection\.scriptPath must be the full path/);
        assert.throws(() => fileCommandLine(bad), /connection\.scriptPath/);
      }
      // The request goes on stdin, never on the command line.
      assert.equal(fileStdin({ operation: "read" }).toString("ascii"), asciiJson({ operation: "read" }) + "\n");
    });
  });

  describe("the check before the run (a version check: the signature and the host's policy are the control)", () => {
    it("accepts the shipped script signed as it is, with LF or CRLF line ends, a UTF-8 byte order mark, and its signature block", () => {
      assert.equal(scriptFileProblem(Buffer.from(SIGNING)), undefined);
      assert.equal(scriptFileProblem(Buffer.from(signScript(SIGNING, SIGNER).text)), undefined);
      const crlf = SIGNING.replace(/\r?\n/g, "\r\n");
      assert.equal(scriptFileProblem(Buffer.from("\uFEFF" + signScript(crlf, SIGNER).text)), undefined);
      assert.equal(comparableScriptText(signScript(crlf, SIGNER).text), comparableScriptText(SIGNING));
    });

    it("refuses an edited copy, another version, the bootstrap and a UTF-16 copy, saying where they differ", () => {
      const edited = signScript(SIGNING.replace("$AuditPeersMax = 50", "$AuditPeersMax = 5000"), SIGNER).text;
      assert.match(scriptFileProblem(Buffer.from(edited))!, /is not the smb-signing\.ps1 of this release \(its text, without the signature block, first differs at line \d+\)/);
      assert.match(scriptFileProblem(Buffer.from(SIGNING + "\r\nRemove-Item C:\\ -Recurse\r\n"))!, /is not the smb-signing\.ps1 of this release/);
      assert.match(scriptFileProblem(Buffer.from(BOOTSTRAP))!, /first differs at line 1\)/);
      assert.match(scriptFileProblem(Buffer.from("\uFEFF" + SIGNING, "utf16le"))!, /UTF-16/);
      // A signature block in the middle is script text, not a signature.
      const block = "# SIG # Begin signature block\n# MIIabc\n# SIG # End signature block\n";
      assert.ok(scriptFileProblem(Buffer.from(block + SIGNING)));
    });

    it("the refusal names the path, the release and the SHA-256 of the shipped file, and how to produce the file", () => {
      const edited = Buffer.from(SIGNING.replace("param([string]$RequestJson)", "param([string]$RequestJson, [string]$Extra)"));
      let err: unknown;
      try {
        checkScriptFile("fs01:22", PATH, { stdout: edited, stderr: Buffer.alloc(0), exitCode: 0 });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof HostError);
      assert.equal(err.kind, "scriptMismatch");
      assert.ok(err.message.includes(`connection.scriptPath ${PATH} is not the smb-signing.ps1 of this release`), err.message);
      assert.ok(err.message.includes(`pulumi-smb-signing ${packageVersion()} (SHA-256 ${shippedScriptSha256()} before signing)`), err.message);
      assert.match(err.message, /Set-AuthenticodeSignature/);
      assert.match(shippedScriptSha256(), /^[0-9a-f]{64}$/);
      const missing = (() => {
        try {
          checkScriptFile("fs01:22", PATH, { stdout: Buffer.alloc(0), stderr: Buffer.from("The system cannot find the file specified.\r\n"), exitCode: 1 });
        } catch (e) {
          return e as HostError;
        }
      })();
      assert.equal(missing?.kind, "scriptMismatch");
      assert.match(missing!.message, /could not be read on the host \(The system cannot find the file specified\.\)/);
      assert.doesNotThrow(() => checkScriptFile("fs01:22", PATH, { stdout: Buffer.from(signScript(SIGNING, SIGNER).text), stderr: Buffer.alloc(0), exitCode: 0 }));
    });
  });

  describe("smb-signing.ps1 run as a file on a modelled host", () => {
    it("signed by a certificate the WDAC policy allows: runs in FullLanguage, reads its request from stdin, and reports its path, language mode and signature", () => {
      const state = lockedHost(signScript(SIGNING, SIGNER));
      assert.equal(scriptFileLanguageMode(state, state.files![PATH.toLowerCase()]), "FullLanguage");
      const r = runFile(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } });
      assert.equal(r.stderr, "");
      assert.equal(r.exitCode, 0, r.stdout);
      assert.deepEqual(r.reply!.changed, ["server.RequireSecuritySignature"]);
      assert.equal(state.server.RequireSecuritySignature, true);
      assert.deepEqual(r.reply!.script, {
        invocation: "file",
        path: PATH,
        languageMode: "FullLanguage",
        signature: { status: "Valid", signer: SIGNER.subject, thumbprint: SIGNER.thumbprint },
      });
    });

    it("unsigned, signed by a certificate the policy does not allow, or edited after signing: ConstrainedLanguage, answered with the typed constrainedLanguage error before anything is read or written", () => {
      const unsigned = { text: SIGNING };
      const otherSigner = signScript(SIGNING, OTHER_SIGNER);
      const signed = signScript(SIGNING, SIGNER);
      const tampered = { ...signed, text: signed.text.replace("$AuditPeersMax = 50", "$AuditPeersMax = 51") };
      for (const [what, file] of [["unsigned", unsigned], ["another signer", otherSigner], ["edited after signing", tampered]] as const) {
        const state = lockedHost(file);
        const before = JSON.stringify(state);
        const r = runFile(state, { operation: "apply", ownerId: OWNER, ownerLabel: "urn:a", server: { RequireSecuritySignature: true } });
        assert.equal(r.exitCode, 2, `${what}: ${r.stdout} ${r.stderr}`);
        assert.equal(r.stderr, "", what);
        assert.equal(r.reply!.kind, "constrainedLanguage", what);
        assert.match(String(r.reply!.message), /ConstrainedLanguage mode: the AppLocker or WDAC policy of this host does not allow it/, what);
        assert.equal(JSON.stringify(state), before, `${what}: nothing changed`);
      }
    });

    it("without application control any copy runs, and says it is not signed; the encoded run (bootstrap.ps1) replies as before, without a script report", () => {
      const state = newHostState("server-2022");
      state.files = { [PATH.toLowerCase()]: { text: SIGNING } };
      const r = runFile(state, { operation: "read", ownerId: "", ownerLabel: "urn:r" });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.deepEqual(r.reply!.script, { invocation: "file", path: PATH, languageMode: "FullLanguage", signature: { status: "NotSigned", signer: "", thumbprint: "" } });
      const encoded = runShipped(newHostState("server-2022"), { operation: "read", ownerId: "", ownerLabel: "urn:r" });
      assert.equal(encoded.exitCode, 0);
      assert.equal(encoded.reply!.script, undefined);
      assert.match(bootstrapCommandLine(), / -EncodedCommand [A-Za-z0-9+/=]+$/);
    });

    it("an empty stdin is a typed badRequest, not a crash", () => {
      const state = lockedHost(signScript(SIGNING, SIGNER));
      const file = state.files![PATH.toLowerCase()];
      const r = runPowerShellSync({ script: file.text, file: PATH, stdin: "", host: windowsSurface(state, { file: PATH }) });
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.equal(JSON.parse(r.stdout).kind, "badRequest");
    });
  });
});
