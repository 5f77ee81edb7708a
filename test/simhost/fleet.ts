// Starts simulated Windows hosts: Debian's real OpenSSH sshd on loopback addresses (one
// 127.x.y.z per host), whose ForceCommand hands every request to the host model. Each host has
// its own host key and its own state file; tests change a host out of band through this class.
import { execFileSync, spawn, ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { BOOTSTRAP_SCRIPT, readScript, SIGNING_SCRIPT } from "../../provider/host/protocol";
import { applyGroupPolicy, HostState, loadState, newHostState, PresetName, saveState, SmbOutcome, SmbPeer, smbConnect, stateFile } from "./model";
import { GssSidecar } from "./gssSidecar";
import { Realm, startRealm } from "./kdc";
import { loopbackOctet, loopbackAddress } from "./loopback";
import { initParser, storeTrees } from "./powershell/run";
import { WinrmEmulator } from "./winrmServer";
import { SIM_DNS_DOMAIN, SIM_DOMAIN, WinrmService, WinrmServiceSettings } from "./winrmService";

export const SIM_USER = "smbsim";
/** The simulated administrator's password: test data, checked for leaks like a real secret. */
export const SIM_PASSWORD = "Sim-Adm1n-Pa55word-7c1e";
export const SIM_KEY_PASSPHRASE = "sim-key-passphrase-93b2";
/**
 * A second administrator whose password the rotation tests change. No fleet sets its password
 * when it starts, so a rotation test running beside other tests is not undone by them; and each
 * test process has its own (named by its loopback range), so rotation tests in test files running
 * in parallel never change each other's password.
 */
export const SIM_ROTATION_USER = `smbsim-rot${loopbackOctet()}`;
/** A domain administrator who logs on with Kerberos (fleets started with `kerberos`): a principal of the realm and an account of every host's domain. */
export const SIM_KERBEROS_USER = "smbsim-krb";
export const SIM_KERBEROS_PASSWORD = "Sim-Krb-Pa55word-4d2a";
/** The domain's Kerberos realm, as AD names it: the DNS domain in upper case. */
export const SIM_REALM = SIM_DNS_DOMAIN.toUpperCase();
export const SIM_PORT = 10022;
export const SIM_WINRM_PORT = 15985;
export const SIM_WINRM_HTTPS_PORT = 15986;
const SSHD = "/usr/sbin/sshd";
const SIM_HOME = "/var/lib/smbsim";

export interface HostSpec {
  name: string;
  preset: PresetName;
  /** Its WinRM service configuration where it differs from Windows' defaults (winrmService.ts). */
  winrm?: Partial<WinrmServiceSettings>;
}

export interface SimulatedHost {
  name: string;
  address: string;
  port: number;
  hostKeyFingerprint: string;
  stateFile: string;
  /** Index of the sshd serving this host (its config, key and log files carry it). */
  daemon: number;
}

export interface FleetOptions {
  /** One sshd per host (own host key each, the default) or one sshd per 16 hosts (sharing a key). */
  sharedDaemon?: boolean;
  /** PowerShell start-up delay of every host, in ms (default 0). */
  powershellStartMs?: number;
  /** Also serve each host over WinRM (an emulator in this process): HTTP on SIM_WINRM_PORT, HTTPS on SIM_WINRM_HTTPS_PORT. */
  winrm?: boolean;
  /**
   * With winrm: the hosts are joined to the domain. A throw-away MIT realm (SIM_REALM) stands for
   * its KDC, each host has the SPN HTTP/<name>.sim.example (SimulatedFleet.servicePrincipal) in one
   * keytab held by a real GSSAPI acceptor, and SIM_KERBEROS_USER is a domain administrator.
   */
  kerberos?: boolean;
  /**
   * sshd's MaxStartups, "start:rate:full": beyond `start` unauthenticated connections sshd drops
   * new ones with probability `rate`% rising to 100% at `full` (OpenSSH's default is 10:30:100).
   * Default "2000:30:4000": never drops, whatever the tests' parallelism.
   */
  maxStartups?: string;
}

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

/**
 * The PowerShell interpreter for the forced command's copy: its modules, and of its packages only
 * what it loads (web-tree-sitter's CommonJS build and runtime, the PowerShell grammar,
 * fast-xml-parser's CommonJS bundle for [xml]).
 */
async function copySimulatedPowerShell(simDir: string): Promise<void> {
  fs.mkdirSync(path.join(simDir, "powershell"));
  // The shipped scripts' parsed trees, so that a run never loads the grammar (parsing costs more
  // than a run); a script of another text is parsed by its first run, which leaves its tree here.
  const trees = path.join(simDir, "trees");
  fs.mkdirSync(trees);
  fs.chmodSync(trees, 0o777);
  fs.mkdirSync(path.join(simDir, "compile-cache"));
  fs.chmodSync(path.join(simDir, "compile-cache"), 0o777);
  await initParser();
  storeTrees(trees, [readScript(BOOTSTRAP_SCRIPT), readScript(SIGNING_SCRIPT)]);
  for (const f of fs.readdirSync(path.join(__dirname, "powershell")).filter((f) => f.endsWith(".js"))) {
    fs.copyFileSync(path.join(__dirname, "powershell", f), path.join(simDir, "powershell", f));
  }
  // Each package's directory, found through a file its exports let us resolve (`depth`: how far below the package's directory that file is).
  const packages: Record<string, { resolve: string; depth?: number; files: string[] }> = {
    "web-tree-sitter": { resolve: "web-tree-sitter", files: ["package.json", "web-tree-sitter.cjs", "web-tree-sitter.wasm"] },
    "tree-sitter-powershell": { resolve: "tree-sitter-powershell/tree-sitter-powershell.wasm", files: ["package.json", "tree-sitter-powershell.wasm"] },
    "fast-xml-parser": { resolve: "fast-xml-parser", depth: 1, files: ["package.json", "lib/fxp.cjs"] },
  };
  for (const [name, { resolve, depth, files }] of Object.entries(packages)) {
    let from = path.dirname(require.resolve(resolve));
    for (let i = 0; i < (depth ?? 0); i++) from = path.dirname(from);
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(simDir, "node_modules", name, f)), { recursive: true });
      fs.copyFileSync(path.join(from, f), path.join(simDir, "node_modules", name, f));
    }
  }
}

