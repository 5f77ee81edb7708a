// The id `pulumi import smbsigning:index:SmbSigningPolicy <name> <id>` takes: it names the host,
// and may name the transport, the port and the identity to pin (which configuration cannot give:
// it is one per host).
//
//   [ssh://|winrm://]<host>[:<port>][?hostKey=SHA256:...|?certificateFingerprint=<hex>]
//
// e.g. `fs01.corp.example`, `winrm://fs01.corp.example:5985`,
// `ssh://10.0.4.20?hostKey=SHA256:Xb...`. IPv6 literals in brackets: `ssh://[fd00::20]:22`.
// The values are validated later by the resource's own schema (domain/schema.ts), with the same
// messages; this only splits the text, and refuses what it cannot split.

/** The connection an import id names (transport and port only when it names them). */
export interface ImportTarget {
  host: string;
  transport?: "ssh" | "winrm";
  port?: number;
  hostKey?: string;
  certificateFingerprint?: string;
}

const GRAMMAR = "[ssh://|winrm://]<host>[:<port>][?hostKey=SHA256:...|?certificateFingerprint=<hex>]";
const PINS = ["hostKey", "certificateFingerprint"] as const;

/** Splits an import id; throws naming the grammar when it cannot. */
export function parseImportId(id: string): ImportTarget {
  const m = /^(?:(ssh|winrm):\/\/)?(\[[0-9A-Fa-f:.]+\]|[^\s:/?[\]]+)(?::(\d{1,5}))?(?:\?(.*))?$/.exec(id);
  if (!m) throw new Error(`the import id "${id}" is not ${GRAMMAR}`);
  const [, transport, host, port, query] = m;
  const target: ImportTarget = { host: host.startsWith("[") ? host.slice(1, -1) : host };
  if (transport) target.transport = transport as "ssh" | "winrm";
  if (port) target.port = Number(port);
  for (const pair of query ? query.split("&") : []) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    if (at < 1 || !(PINS as readonly string[]).includes(key))
      throw new Error(`the import id "${id}" has "${pair}"; allowed after "?": ${PINS.join(", ")} (${GRAMMAR})`);
    if (key in target) throw new Error(`the import id "${id}" gives "${key}" more than once; it takes one value (${GRAMMAR})`);
    target[key as (typeof PINS)[number]] = pair.slice(at + 1);
  }
  if (target.hostKey !== undefined && target.certificateFingerprint !== undefined) {
    throw new Error(
      `the import id "${id}" gives both hostKey and certificateFingerprint; it takes one of them: hostKey for ssh, certificateFingerprint for winrm ` +
        `(${GRAMMAR})`,
    );
  }
  return target;
}
