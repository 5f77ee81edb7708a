// [xml] and what member access reads from an XML document, as Windows PowerShell 5.1 gives them:
// the cast builds a System.Xml.XmlDocument (LanguagePrimitives: an XmlDocument with
// PreserveWhitespace = false, loaded from the text; a failure is PSInvalidCastException
// "InvalidCastToXmlDocument"), and PowerShell's XmlNodeAdapter (CoreAdapter.cs) turns an
// element's attributes and child nodes into properties:
//
//   - a property is every attribute, then every child node that is not white space, whose local
//     name (no prefix) equals the name, ignoring case (FindNodes, StringComparison.OrdinalIgnoreCase);
//   - one such node gives one value, several an object[] in document order (PropertyGet);
//   - a node's value (GetNodeObject): a text node its text; an attribute its value; an element
//     with attributes the element itself; an element without children "" (its InnerText); an
//     element whose only child is text that text; any other element itself;
//   - no such node: the .NET property of the node (the adapter set's base), of which the model
//     has Name and LocalName; another .NET property is not modelled (refused); anything else $null.
//
// An XmlNode is not enumerated by a pipeline or foreach (LanguagePrimitives.GetEnumerable leaves
// XmlNode out), so it is an EngineObject without `enumerate`. The text is read with
// fast-xml-parser; comments, CDATA, processing instructions, a DOCTYPE and an XML declaration
// are refused as not implemented (the scripts parse Windows' event XML and event templates,
// which have none). Sources: PowerShell/PowerShell src/System.Management.Automation/engine/
// CoreAdapter.cs (XmlNodeAdapter) and LanguagePrimitives.cs (ConvertToXml, GetEnumerable); XML
// 1.0 (fifth edition) 2.10 (white space), 2.11 (line ends), 4.1 and 4.6 (character and the
// predefined entity references).
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { notImplemented } from "./ast";
import { runtimeError } from "./errors";
import { EngineObject, PSArray, PSValue } from "./values";

/** A text node (XmlText): its local name is "#text", as the adapter matches it (`$e.'#text'`). */
export class XmlTextNode {
  readonly localName = "#text";
  constructor(readonly text: string) {}
}

export interface XmlAttributeNode {
  /** As written, with its prefix ("xmlns:p", "Name"). */
  qualifiedName: string;
  /** Without the prefix; `xmlns="..."` is "xmlns", `xmlns:p="..."` is "p" (System.Xml's LocalName). */
  localName: string;
  value: string;
}

/** An XmlDocument or XmlElement; what `[xml]` makes and member access walks. */
export class XmlNode extends EngineObject {
  constructor(
    readonly nodeKind: "document" | "element",
    /** Name as System.Xml gives it: "#document", or the element's name with its prefix. */
    readonly qualifiedName: string,
    readonly localName: string,
    readonly attributes: XmlAttributeNode[],
    readonly children: Array<XmlNode | XmlTextNode>,
    namespaceUri: string,
  ) {
    // XmlNodeAdapter's type names: the .NET type, first with "#<namespace>#<local name>" when the node has a namespace.
    const type = nodeKind === "document" ? "System.Xml.XmlDocument" : "System.Xml.XmlElement";
    super(type, {}, {}, type);
    this.typeNames = namespaceUri === "" ? [type] : [`${type}#${namespaceUri}#${localName}`, type];
  }
  readonly typeNames: string[];

  /** InnerText: the text of every descendant text node, in order. */
  innerText(): string {
    return this.children.map((c) => (c instanceof XmlTextNode ? c.text : c.innerText())).join("");
  }
}

/** .NET properties of XmlNode, XmlElement and XmlDocument the model does not answer: reading one (with no attribute or child of that name) is refused. */
const DOTNET_PROPERTIES = new Set(
  [
    "Attributes", "BaseURI", "ChildNodes", "FirstChild", "HasAttributes", "HasChildNodes", "InnerText", "InnerXml", "IsEmpty", "IsReadOnly", "Item", "LastChild",
    "NamespaceURI", "NextSibling", "NodeType", "OuterXml", "OwnerDocument", "ParentNode", "Prefix", "PreviousSibling", "PreviousText", "SchemaInfo", "Value",
    "DocumentElement", "DocumentType", "Implementation", "NameTable", "PreserveWhitespace", "XmlResolver", "Schemas",
  ].map((n) => n.toLowerCase()),
);

/** A node as the adapter returns it (GetNodeObject). */
function nodeObject(node: XmlNode | XmlTextNode | XmlAttributeNode): PSValue {
  if (node instanceof XmlTextNode) return node.text;
  if (!(node instanceof XmlNode)) return node.value;
  if (node.attributes.length > 0) return node;
  if (node.children.length === 0) return node.innerText();
  if (node.children.length === 1 && node.children[0] instanceof XmlTextNode) return node.children[0].text;
  return node;
}