/**
 * Changes the machine's accounts (useradd, usermod, chpasswd) under one lock: these tools refuse to
 * run ("cannot lock /etc/passwd") while another test process running in parallel holds theirs.
 */
function accounts(cmd: string, args: string[], input?: string): string {
  return run("flock", ["--timeout", "60", "/run/lock/smbsim-accounts", cmd, ...args], input);
}

/** Root-only, idempotent machine set-up: the login user and sshd's privilege separation dir. */
function prepareMachine(): void {
  if (!fs.existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install Debian's openssh-server (apt-get install openssh-server), as .ci/run does`);
  }
  for (const user of [SIM_USER, SIM_ROTATION_USER]) {
    try {
      run("id", ["-u", user]);
    } catch {
      accounts("useradd", ["--system", "--no-create-home", "--home-dir", SIM_HOME, "--shell", "/bin/sh", user]);
    }
  }
  // sshd complains on stderr about a missing home directory; Windows OpenSSH has one.
  fs.mkdirSync(SIM_HOME, { recursive: true, mode: 0o755 });
  for (const user of [SIM_USER, SIM_ROTATION_USER]) accounts("usermod", ["-d", SIM_HOME, user]);
  accounts("chpasswd", [], `${SIM_USER}:${SIM_PASSWORD}\n`);
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
}

function canExecuteAsSimUser(file: string): boolean {
  try {
    run("su", ["-s", "/bin/sh", SIM_USER, "-c", `test -x "$0"`, file]);
    return true;
  } catch {
    return false;
  }
}

/** A distinct 127.x.y.z range per test process (loopback.ts reserves it), so parallel runs never collide. */
function addressFor(index: number): string {
  return loopbackAddress(Math.floor(index / 250), (index % 250) + 1);
}

