// Kerberos principal names as text and as parts: "HTTP/web01.corp.example@CORP.EXAMPLE" is the
// components ["HTTP", "web01.corp.example"] in the realm CORP.EXAMPLE (RFC 4120 6.2; MIT's
// krb5_parse_name quoting: "\/", "\@" and "\\" stand for the characters themselves).
import { NameType } from "./messages";

export interface Principal {
  realm: string;
  components: string[];
  nameType: number;
}

/**
 * A principal from its text. Without "@REALM" the realm is `defaultRealm`, and without that too
 * the text is refused. The name type is SRV_INST for "service/host" names with a service
 * component, as MIT assigns it for krbtgt, and PRINCIPAL otherwise, unless given.
 */
export function parsePrincipal(text: string, defaultRealm?: string, nameType?: number): Principal {
  const components: string[] = [];
  let current = "";
  let realm: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      if (i + 1 >= text.length) throw new Error(`principal "${text}" ends in a backslash`);
      const n = text[++i];
      current += n === "n" ? "\n" : n === "t" ? "\t" : n === "0" ? "\0" : n;
    } else if (c === "/" && realm === undefined) {
      components.push(current);
      current = "";
    } else if (c === "@" && realm === undefined) {
      components.push(current);
      current = "";
      realm = "";
    } else if ((c === "@" || c === "/") && realm !== undefined) {
      throw new Error(`principal "${text}" has a "${c}" in its realm`);
    } else current += c;
  }
  if (realm === undefined) components.push(current);
  else realm = current;
  realm ??= defaultRealm;
  if (!realm) throw new Error(`principal "${text}" names no realm and no default realm is known`);
  if (components.some((c) => c === "")) throw new Error(`principal "${text}" has an empty component`);
  return { realm, components, nameType: nameType ?? (components[0] === "krbtgt" && components.length === 2 ? NameType.SRV_INST : NameType.PRINCIPAL) };
}

const quote = (s: string) =>
  s
    .replace(/[\\/@]/g, (c) => `\\${c}`)
    .replace(/\n/g, "\\n")
    .replace(/\t/g, "\\t")
    .replace(/\0/g, "\\0");

/** The text form, quoting "/", "@" and "\" inside components and realm. */
export function formatPrincipal(p: { realm: string; components: readonly string[] }): string {
  return `${p.components.map(quote).join("/")}@${quote(p.realm)}`;
}

/** Same realm and components (name types are not compared, as MIT's krb5_principal_compare does not). */
export function samePrincipal(a: { realm: string; components: readonly string[] }, b: { realm: string; components: readonly string[] }): boolean {
  return a.realm === b.realm && a.components.length === b.components.length && a.components.every((c, i) => c === b.components[i]);
}
