// ConvertTo-Json and ConvertFrom-Json as Windows PowerShell 5.1 has them (JavaScriptSerializer;
// test/simhost/powershell/json.ts names the sources).
import assert from "node:assert/strict";
import { evaluate, initParser } from "../simhost/powershell/run";
import { all, one, testHost } from "./powershellTestHost";

const uncaught = (script: string) => {
  const r = evaluate("$ErrorActionPreference = 'Stop'; " + script, testHost());
  assert.ok(r.uncaught, `expected an error, got ${JSON.stringify(r.output)}`);
  return r.uncaught;
};

describe("PowerShell interpreter: JSON as Windows PowerShell 5.1 writes and reads it", () => {
  before(async () => {
    await initParser();
  });

  describe("ConvertTo-Json", () => {
    it("-Compress: nested hashtables and arrays, no spaces", () => {
      assert.equal(one("ConvertTo-Json -InputObject @{ a = @{ b = @(1, 'x', $true, $null) } } -Compress -Depth 5"), '{"a":{"b":[1,"x",true,null]}}');
    });
    it("escapes \" \\ and control characters, and also ' < > & (as \\u0027 \\u003c \\u003e \\u0026), U+0085, U+2028, U+2029", () => {
      assert.equal(one("ConvertTo-Json -InputObject \"<a href='x'>&`\"\\`t`n`r`b`f`0\" -Compress"), '"\\u003ca href=\\u0027x\\u0027\\u003e\\u0026\\"\\\\\\t\\n\\r\\b\\f\\u0000"');
      assert.equal(one("ConvertTo-Json -InputObject ([string][char]0x85 + [char]0x2028 + [char]0x2029 + [char]0x1f) -Compress"), '"\\u0085\\u2028\\u2029\\u001f"');
    });
    it("writes other non-ASCII characters as they are (the script escapes them itself)", () => {
      assert.equal(one("ConvertTo-Json -InputObject '\u00e9\u4e2d\ud83d\ude00' -Compress"), '"\u00e9\u4e2d\ud83d\ude00"');
    });
    it("numbers keep their type's text: doubles round-trip (R), decimals their digits", () => {
      assert.deepEqual(all("ConvertTo-Json -InputObject 0.1 -Compress; ConvertTo-Json -InputObject 1e20 -Compress; ConvertTo-Json -InputObject ('{\"d\":1.50}' | ConvertFrom-Json) -Compress; ConvertTo-Json -InputObject ([long]5) -Compress"), ["0.1", "1E+20", '{"d":1.50}', "5"]);
    });
    it("depth: beyond -Depth a hashtable becomes 'System.Collections.Hashtable', an array its elements joined by spaces", () => {
      assert.equal(one("ConvertTo-Json -InputObject @{ a = @{ b = @{ c = 1 }; l = @(1, 2) } } -Depth 1 -Compress"), '{"a":{"b":"System.Collections.Hashtable","l":"1 2"}}');
    });
    it("the default -Depth is 2", () => {
      assert.equal(one("ConvertTo-Json -InputObject @{ a = @{ b = @{ c = @{ d = 1 } } } } -Compress"), '{"a":{"b":{"c":"System.Collections.Hashtable"}}}');
    });
    it("a PSCustomObject beyond -Depth becomes @{...}", () => {
      assert.equal(one("ConvertTo-Json -InputObject @{ z = @{ a = ('{\"x\":1}' | ConvertFrom-Json) } } -Depth 1 -Compress"), '{"z":{"a":"@{x=1}"}}');
    });
    it("-InputObject takes an array whole ([] for @()); pipeline input is each element, one element alone", () => {
      assert.deepEqual(all("ConvertTo-Json -InputObject @() -Compress; ConvertTo-Json -InputObject @(1) -Compress; @(1) | ConvertTo-Json -Compress; @(1, 2) | ConvertTo-Json -Compress"), ["[]", "[1]", "1", "[1,2]"]);
      assert.deepEqual(all("@() | ConvertTo-Json; ConvertTo-Json -InputObject $null"), []);
    });
    it("without -Compress, 5.1's own layout: four spaces, two after the colon, arrays indented past the name", () => {
      assert.equal(one("ConvertTo-Json -InputObject @{ b = @(1, 2) }"), '{\r\n    "b":  [\r\n              1,\r\n              2\r\n          ]\r\n}');
      assert.equal(one("ConvertTo-Json -InputObject @{ a = @{ c = 'x' } }"), '{\r\n    "a":  {\r\n              "c":  "x"\r\n          }\r\n}');
    });
    it("a DateTime is \\/Date(ms)\\/", () => {
      assert.equal(one("ConvertTo-Json -InputObject (Get-Date) -Compress"), '"\\/Date(1748779200000)\\/"');
    });
    it("an enum is its number", () => {
      assert.equal(one("ConvertTo-Json -InputObject $ExecutionContext.SessionState.LanguageMode -Compress"), "0");
    });
    it("refuses a non-string key and a -Depth over 100", () => {
      assert.match(uncaught("ConvertTo-Json -InputObject @{ 1 = 'a' }").fullyQualifiedErrorId, /^NonStringKeyInDictionary/);
      assert.match(uncaught("ConvertTo-Json -InputObject 1 -Depth 101").message, /maximum depth allowed for serialization is 100/);
    });
  });

  describe("ConvertFrom-Json", () => {
    it("numbers: Int32, then Int64, then Decimal (a point, no exponent), else Double", () => {
      assert.deepEqual(all("$o = '{\"i\":7,\"l\":3000000000,\"m\":1.5,\"e\":1e5,\"n\":-2}' | ConvertFrom-Json; $o.i -is [int]; $o.l -is [long]; $o.m -is [decimal]; $o.e -is [double]; $o.n -is [int]"), [true, true, true, true, true]);
    });
    it("objects become PSCustomObjects in their text's order, arrays object[]", () => {
      assert.deepEqual(one("'{\"b\":[1,{\"c\":null}],\"a\":\"x\"}' | ConvertFrom-Json"), { b: [1, { c: null }], a: "x" });
    });
    it("a top-level array is one object[] (5.1 does not enumerate it)", () => {
      assert.deepEqual(all("@('[1,2]' | ConvertFrom-Json).Count; ('[1,2]' | ConvertFrom-Json).Count"), [1, 2]);
    });
    it("JavaScriptSerializer's leniency: single quotes, unquoted names, a leading zero", () => {
      assert.deepEqual(one("\"{'a':01, b:'x'}\" | ConvertFrom-Json"), { a: 1, b: "x" });
    });
    it("a name twice: the last value; names that differ only in case: DuplicateKeysInJsonString", () => {
      assert.deepEqual(one("'{\"a\":1,\"a\":2}' | ConvertFrom-Json"), { a: 2 });
      const e = uncaught("'{\"a\":1,\"A\":2}' | ConvertFrom-Json");
      assert.equal(e.message, "Cannot convert the JSON string because a dictionary that was converted from the string contains the duplicated keys 'a' and 'A'.");
      assert.equal(e.fullyQualifiedErrorId, "DuplicateKeysInJsonString,Microsoft.PowerShell.Commands.ConvertFromJsonCommand");
    });
    it("invalid JSON: ArgumentException, NotSpecified, JavaScriptSerializer's message", () => {
      const e = uncaught("'nope' | ConvertFrom-Json");
      assert.equal(e.message, "Invalid JSON primitive: nope.");
      assert.equal(e.category, "NotSpecified");
      assert.equal(e.fullyQualifiedErrorId, "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand");
      assert.equal(uncaught("'[1,' | ConvertFrom-Json").message, "Invalid array passed in, extra trailing ','. (3): [1,");
      assert.equal(uncaught("'{\"a\" 1}' | ConvertFrom-Json").message, "Invalid object passed in, ':' or '}' expected. (6): {\"a\" 1}");
    });
    it("an empty string cannot bind to -InputObject; 'null' is $null", () => {
      assert.match(uncaught("ConvertFrom-Json -InputObject ''").message, /because it is an empty string/);
      assert.deepEqual(all("$null -eq ('null' | ConvertFrom-Json)"), [true]);
    });
    it("\"\\/Date(ms)\\/\" becomes a DateTime", () => {
      assert.deepEqual(all("$d = '\"\\/Date(0)\\/\"' | ConvertFrom-Json; $d -is [datetime]; $d.ToString('o')"), [true, "1970-01-01T00:00:00.0000000Z"]);
    });
    it("escapes: \\u, \\/ and the named ones; an unknown escape fails", () => {
      assert.equal(one("'\"\\u00e9\\/\\n\"' | ConvertFrom-Json"), "\u00e9/\n");
      assert.equal(uncaught("'\"\\q\"' | ConvertFrom-Json").message, 'Unrecognized escape sequence. (3): "\\q"');
    });
  });
});