/** `$node.Name` through XmlNodeAdapter, then the .NET property (see the file's opening comment). */
export function xmlProperty(node: XmlNode, name: string, line: number): PSValue {
  const key = name.toLowerCase();
  const found: Array<XmlNode | XmlTextNode | XmlAttributeNode> = [
    ...node.attributes.filter((a) => a.localName.toLowerCase() === key),
    ...node.children.filter((c) => c.localName.toLowerCase() === key),
  ];
  if (found.length === 1) return nodeObject(found[0]);
  if (found.length > 1) return new PSArray(found.map(nodeObject));
  if (key === "name") return node.qualifiedName;
  if (key === "localname") return node.localName;
  if (DOTNET_PROPERTIES.has(key)) throw notImplemented(`the .NET property ${name} of ${node.typeName}`, { line });
  return null;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entity and character references are decoded below, all of them (the parser's own decoding leaves &#x41; as it is).
  processEntities: false,
  commentPropName: "#comment",
  cdataPropName: "#cdata",
});

type Parsed = Record<string, unknown>;

const PREDEFINED: Record<string, string> = { lt: "<", gt: ">", amp: "&", apos: "'", quot: '"' };

/** Decodes the references of XML 1.0 4.1 (character references) and 4.6 (the predefined entities); another entity is not well-formed here (no DTD). */
function decode(text: string, fail: (why: string) => never): string {
  return text.replace(/&([^;&]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(";")) fail(`'&' not starting a reference`);
    if (ref in PREDEFINED) return PREDEFINED[ref];
    const m = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
    if (!m) fail(`reference to undeclared entity '${ref}'`);
    const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
    if (!(code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff))) fail(`'${whole}' is an invalid character`);
    return String.fromCodePoint(code);
  });
}

const localOf = (qualified: string) => qualified.slice(qualified.indexOf(":") + 1);

/** [xml]$text: the document, or the cast's error. */
export function parseXmlDocument(text: string, line: number): XmlNode {
  const fail = (why: string): never => {
    throw runtimeError(
      `Cannot convert value "${text}" to type "System.Xml.XmlDocument". Error: "${why}"`,
      "InvalidCastToXmlDocument",
      "InvalidArgument",
      "System.Management.Automation.PSInvalidCastException",
    );
  };
  if (text === "") throw notImplemented("[xml] of an empty string", { line });
  // XML 1.0 2.11: a CR LF pair or a lone CR is read as LF.
  const normalized = text.replace(/\r\n?/g, "\n");
  const valid = XMLValidator.validate(normalized);
  if (valid !== true) fail(`${valid.err.msg} Line ${valid.err.line}, position ${valid.err.col ?? 0}.`);
  const build = (nodes: Parsed[], inherited: Record<string, string>): Array<XmlNode | XmlTextNode> => {
    const out: Array<XmlNode | XmlTextNode> = [];
    for (const node of nodes) {
      const name = Object.keys(node).find((k) => k !== ":@");
      if (name === undefined) continue;
      if (name === "#text") {
        const value = decode(String(node["#text"]), fail);
        // PreserveWhitespace = false: a text node of white space alone is not kept (XML 1.0 2.10: space, tab, CR, LF).
        if (/^[ \t\n]*$/.test(value)) continue;
        const last = out[out.length - 1];
        if (last instanceof XmlTextNode) out[out.length - 1] = new XmlTextNode(last.text + value);
        else out.push(new XmlTextNode(value));
        continue;
      }
      if (name === "#comment" || name === "#cdata" || name.startsWith("?") || name.startsWith("!")) {
        throw notImplemented(`${name === "#comment" ? "a comment" : name === "#cdata" ? "a CDATA section" : name === "?xml" ? "an XML declaration" : `the XML construct ${name}`} in [xml]`, { line });
      }
      const rawAttributes = (node[":@"] ?? {}) as Record<string, string>;
      const attributes: XmlAttributeNode[] = Object.entries(rawAttributes).map(([k, v]) => {
        const qualifiedName = k.slice(2);
        return { qualifiedName, localName: qualifiedName === "xmlns" ? "xmlns" : localOf(qualifiedName), value: decode(String(v), fail) };
      });
      const scope = { ...inherited };
      for (const a of attributes) {
        if (a.qualifiedName === "xmlns") scope[""] = a.value;
        else if (a.qualifiedName.startsWith("xmlns:")) scope[a.localName] = a.value;
      }
      const colon = name.indexOf(":");
      const prefix = colon >= 0 ? name.slice(0, colon) : "";
      if (prefix !== "" && scope[prefix] === undefined) fail(`'${prefix}' is an undeclared prefix.`);
      const children = build((node[name] ?? []) as Parsed[], scope);
      out.push(new XmlNode("element", name, localOf(name), attributes, children, scope[prefix] ?? ""));
    }
    return out;
  };
  const top = build(parser.parse(normalized) as Parsed[], { xml: "http://www.w3.org/XML/1998/namespace" });
  const elements = top.filter((n) => n instanceof XmlNode);
  if (elements.length !== 1 || top.length !== 1) fail(elements.length === 0 ? "Root element is missing." : "There are multiple root elements.");
  return new XmlNode("document", "#document", "#document", [], top, "");
}
