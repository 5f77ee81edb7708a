// What a transport returns for one command: its raw output and exit code. Decoding the reply is
// the host layer's job (host/protocol.ts); transports only move bytes.

export interface RemoteResult {
  stdout: Buffer;
  stderr: Buffer;
  /** null when the connection ended before the command reported an exit status. */
  exitCode: number | null;
  /** WinRM: how the connection authenticated (SSH: absent). */
  authentication?: Authentication;
}

/**
 * The mechanism a WinRM connection authenticated with; with authentication "negotiate" and NTLM,
 * why Kerberos was not used.
 */
export interface Authentication {
  mechanism: "kerberos" | "ntlm" | "basic";
  kerberosUnavailable?: string;
}
