// The host protocol: how a request becomes a command line plus stdin for a shipped script, and
// how the host's bytes and exit code become a typed reply or a typed error.
import * as fs from "node:fs";
import * as path from "node:path";
import { errorTextFromStderr } from "./clixml";
import { HostError, HostErrorKind, isHostErrorKind } from "../errors";
import type { RemoteResult } from "../transport/result";

/** Where the shipped .ps1 files live (dist/provider/host -> provider/scripts). */
export const SCRIPTS_DIR = path.resolve(__dirname, "..", "..", "..", "provider", "scripts");
export const BOOTSTRAP_SCRIPT = "bootstrap.ps1";
export const SIGNING_SCRIPT = "smb-signing.ps1";

export function readScript(name: string): string {
  return fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
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
  const lastLine = stdout.split(/\r?\n/).filter((l) => l.trim().startsWith("{")).pop();
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