async function waitForPort(address: string, port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: address, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd did not start listening on ${address}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class SimulatedFleet {
  readonly hosts = new Map<string, SimulatedHost>();
  readonly clientKey: string;
  readonly encryptedClientKey: string;
  private readonly daemons: ChildProcess[] = [];
  readonly winrm = new Map<string, WinrmEmulator>();
  readonly winrmHttps = new Map<string, WinrmEmulator>();
  /** Each host's WinRM configuration and accounts, shared by its two listeners. */
  readonly winrmServices = new Map<string, WinrmService>();
  certificatePem = "";
  certificateFingerprint = "";
  /** With `kerberos`: the domain's KDC, and the hosts' GSSAPI acceptor. */
  realm?: Realm;
  kerberosAcceptor?: GssSidecar;

  private constructor(
    readonly workDir: string,
    readonly stateDir: string,
  ) {
    this.clientKey = fs.readFileSync(path.join(workDir, "client_key"), "utf8");
    this.encryptedClientKey = fs.readFileSync(path.join(workDir, "client_key_enc"), "utf8");
  }

  static async start(specs: HostSpec[], options: FleetOptions = {}): Promise<SimulatedFleet> {
    prepareMachine();
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "smbsim-"));
    fs.chmodSync(workDir, 0o755);
    const stateDir = path.join(workDir, "state");
    fs.mkdirSync(stateDir, { mode: 0o777 });
    fs.chmodSync(stateDir, 0o777);
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sim-client", "-f", path.join(workDir, "client_key")]);
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", SIM_KEY_PASSPHRASE, "-C", "sim-client-enc", "-f", path.join(workDir, "client_key_enc")]);
    fs.writeFileSync(
      path.join(workDir, "authorized_keys"),
      fs.readFileSync(path.join(workDir, "client_key.pub"), "utf8") + fs.readFileSync(path.join(workDir, "client_key_enc.pub"), "utf8"),
      { mode: 0o644 },
    );
    // The forced command runs as the login user, who may not reach this checkout: give it a copy.
    const simDir = path.join(workDir, "simhost");
    fs.mkdirSync(simDir);
    for (const f of ["forcedCommand.js", "windowsHost.js", "commandLine.js", "model.js", "windowsSurface.js"]) {
      fs.copyFileSync(path.join(__dirname, f), path.join(simDir, f));
    }
    await copySimulatedPowerShell(simDir);
    const node = canExecuteAsSimUser(process.execPath) ? process.execPath : run("sh", ["-c", "command -v node"]).trim();

    const fleet = new SimulatedFleet(workDir, stateDir);
    // OpenSSH listens on at most 16 sockets (MAX_LISTEN_SOCKS), so "shared" means 16 hosts per sshd.
    const perDaemon = options.sharedDaemon ? 16 : 1;
    const groups = Array.from({ length: Math.ceil(specs.length / perDaemon) }, (_, g) => specs.slice(g * perDaemon, (g + 1) * perDaemon));
    let index = 0;
    for (const [g, group] of groups.entries()) {
      const keyFile = path.join(workDir, `host_key_${g}`);
      run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `sim-host-${g}`, "-f", keyFile]);
      const fingerprint = run("ssh-keygen", ["-l", "-f", `${keyFile}.pub`]).split(" ")[1];
      const listen: string[] = [];
      for (const spec of group) {
        const address = addressFor(index++);
        const file = stateFile(stateDir, address, SIM_PORT);
        saveState(file, { ...newHostState(spec.preset), powershellStartMs: options.powershellStartMs ?? 0 });
        fleet.hosts.set(spec.name, { name: spec.name, address, port: SIM_PORT, hostKeyFingerprint: fingerprint, stateFile: file, daemon: g });
        listen.push(`ListenAddress ${address}:${SIM_PORT}`);
      }
      const config = path.join(workDir, `sshd_config_${g}`);
      fs.writeFileSync(
        config,
        [
          ...listen,
          `HostKey ${keyFile}`,
          `PidFile ${path.join(workDir, `sshd_${g}.pid`)}`,
          "UsePAM no",
          "PasswordAuthentication yes",
          "KbdInteractiveAuthentication no",
          "PubkeyAuthentication yes",
          `AuthorizedKeysFile ${path.join(workDir, "authorized_keys")}`,
          "StrictModes no",
          `AllowUsers ${SIM_USER} ${SIM_ROTATION_USER}`,
          "PermitRootLogin no",
          `MaxStartups ${options.maxStartups ?? "2000:30:4000"}`,
          "MaxAuthTries 10",
          "LogLevel VERBOSE",
          // Node's compile cache spares each run (a process of its own) compiling the interpreter anew.
          `ForceCommand NODE_COMPILE_CACHE=${path.join(simDir, "compile-cache")} exec ${node} ${path.join(simDir, "forcedCommand.js")} ${stateDir}`,
          "",
        ].join("\n"),
      );
      const log = fs.openSync(path.join(workDir, `sshd_${g}.log`), "a");
      const daemon = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", log, log] });
      fleet.daemons.push(daemon);
      fs.closeSync(log);
      for (const spec of group) {
        const h = fleet.hosts.get(spec.name)!;
        await waitForPort(h.address, h.port, 10_000);
      }
    }
    if (options.winrm) {
      // One self-signed certificate naming every host's address, as a WinRM HTTPS listener's.
      const key = path.join(workDir, "winrm_key.pem");
      const cert = path.join(workDir, "winrm_cert.pem");
      const san = [...fleet.hosts.values()].map((h) => `IP:${h.address}`).join(",");
      run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=simhost", "-addext", `subjectAltName=${san}`, "-keyout", key, "-out", cert]);
      fleet.certificatePem = fs.readFileSync(cert, "utf8");
      fleet.certificateFingerprint = new crypto.X509Certificate(fleet.certificatePem).fingerprint256;
      const tls = { key: fs.readFileSync(key, "utf8"), cert: fleet.certificatePem };
      if (options.kerberos) {
        const realm = (fleet.realm = await startRealm({ realm: SIM_REALM }));
        await realm.addPrincipal(SIM_KERBEROS_USER, SIM_KERBEROS_PASSWORD);
        const keytab = path.join(workDir, "http.keytab");
        for (const spec of specs) {
          const spn = SimulatedFleet.servicePrincipal(spec.name);
          await realm.addPrincipal(spn);
          await realm.keytab(spn, keytab);
        }
        fleet.kerberosAcceptor = await GssSidecar.start({ env: realm.env, keytab });
      }
      for (const spec of specs) {
        const h = fleet.host(spec.name);
        // SIM_USER is the host's built-in Administrator, renamed as hardening guides advise; the
        // rotation user is a domain administrator, which a bare name reaches too (KB 163632). The
        // Kerberos user has the UPN Active Directory Users and Computers gives a new account.
        const service = new WinrmService(
          [
            { user: SIM_USER, password: SIM_PASSWORD, kind: "builtinAdministrator" },
            { user: SIM_ROTATION_USER, domain: SIM_DOMAIN, kind: "domainAdministrator" },
            ...(options.kerberos ? [{ user: SIM_KERBEROS_USER, domain: SIM_DOMAIN, upn: `${SIM_KERBEROS_USER}@${SIM_DNS_DOMAIN}`, password: SIM_KERBEROS_PASSWORD, kind: "domainAdministrator" as const }] : []),
          ],
          spec.winrm,
        );
        fleet.winrmServices.set(h.name, service);
        const common = { address: h.address, stateFile: h.stateFile, service, kerberos: fleet.kerberosAcceptor };
        fleet.winrm.set(h.name, await WinrmEmulator.start({ ...common, port: SIM_WINRM_PORT }));
        fleet.winrmHttps.set(h.name, await WinrmEmulator.start({ ...common, port: SIM_WINRM_HTTPS_PORT, tls }));
      }
    }
    return fleet;
  }

  host(name: string): SimulatedHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no simulated host ${name}`);
    return h;
  }

  state(name: string): HostState {
    return loadState(this.host(name).stateFile);
  }

  /**
   * A freshly installed host of this preset: settings, faults, counters and the record all start
   * anew (the PowerShell start-up delay of the fleet is kept).
   */
  reset(name: string, preset: PresetName): HostState {
    const file = this.host(name).stateFile;
    const state = { ...newHostState(preset), powershellStartMs: loadState(file).powershellStartMs };
    saveState(file, state);
    return state;
  }

  /**
   * Group Policy is applied again, as by `gpupdate /force`, a background refresh, the 16-hour
   * security re-apply, or a reboot: its Security Options overwrite what was set locally.
   */
  refreshPolicy(name: string): HostState {
    return this.change(name, (s) => applyGroupPolicy(s));
  }

  /** The host restarts: Group Policy is applied at boot, as by refreshPolicy, and the SMB services start on the registry's values (nothing else in the model changes across a boot). */
  reboot(name: string): HostState {
    return this.change(name, (s) => {
      applyGroupPolicy(s);
      delete s.running;
    });
  }

  /** Changes a host out of band (drift, faults, Group Policy) as an administrator on it would. */
  change(name: string, edit: (state: HostState) => void): HostState {
    const file = this.host(name).stateFile;
    const state = loadState(file);
    edit(state);
    saveState(file, state);
    return state;
  }

  /**
   * An SMB session between a host and a peer (a NAS its client reaches, a scanner that connects
   * to its shares), decided by the host's settings as Windows would: it may fail with the error
   * users see, and the host's SMB audit may log it.
   */
  smbSession(name: string, peer: SmbPeer): SmbOutcome {
    let outcome: SmbOutcome | undefined;
    this.change(name, (s) => (outcome = smbConnect(s, peer)));
    return outcome!;
  }

  /** Connection inputs for the resource, authenticating with the password or the key. */
  connection(name: string, auth: "password" | "key" | "encryptedKey" | "winrm" | "winrmHttps" | "kerberos" | "kerberosHttps" = "password"): Record<string, unknown> {
    const h = this.host(name);
    if (auth === "kerberos" || auth === "kerberosHttps") {
      // The hosts are addressed by IP, so the SPN is named; the KDC is named too (no krb5.conf here).
      if (!this.realm) throw new Error("the fleet was not started with kerberos: true");
      const kerberos = {
        transport: "winrm",
        authentication: "kerberos",
        host: h.address,
        user: `${SIM_KERBEROS_USER}@${SIM_REALM}`,
        password: SIM_KERBEROS_PASSWORD,
        servicePrincipal: SimulatedFleet.servicePrincipal(name),
        kdc: [`${this.realm.kdcAddress}:${this.realm.port}`],
      };
      return auth === "kerberos"
        ? { ...kerberos, port: SIM_WINRM_PORT }
        : { ...kerberos, https: true, port: SIM_WINRM_HTTPS_PORT, certificateFingerprint: this.certificateFingerprint };
    }
    if (auth === "winrm") return { transport: "winrm", host: h.address, port: SIM_WINRM_PORT, user: SIM_USER, password: SIM_PASSWORD };
    if (auth === "winrmHttps") {
      return { transport: "winrm", https: true, host: h.address, port: SIM_WINRM_HTTPS_PORT, user: SIM_USER, password: SIM_PASSWORD, certificateFingerprint: this.certificateFingerprint };
    }
    const base = { host: h.address, port: h.port, user: SIM_USER, hostKey: h.hostKeyFingerprint };
    if (auth === "key") return { ...base, privateKey: this.clientKey };
    if (auth === "encryptedKey") return { ...base, privateKey: this.encryptedClientKey, passphrase: SIM_KEY_PASSPHRASE };
    return { ...base, password: SIM_PASSWORD };
  }

  /** An administrator changes a login's password: for SSH (the system account) and every WinRM emulator. */
  setPassword(user: string, password: string): void {
    accounts("chpasswd", [], `${user}:${password}\n`);
    for (const service of this.winrmServices.values()) service.setPassword(user, password);
  }

  /**
   * The host is rebuilt with a new SSH host key: a new key file, then SIGHUP, on which sshd
   * re-executes itself and loads it. Returns the new fingerprint (every host of that sshd has it).
   */
  async rotateHostKey(name: string): Promise<string> {
    const h = this.host(name);
    const keyFile = path.join(this.workDir, `host_key_${h.daemon}`);
    const fresh = `${keyFile}.new`;
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `sim-host-${h.daemon}-rotated`, "-f", fresh]);
    fs.renameSync(fresh, keyFile);
    fs.renameSync(`${fresh}.pub`, `${keyFile}.pub`);
    const fingerprint = run("ssh-keygen", ["-l", "-f", `${keyFile}.pub`]).split(" ")[1];
    const logFile = path.join(this.workDir, `sshd_${h.daemon}.log`);
    const logged = fs.readFileSync(logFile, "utf8").length;
    this.daemons[h.daemon].kill("SIGHUP");
    // sshd logs "Server listening" again once the re-executed daemon has bound its sockets.
    const until = Date.now() + 10_000;
    while (!/Server listening/.test(fs.readFileSync(logFile, "utf8").slice(logged))) {
      if (Date.now() > until) throw new Error(`sshd ${h.daemon} did not restart after SIGHUP`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const other of this.hosts.values()) if (other.daemon === h.daemon) other.hostKeyFingerprint = fingerprint;
    return fingerprint;
  }

  /** Everything the sshd daemons logged, for tests that check what reached the server. */
  sshdLog(): string {
    return fs
      .readdirSync(this.workDir)
      .filter((f) => f.startsWith("sshd_") && f.endsWith(".log"))
      .map((f) => fs.readFileSync(path.join(this.workDir, f), "utf8"))
      .join("");
  }

  /** The SPN a host's WinRM registers in the simulated domain: HTTP/<name>.sim.example (lower case). */
  static servicePrincipal(name: string): string {
    return `HTTP/${name.toLowerCase()}.${SIM_DNS_DOMAIN}`;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.winrm.values(), ...this.winrmHttps.values()].map((w) => w.stop()));
    await this.kerberosAcceptor?.dispose();
    await this.realm?.stop();
    await Promise.all(
      this.daemons.map(
        (d) =>
          new Promise<void>((resolve) => {
            if (d.exitCode !== null || d.signalCode !== null) return resolve();
            d.once("exit", () => resolve());
            d.kill("SIGTERM");
          }),
      ),
    );
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
