// The SSH transport: one connection per attempt, the host key checked against the pinned
// OpenSSH fingerprint before any credential is sent, one exec of a command line with stdin,
// raw stdout/stderr bytes and the exit code back, all before a deadline. Knows nothing about SMB.
import * as crypto from "node:crypto";
import { NodeSSH } from "node-ssh";
import * as ssh2 from "ssh2";
import type { Connection } from "../domain/schema";
import { HostError } from "../errors";
import type { RemoteResult } from "./result";

/** OpenSSH's fingerprint format: "SHA256:" + unpadded base64 of SHA-256 of the key blob. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** Why a key cannot be used, in words that name the input to fix; undefined when it parses. */
export function privateKeyProblem(privateKey: string, passphrase: string | undefined): string | undefined {
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  if (!(parsed instanceof Error)) return undefined;
  if (/no passphrase given/i.test(parsed.message)) return "is encrypted: connection.passphrase is required";
  if (/bad passphrase/i.test(parsed.message)) return "cannot be decrypted with connection.passphrase: the passphrase is wrong";
  return `is not an OpenSSH, PEM or PPK private key (${parsed.message})`;
}

/**
 * What to do about a refused key. The account must be an administrator (the provider needs one),
 * and the default sshd_config of Windows OpenSSH ends with `Match Group administrators` /
 * `AuthorizedKeysFile __PROGRAMDATA__/ssh/administrators_authorized_keys`: for a member of
 * Administrators the user's own authorized_keys is never read, and StrictModes refuses that file
 * unless its ACL leaves writing to Administrators, SYSTEM (and the user). Microsoft, "Key-based
 * authentication in OpenSSH for Windows"; PowerShell/openssh-portable contrib/win32/openssh/sshd_config.
 */
const ADMINISTRATOR_KEYS_ADVICE =
  "check connection.user and the key; for a member of Administrators, which the account must be, Windows OpenSSH reads public keys " +
  "only from C:\\ProgramData\\ssh\\administrators_authorized_keys (Match Group administrators in its default sshd_config), never from the " +
  "user's own %USERPROFILE%\\.ssh\\authorized_keys, and refuses that file if anyone but Administrators and SYSTEM may write to it: " +
  'icacls.exe "C:\\ProgramData\\ssh\\administrators_authorized_keys" /inheritance:r /grant "Administrators:F" /grant "SYSTEM:F"';

export async function runOverSsh(conn: Connection, commandLine: string, stdin: Buffer, deadlineAtMs: number): Promise<RemoteResult> {
  const where = `${conn.host}:${conn.port}`;
  const ssh = new NodeSSH();
  let seenFingerprint: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const seconds = Math.max(0, Math.round((deadlineAtMs - Date.now()) / 1000));
    timer = setTimeout(() => reject(new HostError("timeout", where, `no reply within ${seconds} s`)), Math.max(0, deadlineAtMs - Date.now()));
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
        readyTimeout: Math.max(1, Math.min(conn.connectTimeoutSeconds * 1000, deadlineAtMs - Date.now())),
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
    if (conn.privateKey !== undefined && /Cannot parse privateKey/i.test(message)) {
      const problem = privateKeyProblem(conn.privateKey, conn.passphrase) ?? "cannot be used";
      return new HostError("authenticationFailed", where, `connection.privateKey ${problem}`);
    }
    if (/verification failed/i.test(message)) {
      return new HostError(
        "hostKeyMismatch",
        where,
        `host key ${seenFingerprint ?? "(none)"} does not match the pinned connection.hostKey ${conn.hostKey ?? "(none)"}`,
      );
    }
    if (/authentication methods failed/i.test(message)) {
      if (conn.privateKey === undefined && conn.agent === undefined)
        return new HostError("authenticationFailed", where, `the host refused user "${conn.user}"`);
      const offered = conn.privateKey !== undefined ? "connection.privateKey" : "the keys of the agent at connection.agent";
      return new HostError("authenticationFailed", where, `the host refused user "${conn.user}" with ${offered}`, ADMINISTRATOR_KEYS_ADVICE);
    }
    if (/timed out/i.test(message)) {
      return new HostError("timeout", where, `no SSH handshake within ${conn.connectTimeoutSeconds} s`);
    }
    // sshd closes connections beyond MaxStartups before its banner: the host is busy, not absent.
    if (/before handshake|ECONNRESET/i.test(message))
      return new HostError("hostBusy", where, `the SSH server closed the connection before the handshake (${message})`);
    return new HostError("connectionFailed", where, message);
  }
}
