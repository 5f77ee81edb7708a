// The interpreter of test/simhost/powershell/: one test per Windows PowerShell 5.1 rule it
// implements (docs/windows-model.md, "The PowerShell the simulated hosts interpret"), and its
// refusals: constructs PowerShell 7 has and 5.1 does not, and anything it does not implement.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Ast, parseScript } from "../simhost/powershell/ast";
import { initParser, storeTrees } from "../simhost/powershell/run";
import { evaluate } from "../simhost/powershell/run";
import { all, one, out, plain, testHost } from "./powershellTestHost";
import { DotNetException, hostObject } from "../simhost/powershell/host";

const fails = (script: string, pattern: RegExp, host = testHost()) => assert.throws(() => evaluate(script, host), pattern);
/** The uncaught PowerShell error of a script (a terminating error, not an InterpreterError). */
const uncaught = (script: string, host = testHost()) => {
  const r = evaluate("$ErrorActionPreference = 'Stop'; " + script, host);
  assert.ok(r.uncaught, `expected an uncaught error, got output ${JSON.stringify(r.output)}`);
  return r.uncaught;
};

describe("PowerShell interpreter: Windows PowerShell 5.1 semantics", () => {
  before(async () => {
    await initParser();
  });

  describe("comparison operators (about_Comparison_Operators)", () => {
    it("$null -eq @() is $false, @() -eq $null an empty array (a collection on the left filters)", () => {
      assert.equal(one("$null -eq @()"), false);
      assert.deepEqual(one("(@() -eq $null).Count"), 0);
      assert.deepEqual(one("@(,(@(1, $null, 2) -eq $null))"), [null]);
    });
    it("@(1,2,3) -eq 2 returns the matching elements, -ne and -gt likewise", () => {
      assert.deepEqual(one("@(,(@(1,2,3) -eq 2))"), [2]);
      assert.deepEqual(one("@(,(@(1,2,3) -ne 2))"), [1, 3]);
      assert.deepEqual(one("@(,(@(1,2,3) -gt 1))"), [2, 3]);
    });
    it("the left operand's type decides the comparison: '1' -eq 1, 1 -eq '01', not '01' -eq 1", () => {
      assert.deepEqual(all("'1' -eq 1; 1 -eq '01'; '01' -eq 1"), [true, true, false]);
    });
    it("a Boolean on the left converts the right: $true -eq 'false' is $true (a non-empty string)", () => {
      assert.deepEqual(all("$true -eq 'false'; $false -eq ''; $true -eq 1"), [true, true, true]);
    });
    it("-eq ignores case, -ceq does not, -ieq does", () => {
      assert.deepEqual(all("'abc' -eq 'ABC'; 'abc' -ceq 'ABC'; 'abc' -ieq 'ABC'; 'abc' -cne 'ABC'"), [true, false, true, true]);
    });
    it("-contains ignores case, -ccontains does not; -notcontains and -in", () => {
      assert.deepEqual(all("@('A','b') -contains 'a'; @('A','b') -ccontains 'a'; @('A') -notcontains 'a'; 'a' -in @('A'); 'a' -notin @('A')"), [true, false, false, true, false]);
    });
    it("-contains compares each element as the left operand (1 and '1')", () => {
      assert.deepEqual(all("@(1, 2) -contains '1'; @('01') -contains 1"), [true, false]);
    });
    it("-lt/-le/-gt/-ge convert the right to the left's type", () => {
      assert.deepEqual(all("2 -gt '10'; '2' -gt '10'; 5 -ge 5; 4 -le 3"), [false, true, true, false]);
    });
    it("a failed conversion for -eq is not equal; for -lt an error", () => {
      assert.equal(one("1 -eq 'abc'"), false);
      assert.match(uncaught("1 -lt 'abc'").message, /Could not compare "1" to "abc"/);
    });
    it("-like wildcards (* ? [a-z]) ignore case; -clike does not", () => {
      assert.deepEqual(all("'NoMatchingEventsFound,X' -like 'nomatchingevents*'; 'abc' -clike 'A*'; 'b1' -like '[a-c]?'; 'x' -notlike 'y*'"), [true, false, true, true]);
    });
    it("-match uses .NET regular expressions: $ also before a final newline, \\z only at the end", () => {
      assert.deepEqual(all('"abc`n" -match "c$"; "abc`n" -cmatch "c\\z"; "ABC" -match "^abc$"; "ABC" -cmatch "^abc$"'), [true, false, true, false]);
    });
    it("-match's \\d is any Unicode decimal digit, as in .NET", () => {
      assert.deepEqual(all("'\u0661\u0662' -match '^\\d+$'; '12' -notmatch '^\\d+$'"), [true, false]);
    });
    it("-cnotmatch with \\A and \\z anchors", () => {
      assert.deepEqual(all("'ab' -cnotmatch '\\Aab\\z'; 'AB' -cnotmatch '\\Aab\\z'"), [false, true]);
    });
    it("-is tests the .NET type; $null is of no type", () => {
      assert.deepEqual(all("1 -is [int]; 1 -is [long]; 'a' -is [string]; $true -is [bool]; $null -is [object]; @() -is [array]; @{} -is [hashtable]; 1 -isnot [string]"), [true, false, true, true, false, true, true, true]);
    });
  });

  describe("arithmetic and conversions (spec 6 and 7)", () => {
    it("+ converts the right to the left's kind: 1 + '2' is 3, '1' + 2 is '12', an array appends", () => {
      assert.deepEqual(all("1 + '2'; '1' + 2; ,(@(1) + 2)"), [3, "12", [1, 2]]);
    });
    it("Int32 overflow becomes Double; / is Double unless exact", () => {
      assert.deepEqual(all("([int]::MaxValue + 1) -is [double]; (6 / 2) -is [int]; 7 / 2"), [true, true, 3.5]);
    });
    it("[int] of a string trims, rounds half to even, and fails on text", () => {
      assert.deepEqual(all("[int]' 12 '; [int]'2.5'; [int]'3.5'; [int]''; [int]$null; [int]$true"), [12, 2, 4, 0, 0, 1]);
      assert.equal(uncaught("[int]'abc'").message, 'Cannot convert value "abc" to type "System.Int32". Error: "Input string was not in a correct format."');
    });
    it("[bool]: non-empty strings (even 'False') are true; arrays by count and element", () => {
      assert.deepEqual(all("[bool]'False'; [bool]''; [bool]0; [bool]@(); [bool]@(0); [bool]@(0,0)"), [true, false, false, false, false, true]);
    });
    it("[string]: $null is '', arrays join with spaces, hashtables give their type name", () => {
      assert.deepEqual(all("[string]$null; [string]@(1,'a',$true); [string]@{}; [string]1.5; [string]1e20"), ["", "1 a True", "System.Collections.Hashtable", "1.5", "1E+20"]);
    });
    it("[char] needs exactly one character; [int][char] is its code", () => {
      assert.equal(one("[int][char]'\u00e9'"), 233);
      assert.match(uncaught("[char]'ab'").message, /String must be exactly one character long/);
    });
    it("unary minus and -not / !", () => {
      assert.deepEqual(all("-(3); -not $true; !''; -not @()"), [-3, false, true, true]);
    });
    it("ranges", () => {
      assert.deepEqual(one("$a = 1; @(,($a..3))"), [1, 2, 3]);
      assert.deepEqual(one("$a = 3; @(,($a..1))"), [3, 2, 1]);
    });
    it("binary -join: the left operand's elements as strings with the right one between them; a scalar is one element, $null ''", () => {
      assert.deepEqual(all("@('fe80', 0, 1) -join ':'; 'a' -join ','; $null -join ','; @() -join ','; @(1, $null, 2) -join ''"), ["fe80:0:1", "a", "", "", "12"]);
    });
    it("[Convert]::ToByte(text, 16): hexadecimal digits, an optional 0x, either case; FormatException or OverflowException otherwise", () => {
      assert.deepEqual(all("[Convert]::ToByte('ff', 16); [Convert]::ToByte('0A', 16); [System.Convert]::ToByte('0x7', 16); ([Convert]::ToByte('17', 16)) -is [byte]"), [255, 10, 7, true]);
      assert.equal(uncaught("[Convert]::ToByte('1g', 16)").message, 'Exception calling "ToByte" with "2" argument(s): "Additional non-parsable characters are at the end of the string."');
      assert.equal(uncaught("[Convert]::ToByte('zz', 16)").message, 'Exception calling "ToByte" with "2" argument(s): "Could not find any recognizable digits."');
      assert.equal(uncaught("[Convert]::ToByte('100', 16)").message, 'Exception calling "ToByte" with "2" argument(s): "Value was either too large or too small for an unsigned byte."');
      fails("[Convert]::ToByte('11', 2)", /not implemented: \[Convert\]::ToByte with a base other than 16/);
    });
  });

  describe("XML: [xml] and the XmlNodeAdapter (CoreAdapter.cs, LanguagePrimitives.cs)", () => {
    const EVENT =
      "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-SMBServer'/><EventID>3021</EventID><Correlation/></System>" +
      "<EventData><Data Name='ClientNameLength'>11</Data><Data Name='ClientName'>\\\\10.0.4.17</Data><Data Name='UserName'></Data><Data Name='Blank'> </Data><Data Name='Odd'>a &lt;&amp;&gt; &#x41;&#66;</Data></EventData></Event>";
    const doc = `$x = [xml]"${EVENT}"; `;
    it("[xml] of a string is an XmlDocument; $null stays $null; elements carry their namespace in their first type name", () => {
      assert.deepEqual(all(`${doc}$x -is [xml]; [xml]$null -eq $null; 'a' -is [xml]`), [true, true, false]);
      const event = out(`${doc}$x.Event`)[0] as { typeNames: string[] };
      assert.deepEqual(event.typeNames, ["System.Xml.XmlElement#http://schemas.microsoft.com/win/2004/08/events/event#Event", "System.Xml.XmlElement"]);
    });
    it("properties are attributes and child elements by local name, ignoring case; several are an array in document order", () => {
      assert.deepEqual(all(`${doc}$x.Event.System.Provider.Name; $x.event.SYSTEM.provider.name; @($x.Event.EventData.Data).Count`), ["Microsoft-Windows-SMBServer", "Microsoft-Windows-SMBServer", 5]);
      assert.deepEqual(all(`${doc}$x.Event.xmlns`), ["http://schemas.microsoft.com/win/2004/08/events/event"]);
    });
    it("a node's value: an element with only text is that text, an empty one '', one with attributes the element (its text as '#text')", () => {
      assert.deepEqual(all(`${doc}$x.Event.System.EventID; $x.Event.System.Correlation; $x.Event.System.EventID -is [string]`), ["3021", "", true]);
      assert.deepEqual(
        all(`${doc}foreach ($d in $x.Event.EventData.Data) { '{0}={1}' -f $d.Name, $d.'#text' }`),
        ["ClientNameLength=11", "ClientName=\\\\10.0.4.17", "UserName=", "Blank=", "Odd=a <&> AB"],
      );
      assert.deepEqual(all(`${doc}$d = @($x.Event.EventData.Data)[2]; $null -eq $d.'#text'; $d.Name`), [true, "UserName"]);
    });
    it("white space alone is no text node (PreserveWhitespace false); member enumeration skips elements without the member", () => {
      assert.deepEqual(all(`$y = [xml]"<a>\n  <b k='1'>x</b>\n  <b>y</b>\n  <c/>\n</a>"; @($y.a.b).Count; @($y.a.b)[1]; $y.a.b.k`), [2, "y", "1"]);
    });
    it("an XmlNode is one object to foreach and the pipeline, not its children (GetEnumerable leaves XmlNode out)", () => {
      assert.deepEqual(all(`${doc}$n = 0; foreach ($e in $x.Event.EventData) { $n = $n + 1 }; $n; @($x.Event.System | ForEach-Object { 1 }).Count`), [1, 1]);
    });
    it("a missing member is $null, the element's Name and LocalName its .NET ones; another .NET property is refused", () => {
      assert.deepEqual(all(`${doc}$null -eq $x.Event.Nope; $x.Event.EventData.LocalName; $x.Event.System.Name`), [true, "EventData", "System"]);
      fails(`${doc}$x.Event.OuterXml`, /not implemented: the .NET property OuterXml of System.Xml.XmlElement/);
    });
    it("text that is not well-formed XML fails the cast: InvalidCastToXmlDocument (InvalidArgument)", () => {
      for (const bad of ["<a>", "<a></b>", "<a/><b/>", "<a>&nope;</a>", "<a>x & y</a>", "<p:a/>"]) {
        const e = uncaught(`[xml]'${bad}'`);
        assert.equal(e.fullyQualifiedErrorId, "InvalidCastToXmlDocument", bad);
        assert.equal(e.category, "InvalidArgument");
        assert.ok(e.message.startsWith(`Cannot convert value "${bad}" to type "System.Xml.XmlDocument". Error: "`), e.message);
      }
    });
    it("refuses what it does not model: comments, CDATA, a declaration, [xml] of a non-string", () => {
      fails("[xml]'<a><!-- c --></a>'", /not implemented: a comment in \[xml\]/);
      fails("[xml]'<a><![CDATA[x]]></a>'", /not implemented: a CDATA section in \[xml\]/);
      fails("[xml]'<?xml version=\"1.0\"?><a/>'", /not implemented: an XML declaration in \[xml\]/);
      fails("[xml]5", /not implemented: \[xml\] of System.Int32/);
    });
  });

  describe("hashtables and objects", () => {
    it("hashtable keys ignore case (about_Hash_Tables)", () => {
      assert.deepEqual(all("$h = @{ Key = 1 }; $h.KEY; $h['key']; $h.ContainsKey('kEy'); $h.Count"), [1, 1, true, 1]);
    });
    it("a key wins over the Hashtable's own properties; missing keys are $null", () => {
      assert.deepEqual(all("$h = @{ Count = 'c' }; $h.Count; $null -eq $h.missing"), ["c", true]);
    });
    it("a hash literal with one key twice (ignoring case) is an error", () => {
      assert.match(uncaught("@{ a = 1; A = 2 }").message, /Duplicate keys 'A' are not allowed in hash literals/);
    });
    it("member assignment adds a key; += on a key", () => {
      assert.deepEqual(one("$h = @{ n = 1 }; $h.log = 'x'; $h.n += 2; $h"), { n: 3, log: "x" });
    });
    it("changing a hashtable while enumerating its Keys fails as .NET does", () => {
      assert.match(uncaught("$h = @{ a = 1; b = 2 }; foreach ($k in $h.Keys) { $h['c' + $k] = 1 }").message, /Collection was modified/);
    });
    it("PSCustomObject: .PSObject.Properties in order with Name and Value; an absent one is $null", () => {
      assert.deepEqual(all("$o = '{\"b\":1,\"a\":true}' | ConvertFrom-Json; foreach ($p in $o.PSObject.Properties) { $p.Name; $p.Value }; $null -eq $o.PSObject.Properties['zz']; [bool]$o.PSObject.Properties['A']"), ["b", 1, "a", true, true, true]);
    });
    it("a missing property of a PSCustomObject is $null; of $null is $null; a method on $null fails", () => {
      assert.deepEqual(all("$o = '{}' | ConvertFrom-Json; $null -eq $o.x; $null -eq $null.x"), [true, true]);
      const e = uncaught("$null.Trim()");
      assert.equal(e.message, "You cannot call a method on a null-valued expression.");
      assert.equal(e.fullyQualifiedErrorId, "InvokeMethodOnNull");
    });
    it("member-access enumeration: each element's property (skipping those without it), one result a scalar, none $null", () => {
      assert.deepEqual(all("$a = '[{\"x\":1},{\"y\":2},{\"x\":[3,4]}]' | ConvertFrom-Json; @(,$a.x); ('[{\"x\":1}]' | ConvertFrom-Json).x; $null -eq @().x"), [[1, 3, 4], 1, true]);
    });
    it("a property a string, Boolean or number lacks is $null outside strict mode; a string's PSObject has Length alone", () => {
      assert.deepEqual(all("$null -eq 'abc'.operation; $null -eq $true.client; $null -eq (7).x; $null -eq (1.5).x; $null -eq ('7.25' | ConvertFrom-Json).x; @('a', $true, 3).operation -eq $null"), [true, true, true, true, true, true]);
      assert.deepEqual(all("@('abc'.PSObject.Properties | ForEach-Object { $_.Name }); @($true.PSObject.Properties).Count"), ["Length", 0]);
      fails("'abc'.psbase", /not implemented: the property psbase of System.String/);
    });
    it("Windows PowerShell 5.1 gives a PSCustomObject no .Count", () => {
      assert.equal(one("$null -eq ('{}' | ConvertFrom-Json).Count"), true);
    });
    it("indexing: negative from the end, out of range $null, into $null an error", () => {
      assert.deepEqual(all("$a = 'x','y','z'; $a[-1]; $null -eq $a[5]; 'abc'.Split(',')[-1]"), ["z", true, "abc"]);
      assert.match(uncaught("$n = $null; $n[0]").message, /Cannot index into a null array/);
    });
  });

  describe("output, functions and arrays (about_Functions, about_Return, about_Arrays)", () => {
    it("a function returning an array of one element gives that element; the comma keeps the array", () => {
      assert.deepEqual(all("function f { @(1) }; function g { ,@(1) }; (f) -is [int]; (g) -is [array]; @(f).Count"), [true, true, 1]);
    });
    it("@() always makes an array; a function writing nothing gives $null and @() of it is empty", () => {
      assert.deepEqual(all("function n { }; @(5) -is [array]; $null -eq (n); @(n).Count; @(@(1,2)).Count"), [true, true, 0, 2]);
    });
    it("a function's output is everything it writes and does not discard ([void], $null =, | Out-Null)", () => {
      assert.deepEqual(all("function f { 1; [void]2; $null = 3; 4 | Out-Null; 'five' }; f"), [1, "five"]);
    });
    it("return writes its value and leaves; output before it stays", () => {
      assert.deepEqual(all("function f { 'a'; return 'b'; 'c' }; $x = f; $x.Count"), [2]);
    });
    it("arrays unroll in the pipeline and on output, hashtables do not", () => {
      assert.deepEqual(all("@(1,2) | ForEach-Object { $_ * 10 }; @{a=1} | ForEach-Object { $_.a }"), [10, 20, 1]);
    });
    it("+= makes a new array; , appends an array as one element", () => {
      assert.deepEqual(one("$a = @(); $a += 1; $a += ,@(2,3); $a.Count"), 2);
    });
    it("unary comma: (,1).Count is 1 and (,@(1,2)).Count is 1", () => {
      assert.deepEqual(all("(,1).Count; (,@(1,2)).Count"), [1, 1]);
    });
    it("a function reads its caller's variables (dynamic scope); its assignments stay local", () => {
      assert.deepEqual(all("$v = 'outer'; function f { $v; $v = 'inner'; $v }; f; $v"), ["outer", "inner", "outer"]);
    });
    it("parameters: by name (ignoring case, prefixes), by position, typed, with defaults", () => {
      assert.deepEqual(all("function f { param([string]$Name, [int]$Count, $Rest = 'd')\n \"$Name|$Count|$Rest\" }; f -name a -c '3'; f b 4 x; f"), ["a|3|d", "b|4|x", "|0|d"]);
    });
    it("a [hashtable] parameter refuses a string (argument transformation)", () => {
      assert.match(uncaught("function f { param([hashtable]$H)\n $H }; f -H 'x'").message, /Cannot process argument transformation on parameter 'H'/);
    });
    it("a Mandatory [string] parameter refuses '' (ParameterArgumentValidationErrorEmptyStringNotAllowed)", () => {
      const e = uncaught("function f { param([Parameter(Mandatory = $true)][string]$RequestJson)\n $RequestJson }; f -RequestJson ''");
      assert.equal(e.message, "Cannot bind argument to parameter 'RequestJson' because it is an empty string.");
      assert.match(e.fullyQualifiedErrorId, /^ParameterArgumentValidationErrorEmptyStringNotAllowed/);
    });
    it("an advanced function refuses an unknown parameter", () => {
      assert.match(uncaught("function f { param([Parameter(Mandatory = $true)]$A)\n $A }; f -A 1 -B 2").message, /A parameter cannot be found that matches parameter name 'B'/);
    });
    it("splatting a hashtable binds named parameters of a command; -Name:$value and switches", () => {
      assert.deepEqual(all("$v = @{ RequireSecuritySignature = $true }; Echo-Params @v -Force -Confirm:$false"), ["RequireSecuritySignature=True", "Force=True", "Confirm=False"]);
    });
    it("a command's parameters bind by position and by unambiguous prefix", () => {
      assert.deepEqual(all("Echo-Params a -Val 2"), ["Value=2", "Name=a"]);
      assert.match(uncaught("Echo-Params -Nope 1").message, /A parameter cannot be found that matches parameter name 'Nope'/);
    });
    it("& runs a script block with named parameters ([ScriptBlock]::Create)", () => {
      assert.deepEqual(one("& ([ScriptBlock]::Create('param($X) \"x=$X\"')) -X 5"), "x=5");
    });
    it("an unknown command is a CommandNotFoundException", () => {
      const e = uncaught("Get-Nothing");
      assert.equal(e.fullyQualifiedErrorId, "CommandNotFoundException");
      assert.equal(e.category, "ObjectNotFound");
    });
  });

  describe("statements", () => {
    it("if / elseif / else, and if as a value", () => {
      assert.deepEqual(all("$x = 2; if ($x -eq 1) { 'one' } elseif ($x -eq 2) { 'two' } else { 'other' }; $y = if ($false) { 1 } else { 2 }; $y"), ["two", 2]);
    });
    it("foreach over $null runs no iteration, over a hashtable once, over a scalar once", () => {
      assert.deepEqual(all("foreach ($i in $null) { 'n' }; foreach ($i in @{a=1}) { 'h' }; foreach ($i in 5) { $i }"), ["h", 5]);
    });
    it("break and continue in foreach", () => {
      assert.deepEqual(all("foreach ($i in 1, 2, 3, 4, 5) { if ($i -eq 2) { continue }; if ($i -eq 4) { break }; $i }"), [1, 3]);
    });
    it("string expansion: $var, $($expr), escapes; '' in verbatim strings; $x.y is $x then .y", () => {
      assert.deepEqual(all("$a = @{ b = 'x' }; $s = 'S'; \"v: $($a.b) $s.y `t|\"; 'it''s'; \"q\"\"q\""), ["v: x S.y \t|", "it's", 'q"q']);
    });
    it("-f formats .NET composite strings ({0}, {0:x4}, {0,3})", () => {
      assert.deepEqual(all("'{0}.{1}' -f '26100', 4061; '\\u{0:x4}' -f 233; '[{0,3}]' -f 7; '{{{0}}}' -f 1"), ["26100.4061", "\\u00e9", "[  7]", "{1}"]);
    });
    it("String.Split(string) splits on each character in 5.1 (no Split(string) overload in .NET Framework)", () => {
      assert.deepEqual(all("'a--b'.Split('--').Count; ('4,1').Split(',')[-1].Trim()"), [3, "1"]);
    });
    it("String methods: Trim, TrimStart(chars), EndsWith with a StringComparison, Contains", () => {
      assert.deepEqual(all("'  x '.Trim(); '\\\\a'.TrimStart('\\'); 'ABC\\Def'.EndsWith('\\def', [System.StringComparison]::OrdinalIgnoreCase); 'a:b'.Contains(':'); 'ab'.Length"), ["x", "a", true, true, 2]);
    });
    it("[regex]::Replace with a script block as the MatchEvaluator (each UTF-16 unit of a surrogate pair apart)", () => {
      assert.equal(one("[regex]::Replace('a\u00e9\ud83d\ude00', '[^\\x00-\\x7F]', { param($m) '\\u{0:x4}' -f [int][char]$m.Value })"), "a\\u00e9\\ud83d\\ude00");
    });
    it("[System.Net.IPAddress]::TryParse with [ref] (IPv4, IPv6, scope ids; a name is not an address)", () => {
      assert.deepEqual(all("$a = $null; [System.Net.IPAddress]::TryParse('10.0.4.17', [ref]$a); [System.Net.IPAddress]::TryParse('fe80::1%12', [ref]$a); [System.Net.IPAddress]::TryParse('nas01', [ref]$a); $null -eq $a"), [true, true, false, true]);
    });
    it("Get-Date reads the host's clock; ToUniversalTime().ToString('o') has seven fractional digits", () => {
      assert.deepEqual(all("(Get-Date).ToUniversalTime().ToString('o'); (Get-Date).AddDays(-7).ToUniversalTime().ToString('o'); (Get-Date) -gt (Get-Date).AddDays(-1)"), ["2025-06-01T12:00:00.0000000Z", "2025-05-25T12:00:00.0000000Z", true]);
    });
    it("Sort-Object by calculated properties with Descending; Select-Object -First", () => {
      assert.deepEqual(
        one("$r = @(@{p='b';n=1}, @{p='a';n=2}, @{p='c';n=2}) | Sort-Object -Property @{ Expression = { $_.n }; Descending = $true }, @{ Expression = { $_.p }; Descending = $false } | Select-Object -First 2; @(,@($r | ForEach-Object { $_.p }))"),
        ["a", "c"],
      );
      assert.deepEqual(one("@(,@(3,1,2 | Sort-Object))"), [1, 2, 3]);
    });
    it("Where-Object filters with $_", () => {
      assert.deepEqual(all("@(1, 2, 3, 4) | Where-Object { $_ % 2 -eq 0 }"), [2, 4]);
    });
    it("Get-Command finds functions and commands; a missing one with -ErrorAction SilentlyContinue is nothing", () => {
      assert.deepEqual(all("function f {}; [bool](Get-Command -Name f); [bool](Get-Command -Name Echo-Params); $null -eq (Get-Command -Name Nope -ErrorAction SilentlyContinue)"), [true, true, true]);
    });
    it("$PSVersionTable.PSVersion: Major and its text", () => {
      assert.deepEqual(all("$PSVersionTable.PSVersion.Major; 'v' + $PSVersionTable.PSVersion"), [5, "v5.1.19041.5247"]);
    });
  });

  describe("errors (about_Try_Catch_Finally, about_Preference_Variables, about_CommonParameters)", () => {
    it("try/catch: $_ is the ErrorRecord with Exception.Message, CategoryInfo.Category and FullyQualifiedErrorId", () => {
      assert.deepEqual(all("try { [int]'x' } catch { $_.Exception.Message; [string]$_.CategoryInfo.Category; $_.FullyQualifiedErrorId; $_.CategoryInfo.Category -eq 'InvalidArgument' }"), [
        'Cannot convert value "x" to type "System.Int32". Error: "Input string was not in a correct format."',
        "InvalidArgument",
        "InvalidCastFromStringToInteger",
        true,
      ]);
    });
    it("$ErrorActionPreference = 'Stop' turns a command's non-terminating error into a catchable terminating one", () => {
      assert.deepEqual(all("$ErrorActionPreference = 'Stop'; try { Fail-Soft; 'not here' } catch { [string]$_.CategoryInfo.Category; $_.Exception.Message }"), ["PermissionDenied", "Requested registry access is not allowed."]);
    });
    it("with Continue the command goes on and the error is on stderr; -ErrorAction SilentlyContinue hides it", () => {
      const r = evaluate("Fail-Soft; Fail-Soft -ErrorAction SilentlyContinue; $Error.Count", testHost());
      assert.deepEqual(r.output.map(plain), ["after", "after", 2]);
      assert.match(r.stderr, /Fail-Soft : Requested registry access is not allowed\./);
      assert.equal((r.stderr.match(/Requested registry access/g) ?? []).length, 1);
    });
    it("-ErrorAction Stop on one call makes its error terminating even under Continue", () => {
      assert.deepEqual(all("try { Fail-Soft -ErrorAction Stop } catch { 'caught' }"), ["caught"]);
    });
    it("a terminating error from a command is caught even with -ErrorAction SilentlyContinue", () => {
      assert.deepEqual(all("try { Fail-Hard -ErrorAction SilentlyContinue } catch { [string]$_.CategoryInfo.Category; $_.FullyQualifiedErrorId }"), ["MetadataError", "HRESULT 0x80041010,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand"]);
    });
    it("outside try, a statement-terminating error under Continue ends only its statement", () => {
      const r = evaluate("[int]'x'; 'next'", testHost());
      assert.deepEqual(r.output, ["next"]);
      assert.equal(r.exitCode, 0);
      assert.match(r.stderr, /Cannot convert value/);
    });
    it("under Stop it ends the run: exit code 1, the error on stderr", () => {
      const r = evaluate("$ErrorActionPreference = 'Stop'; [int]'x'; 'next'", testHost());
      assert.deepEqual(r.output, []);
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /#< CLIXML/);
    });
    it("throw: a string becomes a RuntimeException (message and error id the text); throw alone in catch rethrows", () => {
      assert.deepEqual(all("try { throw 'boom' } catch { $_.Exception.Message; $_.FullyQualifiedErrorId }"), ["boom", "boom"]);
      assert.deepEqual(all("try { try { Fail-Hard } catch { throw } } catch { [string]$_.CategoryInfo.Category }"), ["MetadataError"]);
    });
    it("finally runs, also when the try block exits", () => {
      const r = evaluate("try { exit 4 } finally { [Console]::Out.Write('fin') }", testHost());
      assert.equal(r.exitCode, 4);
      assert.equal(r.stdout, "fin");
    });
    it("exit N ends the run with N, also from inside a function; output written before stays", () => {
      const r = evaluate("function f { 'a'; exit 7 }; f; 'not here'", testHost());
      assert.equal(r.exitCode, 7);
      assert.deepEqual(r.output, ["a"]);
    });
    it("an uncaught throw exits 1 with the message on stderr", () => {
      const r = evaluate("throw 'bad'", testHost());
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /<S S="Error">bad_x000D__x000A_<\/S>/);
    });
  });

  describe(".NET types and methods a host supplies (PowerShellHost.staticMembers)", () => {
    const dotnet = (): ReturnType<typeof testHost> => ({
      ...testHost(),
      staticMembers: {
        "System.Environment": { Is64BitProcess: { value: false } },
        "Contoso.Thing": {
          Make: {
            method: () =>
              hostObject("Contoso.Thing", {}, {
                Nothing: () => undefined,
                Null: () => null,
                Fail: () => {
                  throw new DotNetException("System.UnauthorizedAccessException", "Cannot write to the registry key.");
                },
              }),
          },
        },
      },
    });
    it("a type the host lists resolves by its full name, and [Environment] as System.Environment; -is tests a host object's type names", () => {
      assert.deepEqual(out("[Environment]::Is64BitProcess; [System.Environment]::Is64BitProcess; ([Contoso.Thing]::Make()) -is [Contoso.Thing]", dotnet()).map(plain), [false, false, true]);
    });
    it("a void method writes nothing (Hashtable.Remove too); a method returning null writes $null; in an expression a void call is $null", () => {
      assert.deepEqual(out("$t = [Contoso.Thing]::Make(); $t.Nothing(); $t.Null(); $null -eq $t.Nothing()", dotnet()).map(plain), [null, true]);
      assert.deepEqual(out("$h = @{ a = 1 }; $h.Remove('a'); $h.Count").map(plain), [0]);
    });
    it("a .NET exception is MethodInvocationException 'Exception calling ...', NotSpecified, its id the exception's type name", () => {
      const e = uncaught("([Contoso.Thing]::Make()).Fail($true)", dotnet());
      assert.deepEqual([e.message, e.fullyQualifiedErrorId, e.category, e.exceptionType], [
        'Exception calling "Fail" with "1" argument(s): "Cannot write to the registry key."',
        "UnauthorizedAccessException",
        "NotSpecified",
        "System.Management.Automation.MethodInvocationException",
      ]);
    });
  });

  describe("sessions: PowerShell 2.0 and Constrained Language Mode", () => {
    it("PowerShell 2.0 has no ConvertFrom-Json or ConvertTo-Json (CommandNotFoundException)", () => {
      const e = uncaught("'{}' | ConvertFrom-Json", testHost({ psVersion: "2.0" }));
      assert.equal(e.fullyQualifiedErrorId, "CommandNotFoundException");
      assert.equal(one("$PSVersionTable.PSVersion.Major -lt 3", testHost({ psVersion: "2.0" })), true);
    });
    it("Constrained Language Mode: $ExecutionContext.SessionState.LanguageMode, and no method calls on [Console] or [ScriptBlock]::Create", () => {
      const clm = testHost({ languageMode: "ConstrainedLanguage" });
      assert.deepEqual(all("$m = $ExecutionContext.SessionState.LanguageMode; $m -ne 'FullLanguage'; 'in ' + $m + ' mode'", clm), [true, "in ConstrainedLanguage mode"]);
      assert.equal(uncaught("[Console]::In.ReadToEnd()", clm).fullyQualifiedErrorId, "MethodInvocationNotSupportedInConstrainedLanguage");
      assert.equal(uncaught("[ScriptBlock]::Create('1')", clm).fullyQualifiedErrorId, "MethodInvocationNotSupportedInConstrainedLanguage");
      assert.equal(one("'a,b'.Split(',').Count", clm), 2);
    });
  });

  describe("refusals", () => {
    for (const [script, what] of [
      ["$a = $null; $a ?? 1", /null-coalescing operator \?\? is PowerShell 7 only/],
      ["$a = $null; $a ??= 1", /\?\?= is PowerShell 7 only/],
      ["$a = @{}; ${a}?.Count", /null-conditional member access .* is PowerShell 7 only/],
      ["$a = @(1); ${a}?[0]", /null-conditional member access .* is PowerShell 7 only/],
      ["$x = $true ? 1 : 2", /ternary operator .* is PowerShell 7 only/],
      ["Get-Date && Get-Date", /pipeline chain operator && is PowerShell 7 only/],
      ["Get-Date || Get-Date", /pipeline chain operator \|\| is PowerShell 7 only/],
      ["'{}' | ConvertFrom-Json -AsHashtable", /ConvertFrom-Json -AsHashtable is PowerShell 7 only/],
      ["'{}' | ConvertFrom-Json -Depth 3", /ConvertFrom-Json -Depth is PowerShell 7 only/],
      ["1 | ForEach-Object -Parallel { $_ }", /ForEach-Object -Parallel is PowerShell 7 only/],
    ] as Array<[string, RegExp]>) {
      it(`refuses ${script} as PowerShell 7 only`, () => fails(script, what));
    }
    it("refuses a construct it does not implement, naming it and its line", () => {
      fails("$i = 0\nwhile ($i -lt 1) { $i++ }", /^InterpreterError: not implemented: while_statement at line 2$|not implemented: while_statement at line 2/);
      fails("'a'.PadLeft(3)", /not implemented: the method String.PadLeft with 1 argument\(s\) at line 1/);
      fails("[System.IO.File]::Exists('x')", /not implemented: the type \[System.IO.File\] at line 1/);
      fails("$x = 1 -band 2", /not implemented: the operator -band at line 1/);
      fails("1..3", /not implemented: the expression 1..3 at the start of a pipeline/);
      fails("@((Get-Date), (Get-Date)).Ticks", /not implemented: member enumeration of .Ticks over a System.DateTime at line 1/);
    });
    it("refuses $Matches, which -match would set in PowerShell and the interpreter does not keep, rather than reading it as $null", () => {
      fails("if ('ab' -match 'a(b)') { $Matches[1] }", /not implemented: the automatic variable \$Matches \(set by -match\) at line 1/);
      assert.equal(one("$Matches = @{ 1 = 'own' }; $Matches[1]"), "own");
    });
    it("refuses a syntax error with its line", () => {
      fails("if ($x { 'a' }", /syntax error at line 1/);
    });
    it("is not fooled into a silent pass by an unknown ConvertTo-Json parameter", () => {
      fails("@{} | ConvertTo-Json -AsArray", /ConvertTo-Json -AsArray is PowerShell 7 only/);
      assert.match(uncaught("@{} | ConvertTo-Json -Nope").message, /A parameter cannot be found that matches parameter name 'Nope'/);
    });
  });

  it("a parsed tree kept on disk (storeTrees, keepTreesIn) is read back, without the grammar, as the tree the parser makes", () => {
    // Non-ASCII text and a comment, so offsets and the nodes' texts are checked where they could drift.
    const script = "# note\n$a = @{ 'K\u00e9y' = 1 }\nforeach ($k in $a.Keys) { \"[$k]\" + ('x' -f 2) }\n";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ps-trees-"));
    try {
      storeTrees(dir, [script]);
      const shape = (n: Ast): unknown => [n.type, n.text, n.named, n.line, n.col, n.start, n.end, n.kids.length, n.all.map(shape)];
      // A fresh process that never loads the grammar: parseScript would refuse without the stored tree.
      const child = `const a = require(${JSON.stringify(require.resolve("../simhost/powershell/ast"))}); a.keepTreesIn(process.argv[1]);
        const shape = (n) => [n.type, n.text, n.named, n.line, n.col, n.start, n.end, n.kids.length, n.all.map(shape)];
        process.stdout.write(JSON.stringify(shape(a.parseScript(process.argv[2]))));`;
      const read = execFileSync(process.execPath, ["-e", child, dir, script], { encoding: "utf8" });
      assert.deepEqual(JSON.parse(read), shape(parseScript(script)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("output objects of a script are kept in order across statements", () => {
    assert.deepEqual(out("'a'; 'b'").length, 2);
  });
});
