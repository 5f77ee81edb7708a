// Runs the shipped scripts as a simulated host runs them (bootstrap.ps1 as powershell.exe
// -EncodedCommand, with the provider's stdin carrying smb-signing.ps1 and the request, through the
// PowerShell interpreter on windowsSurface.ts) directly on a HostState, for the tests that state
// what the scripts do: the reply, the exit code, and every change the run made to the host, in
// order, each with the record as it was on the host just before it.
import { asciiJson, BOOTSTRAP_SCRIPT, readScript, SIGNING_SCRIPT } from "../../provider/host/protocol";
import { HostState, Side } from "../simhost/model";
import { HostCommand, isHostObject, PowerShellHost, PSValue, StaticMember } from "../simhost/powershell/host";
import { initParser, runPowerShellSync } from "../simhost/powershell/run";
import { SurfaceOptions, windowsSurface } from "../simhost/windowsSurface";

export const BOOTSTRAP = readScript(BOOTSTRAP_SCRIPT);
export const SIGNING = readScript(SIGNING_SCRIPT);

/** Loads the grammar (once per process); every run after it is synchronous. */
export const loadInterpreter = (): Promise<void> => initParser();

/** A change a run made to the host: the record (HKLM:\SOFTWARE\pulumi-smb-signing), or settings of a side. */
export interface HostWrite {
  /** The command whose run made it. */
  command: string;
  part: "record" | Side;
  /** For a side: the settings whose values changed. */
  names: string[];
  /** The record's text on the host just before the change (undefined: none). */
  recordBefore: string | undefined;
}

export interface ScriptRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** stdout as JSON, or undefined when it is not. */
  reply: Record<string, unknown> | undefined;
  writes: HostWrite[];
}

/** The request as the provider sends it on stdin (a string is sent as it is: any text a request could be). */
export function stdinFor(request: unknown): string {
  return asciiJson({ script: SIGNING, request: typeof request === "string" ? request : asciiJson(request) }) + "\n";
}

/** One run of bootstrap.ps1 with `request` on the host `state` (changed in place, as Windows would be). */
export function runShipped(state: HostState, request: unknown, options: SurfaceOptions = {}): ScriptRun {
  const writes: HostWrite[] = [];
  const result = runPowerShellSync({ script: BOOTSTRAP, stdin: stdinFor(request), host: journaled(windowsSurface(state, options), state, writes) });
  let reply: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(result.stdout);
    reply = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    reply = undefined;
  }
  return { ...result, reply, writes };
}

/**
 * The host's commands and .NET methods ([Microsoft.Win32.RegistryKey]::OpenBaseKey and the keys it
 * gives), each noting what its run changed on the host (by comparing the state before and after).
 */
function journaled(host: PowerShellHost, state: HostState, writes: HostWrite[]): PowerShellHost {
  const noting = <T>(name: string, run: () => T): T => {
    const before = { client: { ...state.client }, server: { ...state.server }, record: state.record };
    try {
      return run();
    } finally {
      for (const side of ["client", "server"] as Side[]) {
        const names = [...new Set([...Object.keys(before[side]), ...Object.keys(state[side])])].filter((n) => before[side][n] !== state[side][n]);
        if (names.length > 0) writes.push({ command: name, part: side, names, recordBefore: before.record });
      }
      if (state.record !== before.record) writes.push({ command: name, part: "record", names: [], recordBefore: before.record });
    }
  };
  const wrap = (name: string, command: HostCommand): HostCommand => ({ ...command, run: (call) => noting(name, () => command.run.call(command, call)) });
  /** A host object whose methods are noted (by "<type>.<method>"), as are the objects they return. */
  const wrapValue = (value: PSValue | undefined): PSValue | undefined => {
    if (value === undefined || !isHostObject(value) || !value.methods) return value;
    const type = value.typeNames[0].split(".").pop();
    const methods = Object.fromEntries(Object.entries(value.methods).map(([m, f]) => [m, (...args: PSValue[]) => wrapValue(noting(`${type}.${m}`, () => f(...args)))]));
    return { ...value, methods };
  };
  const staticMembers = Object.fromEntries(
    Object.entries(host.staticMembers ?? {}).map(([type, members]) => [
      type,
      Object.fromEntries(
        Object.entries(members).map(([m, member]): [string, StaticMember] => {
          if (!("method" in member)) return [m, member];
          const method = member.method;
          return [m, { method: (...args: PSValue[]) => wrapValue(noting(`${type.split(".").pop()}.${m}`, () => method(...args))) }];
        }),
      ),
    ]),
  );
  return { ...host, staticMembers, commands: Object.fromEntries(Object.entries(host.commands).map(([name, command]) => [name, wrap(name, command)])) };
}

/** The originals a record's text holds, by side (undefined when it is no JSON record with originals). */
export function recordedOriginals(text: string | undefined): { client: Record<string, unknown>; server: Record<string, unknown> } | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as { originals?: unknown } | null;
    if (!parsed || parsed.originals === undefined || parsed.originals === null) return undefined;
    // Originals that are no object (false, 5, "x") hold no settings; so does a side that is none.
    const sides = (typeof parsed.originals === "object" ? parsed.originals : {}) as Record<string, unknown>;
    const side = (v: unknown) => (v !== null && typeof v === "object" && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {});
    return { client: side(sides.client), server: side(sides.server) };
  } catch {
    return undefined;
  }
}
