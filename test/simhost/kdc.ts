// A throw-away MIT Kerberos realm on loopback for the Kerberos tests: Debian's krb5kdc with its own
// krb5.conf, kdc.conf, database, stash and replay cache in a temporary directory, on a free TCP and
// UDP port of one 127.x.y.z address, principals and keytabs made with kadmin.local, and the MIT
// client tools (kinit, kvno, klist) run against it. One realm per test file: started in `before`,
// stopped in `after`, which kills the KDC by its PID and removes the directory. Modelled on MIT's
// own per-script test realms; nothing here leaves loopback or touches /etc.
import { ChildProcess, spawn } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** The enctypes the realm issues and accepts: AES with HMAC-SHA1-96 only, as a current AD domain. */
export const REALM_ENCTYPES = ["aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96"];

const KDC = "/usr/sbin/krb5kdc";
const KDB5_UTIL = "/usr/sbin/kdb5_util";
const KADMIN_LOCAL = "/usr/sbin/kadmin.local";

export interface RealmOptions {
  /** The realm name; `CORP.TEST` unless told. Its DNS domain is the lowercase name. */
  realm?: string;
  /** The loopback address the KDC listens on (127.x.y.z only); 127.0.0.1 unless told. */
  address?: string;
  /** Passed to `krb5kdc -T`: the KDC's clock runs this many seconds ahead (negative: behind). */
  timeOffsetSeconds?: number;
  /** Extra `[libdefaults]` lines for krb5.conf (`clockskew = 60`, ...). */
  libdefaults?: Record<string, string>;
}

export interface KinitOptions {
  /** The principal's password, given to kinit on stdin. */
  password?: string;
  /** A keytab to take the key from (`kinit -k -t`). */
  keytab?: string;
  /** The ccache to write, `FILE:<path>` or a path; the realm's default (env.KRB5CCNAME) unless told. */
  ccache?: string;
  /** Requested ticket lifetime in kinit's syntax (`5s`, `10m`). */
  lifetime?: string;
}

