// Helpers for the interpreter's unit tests: a host with a few commands of its own and a plain-JS
// view of PowerShell values.
import { CommandError, HostCommand, PowerShellHost, SessionFacts } from "../simhost/powershell/host";
import { evaluate } from "../simhost/powershell/run";
import { PSArray, PSChar, PSCustomObject, PSDateTime, PSEnum, PSHashtable, PSNumber, PSValue } from "../simhost/powershell/values";
import { toStr } from "../simhost/powershell/convert";

export const NOW = new Date("2025-06-01T12:00:00Z");

/** Commands for the tests: Fail-Soft writes a non-terminating error, Fail-Hard throws a terminating one, Echo returns its parameters. */
export function testHost(session: Partial<SessionFacts> = {}, extra: Record<string, HostCommand> = {}): PowerShellHost {
  return {
    session: { psVersion: "5.1.19041.5247", languageMode: "FullLanguage", now: () => NOW, ...session },
    commands: {
      "Fail-Soft": {
        parameters: {},
        run(call) {
          call.writeError({ message: "Requested registry access is not allowed.", category: "PermissionDenied", fullyQualifiedErrorId: "System.Security.SecurityException,Microsoft.PowerShell.Commands.SetItemPropertyCommand", exceptionType: "System.Security.SecurityException" });
          return "after";
        },
      },
      "Fail-Hard": {
        parameters: {},
        run() {
          throw new CommandError({ message: "Invalid class", category: "MetadataError", fullyQualifiedErrorId: "HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand" });
        },
      },
      "Echo-Params": {
        parameters: { Name: { position: 0 }, Value: { position: 1 }, Force: { switch: true }, RequireSecuritySignature: {} },
        supportsShouldProcess: true,
        run(call) {
          return Object.entries(call.parameters).map(([k, v]) => `${k}=${toStr(v)}`);
        },
      },
      ...extra,
    },
  };
}

/** A PowerShell value as plain JS: numbers as numbers, arrays as arrays, hashtables and PSCustomObjects as objects. */
export function plain(v: PSValue): unknown {
  if (v instanceof PSNumber) return v.value;
  if (v instanceof PSArray) return v.items.map(plain);
  if (v instanceof PSHashtable) return Object.fromEntries(v.pairs().map(([k, x]) => [toStr(k), plain(x)]));
  if (v instanceof PSCustomObject) return Object.fromEntries(v.properties().map((p) => [p.name, plain(p.value)]));
  if (v instanceof PSChar || v instanceof PSEnum || v instanceof PSDateTime) return toStr(v);
  return v;
}

/** The objects a script writes (throws with the message of an uncaught error). */
export function out(script: string, host = testHost()): PSValue[] {
  const r = evaluate(script, host);
  if (r.uncaught) throw new Error(`uncaught: ${r.uncaught.message}`);
  return r.output;
}

/** The one object a script writes, as plain JS. */
export function one(script: string, host = testHost()): unknown {
  const o = out(script, host);
  if (o.length !== 1) throw new Error(`expected one object, got ${o.length}: ${JSON.stringify(o.map(plain))}`);
  return plain(o[0]);
}

/** Every object a script writes, as plain JS. */
export function all(script: string, host = testHost()): unknown[] {
  return out(script, host).map(plain);
}
