// Tests of test tooling: the simulated host's reading of a Windows command line
// (CommandLineToArgvW) and of plain -Command runs, which the benchmark's naive baseline uses.
import assert from "node:assert/strict";
import { parsePowerShell, splitWindowsArgs } from "../simhost/commandLine";
import { applyGroupPolicy, newHostState, runGenericCommand } from "../simhost/model";

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
