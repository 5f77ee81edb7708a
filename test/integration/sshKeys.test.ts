// A key the host refuses: the error names the file Windows OpenSSH reads an administrator's keys
// from, and the ACL it demands (issue 22). The simulated sshd refuses any key outside its
// authorized_keys, as Windows' sshd refuses one outside administrators_authorized_keys.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ops from "../../provider/operations";
import { HostError } from "../../provider/errors";
import { SIM_PASSWORD, SimulatedFleet } from "../simhost/fleet";

const ADMIN_KEYS = "C:\\ProgramData\\ssh\\administrators_authorized_keys";
const ICACLS = `icacls.exe "${ADMIN_KEYS}" /inheritance:r /grant "Administrators:F" /grant "SYSTEM:F"`;

describe("SSH keys the host refuses", () => {
  let fleet: SimulatedFleet;
  let keyDir: string;
  /** A key the host was never given. */
  let strangerKey: string;

  before(async () => {
    fleet = await SimulatedFleet.start([{ name: "h", preset: "server-2025" }]);
    keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "stranger-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "stranger", "-f", path.join(keyDir, "id")]);
    strangerKey = fs.readFileSync(path.join(keyDir, "id"), "utf8");
  });
  after(async () => {
    await fleet?.stop();
    if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
  });

  async function refusal(connection: Record<string, unknown>): Promise<HostError> {
    const checked = await ops.check({}, { connection, client: { requireSigning: true }, onDelete: "restore" });
    assert.deepEqual(checked.failures, undefined, JSON.stringify(checked.failures));
    try {
      await ops.create(checked.inputs as Record<string, unknown>);
    } catch (err) {
      assert.ok(err instanceof HostError, String(err));
      return err;
    }
    assert.fail("expected the host to refuse the credential");
  }

  it("a refused key names administrators_authorized_keys, that the user's own authorized_keys is ignored, and the icacls line", async () => {
    fleet.reset("h", "server-2025");
    const e = await refusal({ ...fleet.connection("h", "key"), privateKey: strangerKey });
    assert.equal(e.kind, "authenticationFailed");
    assert.ok(e.message.includes(`the host refused user "smbsim" with connection.privateKey`), e.message);
    assert.ok(e.message.includes(`only from ${ADMIN_KEYS}`), e.message);
    assert.ok(e.message.includes("never from the user's own %USERPROFILE%\\.ssh\\authorized_keys"), e.message);
    assert.ok(e.message.includes(ICACLS), e.message);
    assert.ok(!e.message.includes("PRIVATE KEY") && !e.message.includes(strangerKey.split("\n")[1]), "no key material in the message");
    assert.equal(fleet.state("h").counters.runs, 0, "no PowerShell ran");
  });

  it("a refused password keeps the general advice: no key file is named", async () => {
    fleet.reset("h", "server-2025");
    const e = await refusal({ ...fleet.connection("h"), password: "Wrong-Pa55-never-logged" });
    assert.equal(e.kind, "authenticationFailed");
    assert.match(e.message, /the host refused user "smbsim" \(check connection\.user and the password, private key or agent\)$/);
    assert.ok(!e.message.includes("administrators_authorized_keys"), e.message);
    assert.ok(!e.message.includes("Wrong-Pa55-never-logged") && !e.message.includes(SIM_PASSWORD));
  });
});
