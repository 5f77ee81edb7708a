// krb5.conf, read as MIT's profile library reads it (krb5.conf(5), "Structure"): [sections] of
// "tag = value" relations and "tag = { ... }" subsections nested to any depth, comments from "#"
// or ";" at the start of a line, "include FILE" and "includedir DIR" at the start of a line (an
// included file begins with its own section header), a "*" after a section's "]", a tag or a
// subsection's "}" marking it final. KRB5_CONFIG is a colon-separated list of files, read in
// order, missing ones skipped; a lookup takes the values of every file until one marks the path
// final. Finality works across KRB5_CONFIG files only, as up to MIT 1.21 (1.22 also applies it
// within a file); a final mark on a plain relation, new in 1.22, is honoured the same way.
// What the Kerberos client needs from it: the default realm, whether to look KDCs up in DNS, the
// KDCs of a realm, and the realm of a host name ([domain_realm]).
import * as fs from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";

/** A subsection: its relations in file order; a value is a string or a nested subsection. */
export interface ProfileNode {
  final: boolean;
  relations: { tag: string; value: string | ProfileNode; final: boolean }[];
}

export class Krb5ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Krb5ConfigError";
  }
}

/** How included files are read; the file system unless a test gives another. */
export interface ProfileFiles {
  readFile(file: string): string;
  readDir(dir: string): string[];
}

const DISK: ProfileFiles = {
  readFile: (f) => fs.readFileSync(f, "utf8"),
  readDir: (d) => fs.readdirSync(d),
};

const MAX_INCLUDE_DEPTH = 5;

/** A quoted value's escapes (\n \t \b \\ and \"), as the profile library reads them. */
function unquote(v: string, where: string): string {
  if (!v.startsWith('"')) return v;
  let out = "";
  for (let i = 1; i < v.length; i++) {
    const c = v[i];
    if (c === '"') {
      if (v.slice(i + 1).trim() !== "") throw new Krb5ConfigError(`${where}: text after a quoted value`);
      return out;
    }
    if (c === "\\" && i + 1 < v.length) {
      const n = v[++i];
      out += n === "n" ? "\n" : n === "t" ? "\t" : n === "b" ? "\b" : n;
    } else out += c;
  }
  throw new Krb5ConfigError(`${where}: unterminated quoted value`);
}

/** includedir reads names of letters, digits, "-" and "_", and names ending in ".conf" not starting with "." (krb5.conf(5), 1.15). */
const INCLUDABLE = /^([A-Za-z0-9_-]+|[^.].*\.conf)$/;
/** A directory named in KRB5_CONFIG contributes names of letters, digits, "-" and "_" only (krb5.conf(5), 1.14). */
const CONFIG_DIR_FILE = /^[A-Za-z0-9_-]+$/;

/**
 * Parses one file's text into `root` (a map of section name -> node), following include and
 * includedir. `source` names the file in errors as "file:line".
 */