/** What an MIT tool printed, and how it ended. */
export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An MIT tool that failed: its exit code and MIT's own message. */
export class KerberosToolError extends Error {
  constructor(
    readonly command: string,
    readonly result: ToolResult,
  ) {
    super(`${command} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Runs a program with the given environment and optional stdin; never throws for a non-zero exit. */
export function runTool(program: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 20_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => undefined); // a tool that exits before reading its stdin
    child.stdin.end(input ?? "");
  });
}

/** Every realm this process started and has not stopped: its KDC killed and its directory removed if the process exits first. */
const liveRealms = new Set<Realm>();
process.once("exit", () => {
  for (const realm of liveRealms) realm.abandon();
});

/** A port free for both TCP and UDP on `address` (krb5kdc listens on both). */
async function freeTcpUdpPort(address: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, address, resolve);
    });
    const port = (server.address() as net.AddressInfo).port;
    const udp = dgram.createSocket("udp4");
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, address, () => resolve(true));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => {
      try {
        udp.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
    if (udpFree) return port;
  }
  throw new Error(`no port free for both TCP and UDP on ${address}`);
}

/** A realm's principal name with its realm (`alice` -> `alice@CORP.TEST`). */
function qualified(principal: string, realm: string): string {
  return principal.includes("@") ? principal : `${principal}@${realm}`;
}

/** kadmin.local's query language splits on blanks and quotes; the tests' names and passwords need neither. */
function plainWord(value: string, what: string): string {
  if (!/^[A-Za-z0-9._\-/@+=:!#%^*,]+$/.test(value)) throw new Error(`${what} must be one plain word for kadmin.local: ${JSON.stringify(value)}`);
  return value;
}

export class Realm {
  private kdc: ChildProcess | null = null;
  private kdcExit: Promise<void> = Promise.resolve();
  private removed = false;

  private constructor(
    /** The realm name (`CORP.TEST`). */
    readonly realm: string,
    /** The temporary directory holding everything: configuration, database, keytabs, caches. */
    readonly dir: string,
    /** The loopback address the KDC listens on. */
    readonly kdcAddress: string,
    /** The KDC's TCP and UDP port. */
    readonly port: number,
  ) {}

  /** The realm's DNS domain: its name in lowercase (`corp.test`). */
  get domain(): string {
    return this.realm.toLowerCase();
  }

  /**
   * The KRB5_* variables a process needs to use this realm and only it: the configuration files,
   * a default FILE ccache, default acceptor and client keytabs, the replay cache directory.
   */
  get env(): Record<string, string> {
    return {
      KRB5_CONFIG: path.join(this.dir, "krb5.conf"),
      KRB5_KDC_PROFILE: path.join(this.dir, "kdc.conf"),
      KRB5CCNAME: `FILE:${path.join(this.dir, "ccache")}`,
      KRB5_KTNAME: `FILE:${path.join(this.dir, "krb5.keytab")}`,
      KRB5_CLIENT_KTNAME: `FILE:${path.join(this.dir, "client.keytab")}`,
      KRB5RCACHEDIR: path.join(this.dir, "rcache"),
    };
  }

  /** process.env without any inherited KRB5* variable, plus this realm's and `extra`. */
  childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KRB5")));
    return { ...base, ...this.env, ...extra };
  }

  /** The KDC's log (kdc.conf [logging]), every start appended. */
  kdcLog(): string {
    const file = path.join(this.dir, "kdc.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  }

  /** Whether the KDC process is running. */
  get running(): boolean {
    return this.kdc !== null;
  }

  /** Creates a throw-away realm and starts its KDC. */
  static async start(options: RealmOptions = {}): Promise<Realm> {
    const realmName = options.realm ?? "CORP.TEST";
    if (!/^[A-Z0-9][A-Z0-9.-]*$/.test(realmName)) throw new Error(`realm name ${realmName}: upper case letters, digits, dots, hyphens`);
    const address = options.address ?? "127.0.0.1";
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) throw new Error(`the KDC listens on loopback only (127.x.y.z), not ${address}`);
    const port = await freeTcpUdpPort(address);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdc-"));
    const realm = new Realm(realmName, dir, address, port);
    liveRealms.add(realm);
    try {
      fs.mkdirSync(path.join(dir, "rcache"));
      realm.writeConfig(options.libdefaults ?? {});
      fs.writeFileSync(path.join(dir, "kadm5.acl"), "");
      // -s writes the stash so krb5kdc and kadmin.local never ask for the master password.
      const created = await runTool(KDB5_UTIL, ["create", "-s", "-r", realmName, "-P", "master-key-for-tests"], realm.childEnv());
      if (created.code !== 0) throw new KerberosToolError("kdb5_util create", created);
      await realm.startKdc({ timeOffsetSeconds: options.timeOffsetSeconds });
      return realm;
    } catch (err) {
      await realm.stop();
      throw err;
    }
  }

  private writeConfig(libdefaults: Record<string, string>): void {
    const kdc = `${this.kdcAddress}:${this.port}`;
    const enctypes = REALM_ENCTYPES.join(" ");
    const extra = Object.entries(libdefaults).map(([k, v]) => `  ${k} = ${v}\n`).join("");
    fs.writeFileSync(
      path.join(this.dir, "krb5.conf"),
      `[libdefaults]
  default_realm = ${this.realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  permitted_enctypes = ${enctypes}
  default_tkt_enctypes = ${enctypes}
  default_tgs_enctypes = ${enctypes}
${extra}
[realms]
  ${this.realm} = {
    kdc = ${kdc}
    primary_kdc = ${kdc}
  }

[domain_realm]
  .${this.domain} = ${this.realm}
  ${this.domain} = ${this.realm}
`,
    );
    // kdc_listen / kdc_tcp_listen are the 1.15+ names (kdc_ports / kdc_tcp_ports before); an
    // address:port entry binds that address only. A KDC that cannot bind fails to start.
    fs.writeFileSync(
      path.join(this.dir, "kdc.conf"),
      `[kdcdefaults]
  kdc_listen = ${kdc}
  kdc_tcp_listen = ${kdc}

[realms]
  ${this.realm} = {
    database_name = ${path.join(this.dir, "principal")}
    key_stash_file = ${path.join(this.dir, "stash")}
    acl_file = ${path.join(this.dir, "kadm5.acl")}
    supported_enctypes = ${REALM_ENCTYPES.map((e) => `${e}:normal`).join(" ")}
    default_principal_flags = +preauth
  }

[logging]
  kdc = FILE:${path.join(this.dir, "kdc.log")}
`,
    );
  }

  /**
   * Starts krb5kdc in the foreground (`-n`) and waits for its log to say it serves; again after
   * `stopKdc()` for KDC-down-then-up tests, optionally with its clock offset (`-T`).
   */
  async startKdc(options: { timeOffsetSeconds?: number } = {}): Promise<void> {
    if (this.kdc) throw new Error("the KDC is running");
    const args = ["-n", "-r", this.realm, "-P", path.join(this.dir, "kdc.pid")];
    if (options.timeOffsetSeconds) args.push("-T", String(Math.trunc(options.timeOffsetSeconds)));
    const logBefore = this.kdcLog().length;
    const child = spawn(KDC, args, { env: this.childEnv(), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    let exited = false;
    this.kdcExit = new Promise<void>((resolve) =>
      child.once("exit", () => {
        exited = true;
        resolve();
      }),
    );
    this.kdc = child;
    const until = Date.now() + 10_000;
    const serving = new RegExp(`krb5kdc\\[${child.pid}\\]\\(info\\): commencing operation`);
    while (!serving.test(this.kdcLog().slice(logBefore))) {
      if (exited || Date.now() > until) {
        const log = this.kdcLog().slice(logBefore);
        await this.stopKdc();
        throw new Error(`krb5kdc did not start on ${this.kdcAddress}:${this.port}: ${stderr.trim()} ${log.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops the KDC (SIGTERM by its PID, SIGKILL after 3 s) and waits for it to exit; the realm stays. */
  async stopKdc(): Promise<void> {
    const child = this.kdc;
    if (!child) return;
    this.kdc = null;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await this.kdcExit;
      clearTimeout(timer);
    }
  }

  /** Stops the KDC and removes the realm's directory. Safe to call twice. */
  async stop(): Promise<void> {
    await this.stopKdc();
    if (!this.removed) {
      this.removed = true;
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
    liveRealms.delete(this);
  }

  /** At process exit, synchronously: SIGKILL to the KDC, the directory removed. */
  abandon(): void {
    this.kdc?.kill("SIGKILL");
    this.kdc = null;
    if (!this.removed) {
      this.removed = true;
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Runs one kadmin.local query against the realm's database; throws on an error message. */
  async kadmin(query: string): Promise<string> {
    const r = await runTool(KADMIN_LOCAL, ["-r", this.realm, "-q", query], this.childEnv());
    // kadmin.local exits 0 after a failed query; its errors name the query's command and say "while".
    const failed = r.stderr.split("\n").find((l) => /^\w+: .* while /.test(l) || /^kadmin\.local: /.test(l));
    if (r.code !== 0 || failed) throw new KerberosToolError(`kadmin.local -q "${query.replace(/-pw \S+/, "-pw ***")}"`, r);
    return r.stdout;
  }

  /** Adds a principal with this password, or with a random key when none is given. Returns its full name. */
  async addPrincipal(principal: string, password?: string): Promise<string> {
    const name = qualified(plainWord(principal, "principal"), this.realm);
    await this.kadmin(password === undefined ? `addprinc -randkey ${name}` : `addprinc -pw ${plainWord(password, "password")} ${name}`);
    return name;
  }

  /**
   * Writes the principal's keys to a keytab (added to the file if it exists). Without `norandkey`
   * kadmin.local gives the principal new random keys first (kvno + 1): earlier keytabs go stale.
   */
  async keytab(principal: string, file: string, options: { norandkey?: boolean } = {}): Promise<string> {
    const name = qualified(plainWord(principal, "principal"), this.realm);
    const out = await this.kadmin(`ktadd -k ${plainWord(file, "keytab path")}${options.norandkey ? " -norandkey" : ""} ${name}`);
    if (!/added to keytab/.test(out)) throw new Error(`ktadd wrote no key for ${name}: ${out}`);
    return file;
  }

  /** Runs an MIT client tool (kvno, klist, kdestroy, ...) in this realm's environment. */
  tool(program: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<ToolResult> {
    return runTool(program, args, this.childEnv(options.env), options.input);
  }

  /**
   * `kinit` with a password (on stdin) or a keytab into a ccache; throws KerberosToolError with
   * MIT's message on failure. Returns the ccache name.
   */
  async kinit(principal: string, options: KinitOptions): Promise<string> {
    const name = qualified(principal, this.realm);
    const ccache = options.ccache ? (/^[A-Z]+:/.test(options.ccache) ? options.ccache : `FILE:${options.ccache}`) : this.env.KRB5CCNAME;
    const args = ["-c", ccache];
    if (options.lifetime) args.push("-l", options.lifetime);
    if (options.keytab) args.push("-k", "-t", options.keytab);
    else if (options.password === undefined) throw new Error("kinit needs a password or a keytab");
    args.push(name);
    const r = await runTool("/usr/bin/kinit", args, this.childEnv(), options.keytab ? undefined : `${options.password}\n`);
    if (r.code !== 0) throw new KerberosToolError(`kinit ${name}`, r);
    return ccache;
  }
}

/** Starts a throw-away realm (see Realm.start). */
export function startRealm(options: RealmOptions = {}): Promise<Realm> {
  return Realm.start(options);
}
