// What a transport returns for one command: its raw output and exit code. Decoding the reply is
// the host layer's job (host/protocol.ts); transports only move bytes.

export interface RemoteResult {
  stdout: Buffer;
  stderr: Buffer;
  /** null when the connection ended before the command reported an exit status. */
  exitCode: number | null;
}
