// WS-Management shell messages (MS-WSMV 3.1.4, the cmd shell resource) and their replies. The
// XML is built from fixed templates with escaped values and read back with fast-xml-parser.
import * as crypto from "node:crypto";
import { XMLParser } from "fast-xml-parser";

export const NS = {
  s: "http://www.w3.org/2003/05/soap-envelope",
  a: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  w: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  rsp: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
};
export const SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd";
export const ACTION = {
  create: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
  delete: "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
  command: `${NS.rsp}/Command`,
  send: `${NS.rsp}/Send`,
  receive: `${NS.rsp}/Receive`,
  signal: `${NS.rsp}/Signal`,
};
export const COMMAND_DONE = `${NS.rsp}/CommandState/Done`;
const SIGNAL_TERMINATE = `${NS.rsp}/signal/terminate`;

export function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

export interface RequestHeader {
  to: string;
  action: string;
  messageId: string;
  shellId?: string;
  operationTimeoutSeconds: number;
  options?: Record<string, string>;
}

export function newMessageId(): string {
  return `uuid:${crypto.randomUUID().toUpperCase()}`;
}

export function envelope(h: RequestHeader, body: string): string {
  const options = h.options
    ? `<w:OptionSet>${Object.entries(h.options)
        .map(([k, v]) => `<w:Option Name="${xmlEscape(k)}">${xmlEscape(v)}</w:Option>`)
        .join("")}</w:OptionSet>`
    : "";
  const selector = h.shellId ? `<w:SelectorSet><w:Selector Name="ShellId">${xmlEscape(h.shellId)}</w:Selector></w:SelectorSet>` : "";
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:w="${NS.w}" xmlns:rsp="${NS.rsp}">` +
    `<s:Header><a:To>${xmlEscape(h.to)}</a:To>` +
    `<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>` +
    `<w:MaxEnvelopeSize s:mustUnderstand="true">153600</w:MaxEnvelopeSize>` +
    `<a:MessageID>${h.messageId}</a:MessageID><w:Locale xml:lang="en-US" s:mustUnderstand="false"/>` +
    `<w:OperationTimeout>PT${h.operationTimeoutSeconds}S</w:OperationTimeout>` +
    `<w:ResourceURI s:mustUnderstand="true">${SHELL_URI}</w:ResourceURI>` +
    `<a:Action s:mustUnderstand="true">${h.action}</a:Action>${selector}${options}</s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

export const bodies = {
  create: () => `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
  command: (command: string) => `<rsp:CommandLine><rsp:Command>${xmlEscape(command)}</rsp:Command></rsp:CommandLine>`,
  send: (commandId: string, data: Buffer, end: boolean) =>
    `<rsp:Send><rsp:Stream Name="stdin" CommandId="${xmlEscape(commandId)}"${end ? ' End="true"' : ""}>${data.toString("base64")}</rsp:Stream></rsp:Send>`,
  receive: (commandId: string) => `<rsp:Receive><rsp:DesiredStream CommandId="${xmlEscape(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
  signal: (commandId: string) => `<rsp:Signal CommandId="${xmlEscape(commandId)}"><rsp:Code>${SIGNAL_TERMINATE}</rsp:Code></rsp:Signal>`,
  delete: () => "",
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  removeNSPrefix: true,
  parseTagValue: false,
  isArray: (name) => name === "Stream" || name === "Selector" || name === "Option",
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Xml = any;

export function parseEnvelope(xml: string): { header: Xml; body: Xml } {
  const doc = parser.parse(xml);
  const env = doc.Envelope;
  if (!env) throw new Error("not a SOAP envelope");
  return { header: env.Header ?? {}, body: env.Body ?? {} };
}

/** Text of an element that may carry attributes. */
export function text(node: Xml): string {
  if (node === undefined || node === null) return "";
  return typeof node === "object" ? String(node["#text"] ?? "") : String(node);
}

export interface Fault {
  code: string;
  subcode: string;
  reason: string;
  wsmanCode?: string;
}

export function faultOf(body: Xml): Fault | undefined {
  const f = body?.Fault;
  if (!f) return undefined;
  return {
    code: text(f.Code?.Value),
    subcode: text(f.Code?.Subcode?.Value),
    reason: text(Array.isArray(f.Reason?.Text) ? f.Reason.Text[0] : f.Reason?.Text),
    wsmanCode: f.Detail?.WSManFault?.["@Code"],
  };
}
