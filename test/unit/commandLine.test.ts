// The command line survives cmd.exe and powershell.exe as Windows parses them, and stays short.
import assert from "node:assert/strict";
import { asciiJson, bootstrapCommandLine, bootstrapStdin, readScript } from "../../provider/host/protocol";
import { CMD_MAX_LINE, parsePowerShell } from "../simhost/commandLine";

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
