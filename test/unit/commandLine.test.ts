// The command line survives cmd.exe and powershell.exe as Windows parses them, and stays short.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asciiJson, bootstrapCommandLine, bootstrapStdin, readScript } from "../../provider/host/protocol";
import { CMD_MAX_LINE, parsePowerShell, splitWindowsArgs } from "../simhost/commandLine";
import { applyGroupPolicy, newHostState, runGenericCommand } from "../simhost/model";

describe("bootstrap command line", () => {
  it("fits cmd.exe's 8191-character limit with room to spare", () => {
    assert.ok(bootstrapCommandLine().length < CMD_MAX_LINE / 2, `${bootstrapCommandLine().length} characters`);
  });

  it("decodes, as powershell.exe would, to the shipped bootstrap.ps1", () => {
    const inv = parsePowerShell(bootstrapCommandLine());
    assert.equal(inv.command, readScript("bootstrap.ps1"));
    assert.deepEqual([...inv.switches].sort(), ["NoProfile", "NonInteractive"]);
  });

  it("sends only ASCII on stdin, with the request as a JSON string", () => {
    const stdin = bootstrapStdin("smb-signing.ps1", { operation: "read", note: "é\u2028" });
    assert.ok(stdin.every((b) => b < 0x80));
    const env = JSON.parse(stdin.toString("ascii"));
    assert.equal(env.script, readScript("smb-signing.ps1"));
    assert.deepEqual(JSON.parse(env.request), { operation: "read", note: "é\u2028" });
    assert.equal(asciiJson("®"), '"\\u00ae"');
  });
});

describe("CommandLineToArgvW rules (simulated host)", () => {
  it("splits on whitespace and groups quotes", () => {
    assert.deepEqual(splitWindowsArgs('a "b c" d'), ["a", "b c", "d"]);
  });
  it("treats backslashes as literal unless they precede a quote", () => {
    assert.deepEqual(splitWindowsArgs('C:\\x\\ "a\\"b" "c\\\\"'), ["C:\\x\\", 'a"b', "c\\"]);
  });
  it("refuses a line cmd.exe would interpret", () => {
    assert.throws(() => parsePowerShell("powershell.exe -EncodedCommand AAAA & calc"), /interpret '&'/);
  });
});

describe("plain -Command runs (simulated host, for the benchmark's naive baseline)", () => {
  it("takes the rest of the line as the command text", () => {
    const inv = parsePowerShell('powershell.exe -NoProfile -Command "Get-SmbClientConfiguration | ConvertTo-Json"');
    assert.equal(inv.encoded, false);
    assert.equal(inv.command, "Get-SmbClientConfiguration | ConvertTo-Json");
  });

  it("answers Get- and Set-Smb*Configuration one cmdlet at a time; a local write sticks until Group Policy is applied again", () => {
    const state = newHostState("win11-24h2-home");
    state.groupPolicy.securityOptions.server = { EnableSecuritySignature: false };
    assert.equal(JSON.parse(runGenericCommand(state, "Get-SmbServerConfiguration | ConvertTo-Json").stdout).RequireSecuritySignature, false);
    const set = runGenericCommand(state, "Set-SmbServerConfiguration -RequireSecuritySignature $true -EnableSecuritySignature $true -Force");
    assert.deepEqual([set.exitCode, set.changed], [0, true]);
    assert.equal(state.server.RequireSecuritySignature, true);
    assert.equal(state.server.EnableSecuritySignature, true);
    applyGroupPolicy(state);
    assert.equal(state.server.EnableSecuritySignature, false);
    assert.equal(runGenericCommand(state, "Remove-Item C:\\ -Recurse").exitCode, 1);
  });
});
