// Turns PowerShell's CLIXML stderr stream ("#< CLIXML" followed by <Objs> documents) into
// readable text: progress records are noise; only S="Error" strings are kept, with the
// _xHHHH_ escapes of the PowerShell serializer decoded.
import { XMLParser } from "fast-xml-parser";

const MARKER = "#< CLIXML";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  textNodeName: "#text",
  isArray: (name) => name === "S",
  parseTagValue: false,
  trimValues: false,
});

function decodeEscapes(text: string): string {
  return text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Error lines from stderr; plain (non-CLIXML) stderr text is kept as it is. */
export function errorTextFromStderr(stderr: string): string {
  if (!stderr.includes(MARKER)) return stderr.trim();
  const messages: string[] = [];
  const plain: string[] = [];
  for (const chunk of stderr.split(MARKER)) {
    const start = chunk.indexOf("<Objs");
    if (start < 0) {
      if (chunk.trim()) plain.push(chunk.trim());
      continue;
    }
    const end = chunk.lastIndexOf("</Objs>");
    const xml = chunk.slice(start, end < 0 ? undefined : end + "</Objs>".length);
    let doc: { Objs?: { S?: Array<string | { "@S"?: string; "#text"?: string }> } };
    try {
      doc = parser.parse(xml);
    } catch {
      plain.push(chunk.trim());
      continue;
    }
    for (const s of doc.Objs?.S ?? []) {
      if (typeof s === "object" && s["@S"] === "Error" && s["#text"]) messages.push(decodeEscapes(s["#text"]));
    }
  }
  return [...plain, messages.join("").trim()].filter(Boolean).join("\n");
}
