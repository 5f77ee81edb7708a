// The loopback range of this test process: a second octet x of 127.x.y.z reserved for the
// process's lifetime, so test files running in parallel (mocha --parallel, one worker process
// per file at a time) never start simulated hosts on each other's addresses.
import * as fs from "node:fs";
import * as path from "node:path";

/** Where the reservations lie: one file per octet, holding the pid of the process that holds it. */
const RESERVATIONS = "/tmp/smbsim-loopback";
/** 127.40.0.0 to 127.239.255.255: clear of 127.0.0.1 and of the few fixed addresses some tests use. */
const FIRST = 40;
const COUNT = 200;

let reserved: number | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it lives, under another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `file` if it is free or held by a process that is gone; exclusive creation decides a race. */
function take(file: string): boolean {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const holder = Number(fs.readFileSync(file, "utf8"));
  if (holder === process.pid) return true;
  if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
  // A stale reservation: remove it by renaming (only one taker wins the rename), then retry once.
  const claim = `${file}.${process.pid}`;
  try {
    fs.renameSync(file, claim);
  } catch {
    return false;
  }
  fs.rmSync(claim, { force: true });
  return take(file);
}

/** This process's second octet, reserved on first use (starting from one its pid suggests). */
export function loopbackOctet(): number {
  if (reserved !== undefined) return reserved;
  fs.mkdirSync(RESERVATIONS, { recursive: true, mode: 0o755 });
  for (let i = 0; i < COUNT; i++) {
    const octet = FIRST + ((process.pid + i) % COUNT);
    if (take(path.join(RESERVATIONS, String(octet)))) {
      reserved = octet;
      const file = path.join(RESERVATIONS, String(octet));
      process.once("exit", () => {
        try {
          if (fs.readFileSync(file, "utf8") === String(process.pid)) fs.rmSync(file);
        } catch {
          // already taken over as stale
        }
      });
      return octet;
    }
  }
  throw new Error(`no free loopback range: ${COUNT} test processes hold one each (${RESERVATIONS})`);
}

/** The address `127.<this process's octet>.<third>.<fourth>`. */
export function loopbackAddress(third: number, fourth: number): string {
  return `127.${loopbackOctet()}.${third}.${fourth}`;
}