function parseProfile(
  text: string,
  source: string,
  root: Map<string, ProfileNode> = new Map(),
  files: ProfileFiles = DISK,
  depth = 0,
): Map<string, ProfileNode> {
  let section: ProfileNode | undefined;
  const stack: ProfileNode[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const where = `${source}:${index + 1}`;
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    // "module PATH:RESIDUAL" takes configuration from a plugin, which this reader cannot load;
    // the line is passed over, and what the module would give must be configured explicitly.
    if (/^module\s/.test(raw)) return;
    const directive = /^(include|includedir)\s+(.+)$/.exec(raw);
    if (directive && !raw.startsWith(" ") && !raw.startsWith("\t")) {
      if (stack.length > 0) throw new Krb5ConfigError(`${where}: ${directive[1]} inside a subsection`);
      if (depth >= MAX_INCLUDE_DEPTH) throw new Krb5ConfigError(`${where}: includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
      const target = directive[2].trim();
      if (!path.isAbsolute(target)) throw new Krb5ConfigError(`${where}: ${directive[1]} needs an absolute path, not "${target}"`);
      const names =
        directive[1] === "include"
          ? [target]
          : read(() => files.readDir(target), where, target)
              .filter((n) => INCLUDABLE.test(n))
              .sort()
              .map((n) => path.join(target, n));
      for (const file of names)
        parseProfile(
          read(() => files.readFile(file), where, file),
          file,
          root,
          files,
          depth + 1,
        );
      section = undefined; // an included file ends the current section, as in MIT's parser
      return;
    }
    if (line.startsWith("[")) {
      const m = /^\[([^\]]+)\](\*?)\s*$/.exec(line);
      if (!m) throw new Krb5ConfigError(`${where}: malformed section header "${line}"`);
      if (stack.length > 0) throw new Krb5ConfigError(`${where}: section header inside an unclosed "{"`);
      const name = m[1].trim();
      section = root.get(name);
      if (!section) root.set(name, (section = { final: false, relations: [] }));
      if (m[2]) section.final = true;
      return;
    }
    if (line.startsWith("}")) {
      const node = stack.pop();
      if (!node) throw new Krb5ConfigError(`${where}: "}" without a matching "{"`);
      const rest = line.slice(1).trim();
      if (rest === "*") node.final = true;
      else if (rest !== "") throw new Krb5ConfigError(`${where}: unexpected text after "}"`);
      return;
    }
    const current = stack[stack.length - 1] ?? section;
    if (!current) throw new Krb5ConfigError(`${where}: relation outside any [section]`);
    const m = /^([^=\s*]+)\s*(\*?)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Krb5ConfigError(`${where}: expected "tag = value", found "${line}"`);
    const [, tag, star, value] = m;
    if (value === "{") {
      const node: ProfileNode = { final: star === "*", relations: [] };
      current.relations.push({ tag, value: node, final: star === "*" });
      stack.push(node);
      return;
    }
    current.relations.push({ tag, value: unquote(value.trim(), where), final: star === "*" });
  });
  if (stack.length > 0) throw new Krb5ConfigError(`${source}: ${stack.length} "{" never closed`);
  return root;
}

function read<T>(f: () => T, where: string, target: string): T {
  try {
    return f();
  } catch (err) {
    throw new Krb5ConfigError(`${where}: cannot read included ${target} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** A krb5 configuration: the parsed files in KRB5_CONFIG order. */
export class Krb5Config {
  constructor(readonly files: { source: string; sections: Map<string, ProfileNode> }[]) {}

  /**
   * Every string value at `section`, then the tags of `path` (e.g. "realms", ["CORP.EXAMPLE",
   * "kdc"]), across files in order, stopping after the first file in which the section or a node
   * on the path is final, or in which the relation found is final.
   */
  values(section: string, ...tagPath: string[]): string[] {
    const out: string[] = [];
    for (const file of this.files) {
      const root = file.sections.get(section);
      if (!root) continue;
      let nodes: ProfileNode[] = [root];
      let final = root.final;
      for (const [i, tag] of tagPath.entries()) {
        const last = i === tagPath.length - 1;
        const next: ProfileNode[] = [];
        for (const node of nodes) {
          for (const r of node.relations) {
            if (r.tag !== tag) continue;
            if (last) {
              if (typeof r.value === "string") out.push(r.value);
            } else if (typeof r.value !== "string") next.push(r.value);
            if (r.final || (typeof r.value !== "string" && r.value.final)) final = true;
          }
        }
        nodes = next;
      }
      if (final) break;
    }
    return out;
  }

  /** The first value, as MIT's profile_get_string gives it. */
  get(section: string, ...tagPath: string[]): string | undefined {
    return this.values(section, ...tagPath)[0];
  }

  /** The tags directly under a path (e.g. the realms named in [realms]), first seen first. */
  tags(section: string, ...tagPath: string[]): string[] {
    const out = new Set<string>();
    for (const file of this.files) {
      let nodes = file.sections.has(section) ? [file.sections.get(section)!] : [];
      for (const tag of tagPath)
        nodes = nodes.flatMap((n) => n.relations.filter((r) => r.tag === tag && typeof r.value !== "string").map((r) => r.value as ProfileNode));
      for (const n of nodes) for (const r of n.relations) out.add(r.tag);
    }
    return [...out];
  }
}

/** A configuration from texts (tests, or configuration given inline). */
export function parseKrb5Config(files: { source: string; text: string }[], io: ProfileFiles = DISK): Krb5Config {
  return new Krb5Config(files.map((f) => ({ source: f.source, sections: parseProfile(f.text, f.source, new Map(), io) })));
}

/**
 * The configuration MIT would read: the files of KRB5_CONFIG (colon-separated; a directory there
 * stands for its files named with letters, digits, "-" and "_", in order), else /etc/krb5.conf;
 * files that do not exist are skipped; none at all gives an empty configuration.
 */
export function loadKrb5Config(env: NodeJS.ProcessEnv = process.env, io: ProfileFiles = DISK): Krb5Config {
  const list = (env.KRB5_CONFIG ?? "/etc/krb5.conf").split(":").filter((f) => f !== "");
  const files: { source: string; text: string }[] = [];
  const add = (file: string, inDirectory: boolean): void => {
    let text: string;
    try {
      text = io.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code === "EISDIR" && !inDirectory) {
        for (const name of io
          .readDir(file)
          .filter((n) => CONFIG_DIR_FILE.test(n))
          .sort())
          add(path.join(file, name), true);
        return;
      }
      throw new Krb5ConfigError(`${file}: cannot be read (${code ?? String(err)})`);
    }
    files.push({ source: file, text });
  };
  for (const file of list) add(file, false);
  return parseKrb5Config(files, io);
}

/** [libdefaults] default_realm. */
export function defaultRealm(conf: Krb5Config): string | undefined {
  return conf.get("libdefaults", "default_realm");
}

const TRUE = new Set(["y", "yes", "true", "t", "1", "on"]);
const FALSE = new Set(["n", "no", "false", "nil", "0", "off"]);

/** A [libdefaults] boolean as the profile library reads it, or `fallback` when unset. */
function libdefaultsBoolean(conf: Krb5Config, tag: string, fallback: boolean): boolean {
  const v = conf.get("libdefaults", tag);
  if (v === undefined) return fallback;
  const lower = v.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new Krb5ConfigError(`[libdefaults] ${tag} = "${v}" is not a boolean (yes/no, true/false, on/off, 1/0)`);
}

/** Whether to find KDCs through DNS SRV records: dns_lookup_kdc, else dns_fallback, default true (MIT). */
export function dnsLookupKdc(conf: Krb5Config): boolean {
  if (conf.get("libdefaults", "dns_lookup_kdc") !== undefined) return libdefaultsBoolean(conf, "dns_lookup_kdc", true);
  return libdefaultsBoolean(conf, "dns_fallback", true);
}

export interface KdcAddress {
  host: string;
  port: number;
}

/** "host", "host:port", "[v6]", "[v6]:port"; port 88 unless given (RFC 4120 7.2.3). */
export function parseKdcAddress(text: string): KdcAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[3] === undefined ? 88 : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new Krb5ConfigError(`kdc "${text}" is not host, host:port or [address]:port`);
  return { host: m[1] ?? m[2], port };
}

/**
 * The KDCs [realms] lists for `realm`, in order. Entries of the MS-KKDCP form (https://...) are
 * left out: this client speaks to KDCs over TCP and UDP only.
 */
export function kdcAddresses(conf: Krb5Config, realm: string): KdcAddress[] {
  return (
    conf
      .values("realms", realm, "kdc")
      // One KDC per relation, up to the first blank, as MIT's k5_parse_host_string reads it: the
      // rest of the line (a trailing comment, say) is never taken for more KDCs.
      .map((v) => v.trim().split(/\s/)[0])
      .filter((v) => v !== "" && !/^https?:\/\//i.test(v))
      .map(parseKdcAddress)
  );
}

/**
 * The realm [domain_realm] gives a host, looked up as MIT's profile host-realm module does
 * (hostrealm_profile.c): the host name itself, then each parent as ".domain" and as "domain"
 * ("web01.corp.example", ".corp.example", "corp.example", ".example", "example"); the first entry
 * found wins. IP addresses are never looked up. Names compare without case and a trailing dot.
 */
export function realmForHost(conf: Krb5Config, host: string): string | undefined {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (isIP(name) || /^\[.*\]$/.test(name)) return undefined;
  const entries = new Map<string, string>();
  for (const file of conf.files) {
    const section = file.sections.get("domain_realm");
    if (!section) continue;
    for (const r of section.relations) if (typeof r.value === "string" && !entries.has(r.tag.toLowerCase())) entries.set(r.tag.toLowerCase(), r.value);
    if (section.final) break;
  }
  for (let p: number = 0; p >= 0 && p <= name.length; p = name[p] === "." ? p + 1 : name.indexOf(".", p)) {
    const candidate = name.slice(p);
    if (candidate !== "" && entries.has(candidate)) return entries.get(candidate);
  }
  return undefined;
}
