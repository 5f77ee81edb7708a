// The command line survives cmd.exe and powershell.exe as Windows parses them, and stays short.
import assert from "node:assert/strict";
import { asciiJson, bootstrapCommandLine, bootstrapStdin, readScript } from "../../provider/host/protocol";
import { BAD_COMMAND_LINE_EXIT, CMD_MAX_LINE, parsePowerShell, parseTypeCommand, WindowsCommandError } from "../simhost/commandLine";

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

describe("the simulated powershell.exe parses -File as Windows does (about_PowerShell_exe)", () => {
  it("-File takes the next argument as the path and every one after it as the script's; the path must end in .ps1; cmd's metacharacters outside quotes are refused before powershell.exe sees them", () => {
    const inv = parsePowerShell('powershell.exe -NoProfile -File "C:\\Program Files\\x\\smb-signing.ps1" -EncodedCommand ZQB4AGkAdAA=');
    assert.equal(inv.file, "C:\\Program Files\\x\\smb-signing.ps1");
    assert.deepEqual(inv.fileArgs, ["-EncodedCommand", "ZQB4AGkAdAA="], "after -File, script arguments, never powershell.exe's");
    assert.equal(inv.encoded, false);
    assert.throws(() => parsePowerShell("powershell.exe -File C:\\x\\smb-signing.txt"), (e: WindowsCommandError) => e.exitCode === BAD_COMMAND_LINE_EXIT && /does not have a '\.ps1' extension/.test(e.message));
    assert.throws(() => parsePowerShell("powershell.exe -NoProfile -File"), (e: WindowsCommandError) => e.exitCode === BAD_COMMAND_LINE_EXIT);
    assert.throws(() => parsePowerShell("powershell.exe -File C:\\x\\a&calc.ps1"), /cmd\.exe would interpret '&'/);
    assert.throws(() => parsePowerShell("powershell.exe -Fil C:\\x\\a.ps1"), /unexpected argument '-Fil'/, "no abbreviation is modelled");
    assert.equal(parseTypeCommand('type "C:\\Program Files\\x\\smb-signing.ps1"'), "C:\\Program Files\\x\\smb-signing.ps1");
    assert.equal(parseTypeCommand("powershell.exe -File C:\\x.ps1"), undefined);
  });
});
