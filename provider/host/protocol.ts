// The host protocol: how a request becomes a command line plus stdin for a shipped script, and
// how the host's bytes and exit code become a typed reply or a typed error.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { errorTextFromStderr } from "./clixml";
import { HostError, HostErrorKind, isHostErrorKind } from "../errors";
import { isScriptPath, SCRIPT_PATH_REASON } from "../domain/schema";
import type { RemoteResult } from "../transport/result";

/** Where the shipped .ps1 files live (dist/provider/host -> provider/scripts). */
export const SCRIPTS_DIR = path.resolve(__dirname, "..", "..", "..", "provider", "scripts");
export const BOOTSTRAP_SCRIPT = "bootstrap.ps1";
export const SIGNING_SCRIPT = "smb-signing.ps1";

/** Script texts read once per process: the package's files do not change under a running provider. */
const scriptTexts = new Map<string, string>();

export function readScript(name: string): string {
  let text = scriptTexts.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
    scriptTexts.set(name, text);
  }
  return text;
}

/**
 * The command line sent to Windows OpenSSH. Its default shell runs it as `cmd.exe /c "<line>"`
 * (8191 characters at most); base64 holds none of cmd's metacharacters, so the bootstrap
 * survives cmd and PowerShell as default shells alike. The real script comes over stdin.
 */
export function bootstrapCommandLine(): string {
  const encoded = Buffer.from(readScript(BOOTSTRAP_SCRIPT), "utf16le").toString("base64");
  return `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encoded}`;
}

/**
 * A path connection.scriptPath allows (domain/schema.ts isScriptPath) in double quotes: one
 * argument for cmd.exe and for CommandLineToArgvW alike, since it holds no quote, no character
 * cmd.exe interprets, and no backslash before the closing quote. Anything else is refused here
 * too, whatever let it through: a path is data and never becomes command text.
 */
export function quotedScriptPath(scriptPath: string): string {
  if (!isScriptPath(scriptPath)) throw new Error(`connection.scriptPath ${SCRIPT_PATH_REASON}`);
  return `"${scriptPath}"`;
}

/**
 * The command line of a run of the signed copy (connection.scriptPath): powershell.exe -File,
 * the last parameter ("all characters typed after the File parameter name are interpreted as
 * the script file path followed by the script parameters", about_PowerShell_exe), no script
 * arguments; the request comes on stdin (fileStdin). Never -EncodedCommand: the text that runs is
 * the file the host's application control policy judges. -ExecutionPolicy Bypass as in the
 * encoded run: the execution policy is no security boundary (about_Execution_Policies), and a
 * policy Group Policy sets still wins over it.
 */
export function fileCommandLine(scriptPath: string): string {
  return `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File ${quotedScriptPath(scriptPath)}`;
}

/** cmd.exe's `type`: the file's bytes, read without PowerShell, for the check before the run. */
export function readFileCommandLine(scriptPath: string): string {
  return `type ${quotedScriptPath(scriptPath)}`;
}

/** Stdin for a file run: the request alone, as ASCII JSON. */
export function fileStdin(request: unknown): Buffer {
  return Buffer.from(asciiJson(request) + "\n", "ascii");
}

/** The comment block Set-AuthenticodeSignature appends to a script (about_Signing). */
const SIGNATURE_BLOCK = /(^|\n)# SIG # Begin signature block\n(?:#[^\n]*\n)*?# SIG # End signature block\n*$/;

/**
 * A script's text as the check compares it: a UTF-8 byte order mark dropped, CRLF line ends as
 * LF, a trailing Authenticode signature block removed, and trailing line ends removed. Nothing
 * else is forgiven: any other change is another script.
 */
export function comparableScriptText(text: string): string {
  return text
    .replace(/^\uFEFF/, "")
    .replace(/\r\n/g, "\n")
    .replace(SIGNATURE_BLOCK, "$1")
    .replace(/\n+$/, "");
}

/** This package's version (package.json), which names the release whose smb-signing.ps1 a host must hold. */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(SCRIPTS_DIR, "..", "..", "package.json"), "utf8")) as { version: string }).version;
}

/** SHA-256 (hex) of the shipped smb-signing.ps1 as the package holds it: what Get-FileHash shows for an unchanged copy before it is signed. */
export function shippedScriptSha256(): string {
  return crypto.createHash("sha256").update(readScript(SIGNING_SCRIPT), "utf8").digest("hex");
}

let shippedComparable: string | undefined;

/**
 * Why the file a host holds at connection.scriptPath is not this release's smb-signing.ps1
 * (its bytes as `type` printed them), or undefined when it is: the same text as the shipped
 * script once both are made comparable (comparableScriptText). A version check, not a security
 * control: the signature and the host's allow-listing are that.
 */
export function scriptFileProblem(bytes: Buffer): string | undefined {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return "is saved as UTF-16, not as the package ships it (copy the file, do not re-save it)";
  }
  const shipped = (shippedComparable ??= comparableScriptText(readScript(SIGNING_SCRIPT)));
  const found = comparableScriptText(bytes.toString("utf8"));
  if (found === shipped) return undefined;
  const foundLines = found.split("\n");
  const shippedLines = shipped.split("\n");
  let line = 0;
  while (line < foundLines.length && line < shippedLines.length && foundLines[line] === shippedLines[line]) line++;
  return `is not the smb-signing.ps1 of this release (its text, without the signature block, first differs at line ${line + 1})`;
}

/** JSON with every non-ASCII character escaped, so the console input code page cannot matter. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** Stdin for the bootstrap: the script text and the request, both as JSON data. */
export function bootstrapStdin(scriptName: string, request: unknown): Buffer {
  return Buffer.from(asciiJson({ script: readScript(scriptName), request: asciiJson(request) }) + "\n", "ascii");
}

export interface ErrorReply {
  status: "error";
  kind: HostErrorKind;
  message: string;
  [key: string]: unknown;
}

/** Decodes the script's reply: exit code first, then the one JSON document on stdout. */
export function parseReply<T extends { status: "ok" }>(host: string, result: RemoteResult): T {
  if (result.exitCode === null) {
    throw new HostError("connectionDropped", host, "the connection ended before PowerShell reported an exit code");
  }
  // Decode once, as a whole: a multi-byte character may straddle two network chunks.
  const stdout = result.stdout.toString("utf8").trim();
  const stderr = errorTextFromStderr(result.stderr.toString("utf8"));
  const lastLine = stdout
    .split(/\r?\n/)
    .filter((l) => l.trim().startsWith("{"))
    .pop();
  let reply: (T | ErrorReply) | undefined;
  if (lastLine) {
    try {
      reply = JSON.parse(lastLine);
    } catch {
      reply = undefined;
    }
  }
  if (reply && reply.status === "error") {
    // A kind smb-signing.ps1 never writes is a reply we do not understand.
    const kind = isHostErrorKind(reply.kind) ? reply.kind : "badReply";
    const message = typeof reply.message === "string" ? reply.message : JSON.stringify(reply.message ?? null);
    throw Object.assign(new HostError(kind, host, message), { reply });
  }
  if (result.exitCode !== 0 || !reply || reply.status !== "ok") {
    const detail = stderr || stdout.slice(0, 500) || "no output";
    throw new HostError("failed", host, `PowerShell exited with code ${result.exitCode}: ${detail}`);
  }
  return reply;
}
