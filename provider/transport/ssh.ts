// The SSH transport: one connection per operation, the host key checked against the pinned
// OpenSSH fingerprint before any credential is sent, one exec of a command line with stdin,
// raw stdout/stderr bytes and the exit code back. Knows nothing about SMB.
import * as crypto from "node:crypto";
import { NodeSSH } from "node-ssh";
import type { Connection } from "../domain/schema";
import { HostError } from "../host/errors";
import type { RemoteResult } from "../host/protocol";

/** OpenSSH's fingerprint format: "SHA256:" + unpadded base64 of SHA-256 of the key blob. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

export async function runOverSsh(conn: Connection, commandLine: string, stdin: Buffer): Promise<RemoteResult> {
  const where = `${conn.host}:${conn.port}`;
  const ssh = new NodeSSH();
  let seenFingerprint: string | undefined;
  const deadlineMs = (conn.connectTimeoutSeconds + conn.commandTimeoutSeconds) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HostError("timeout", where, `no reply within ${conn.connectTimeoutSeconds + conn.commandTimeoutSeconds} s`)),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([deadline, exchange()]);
  } finally {
    clearTimeout(timer);
    ssh.dispose();
  }

  async function exchange(): Promise<RemoteResult> {
    try {
      await ssh.connect({
        host: conn.host,
        port: conn.port,
        username: conn.user,
        password: conn.password,
        privateKey: conn.privateKey,
        passphrase: conn.passphrase,
        agent: conn.agent,
        readyTimeout: conn.connectTimeoutSeconds * 1000,
        tryKeyboard: false,
        // Runs during key exchange, before user authentication: a refused key means no
        // credential ever leaves this process.
        hostVerifier: (key: Buffer) => {
          seenFingerprint = hostKeyFingerprint(key);
          return conn.dangerouslyAcceptAnyHostKey === true || seenFingerprint === conn.hostKey;
        },
      });
    } catch (err) {
      throw connectError(err);
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    // No pty: Windows OpenSSH loses exit codes with one (Win32-OpenSSH issue 1737).
    const result = await ssh.execCommand(commandLine, {
      stdin: stdin.toString("latin1"),
      encoding: "latin1",
      onStdout: (chunk) => stdout.push(chunk),
      onStderr: (chunk) => stderr.push(chunk),
    });
    return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: result.code };
  }

  function connectError(err: unknown): HostError {
    const message = err instanceof Error ? err.message : String(err);
    if (/verification failed/i.test(message)) {
      return new HostError(
        "hostKeyMismatch",
        where,
        `host key ${seenFingerprint ?? "(none)"} does not match the pinned connection.hostKey ${conn.hostKey ?? "(none)"}`,
      );
    }
    if (/authentication methods failed/i.test(message)) {
      return new HostError("authenticationFailed", where, `the host refused user "${conn.user}"`);
    }
    if (/timed out/i.test(message)) {
      return new HostError("timeout", where, `no SSH handshake within ${conn.connectTimeoutSeconds} s`);
    }
    return new HostError("connectionFailed", where, message);
  }
}
