// The cmdlets the engine provides itself, as Windows PowerShell 5.1 has them (they are not
// Windows-specific): ConvertFrom-Json, ConvertTo-Json, Write-Output, Out-Null, Where-Object,
// ForEach-Object, Sort-Object, Select-Object, Get-Command, Get-Date. Parameters the scripts do not
// use are refused by name; those that exist only in PowerShell 7 are refused as such.
import { notImplemented, powershell7Only } from "./ast";
import { compareStrings, enumerable, psCompare, toBool, toIntegral, toStr } from "./convert";
import { PSError } from "./errors";
import { EngineCall, EngineCommand } from "./evaluator";
import { convertFromJson, convertToJson } from "./json";
import { EngineObject, ErrorRecord, PSArray, PSDateTime, PSHashtable, PSValue, ScriptBlock } from "./values";

function refuse7(call: EngineCall, names: string[]): void {
  for (const n of names) if (n in call.parameters) throw powershell7Only(`${call.name} -${n}`, { line: call.line });
}

function only(call: EngineCall, allowed: string[]): void {
  for (const n of Object.keys(call.parameters)) if (!allowed.includes(n)) throw notImplemented(`${call.name} -${n}`, { line: call.line });
}

function bindingError(call: EngineCall, message: string, id: string): PSError {
  return new PSError(new ErrorRecord(message, "InvalidData", `${id},Microsoft.PowerShell.Commands.${call.name.replace("-", "")}Command`, "System.Management.Automation.ParameterBindingException", null, call.name), "statement");
}

function sbOf(v: PSValue, call: EngineCall, param: string): ScriptBlock {
  if (v instanceof ScriptBlock) return v;
  throw notImplemented(`${call.name} -${param} with a ${v === null ? "$null" : v.constructor.name}`, { line: call.line });
}

/** Runs a script block with $_ set to one input object; its output. */
function withItem(call: EngineCall, sb: ScriptBlock, item: PSValue): PSValue[] {
  return call.interp.invokeScriptBlock(sb, call.scope, [], undefined, item);
}

/** Sort-Object's comparison: $null first, numbers by value, strings by the culture ignoring case. */
function sortCompare(a: PSValue, b: PSValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === "string" || typeof b === "string") return compareStrings(toStr(a), toStr(b), true);
  return psCompare(a, b, true);
}

export const ENGINE_COMMANDS: Record<string, EngineCommand> = {
  "ConvertFrom-Json": {
    since: 3,
    parameters: { InputObject: { position: 0 }, AsHashtable: { switch: true }, Depth: {}, NoEnumerate: { switch: true } },
    run: () => undefined,
    runEngine(call) {
      refuse7(call, ["AsHashtable", "Depth", "NoEnumerate"]);
      const inputs = "InputObject" in call.parameters ? [call.parameters.InputObject] : call.input;
      if (inputs.length === 0) return [];
      if (inputs.length > 1) throw notImplemented("ConvertFrom-Json of several input strings", { line: call.line });
      const v = inputs[0];
      // InputObject is a mandatory [string] that does not allow $null or "".
      if (v === null) throw bindingError(call, "Cannot bind argument to parameter 'InputObject' because it is null.", "ParameterArgumentValidationErrorNullNotAllowed");
      const text = toStr(v);
      if (text === "") throw bindingError(call, "Cannot bind argument to parameter 'InputObject' because it is an empty string.", "ParameterArgumentValidationErrorEmptyStringNotAllowed");
      // Windows PowerShell 5.1 writes a JSON array as one object[] (PowerShell 7 enumerates it).
      return [convertFromJson(text)];
    },
  },
  "ConvertTo-Json": {
    since: 3,
    parameters: { InputObject: { position: 0 }, Depth: {}, Compress: { switch: true }, EnumsAsStrings: { switch: true }, AsArray: { switch: true }, EscapeHandling: {} },
    run: () => undefined,
    runEngine(call) {
      refuse7(call, ["EnumsAsStrings", "AsArray", "EscapeHandling"]);
      const depth = "Depth" in call.parameters ? toIntegral(call.parameters.Depth, "Int32").value : 2;
      if (depth < 1) throw bindingError(call, `Cannot validate argument on parameter 'Depth'. The ${depth} argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again.`, "ParameterArgumentValidationError");
      if (depth > 100) {
        throw new PSError(new ErrorRecord("The maximum depth allowed for serialization is 100.", "InvalidOperation", "ReachedMaximumDepthAllowed,Microsoft.PowerShell.Commands.ConvertToJsonCommand", "System.InvalidOperationException", null, call.name), "statement");
      }
      // -InputObject takes its argument whole (an array is one object); pipeline input is each object.
      const inputs = "InputObject" in call.parameters ? [call.parameters.InputObject] : call.input;
      const json = convertToJson(inputs, depth, toBool(call.parameters.Compress ?? false));
      return json === undefined ? [] : [json];
    },
  },
  "Write-Output": {
    parameters: { InputObject: { position: 0 }, NoEnumerate: { switch: true } },
    run: () => undefined,
    runEngine(call) {
      only(call, ["InputObject"]);
      if ("InputObject" in call.parameters) {
        const v = call.parameters.InputObject;
        return enumerable(v) ?? [v];
      }
      return call.input;
    },
  },
  "Out-Null": {
    parameters: { InputObject: { position: 0 } },
    run: () => undefined,
    runEngine() {
      return [];
    },
  },
  "Where-Object": {
    parameters: { FilterScript: { position: 0 }, Property: {}, Value: {} },
    run: () => undefined,
    runEngine(call) {
      only(call, ["FilterScript"]);
      const sb = sbOf(call.parameters.FilterScript ?? null, call, "FilterScript");
      return call.input.filter((item) => {
        const out = withItem(call, sb, item);
        return toBool(out.length === 1 ? out[0] : new PSArray(out));
      });
    },
  },
  "ForEach-Object": {
    parameters: { Process: { position: 0 }, Begin: {}, End: {}, MemberName: {}, Parallel: {}, ThrottleLimit: {} },
    run: () => undefined,
    runEngine(call) {
      refuse7(call, ["Parallel", "ThrottleLimit"]);
      only(call, ["Process"]);
      const sb = sbOf(call.parameters.Process ?? null, call, "Process");
      const out: PSValue[] = [];
      for (const item of call.input) out.push(...withItem(call, sb, item));
      return out;
    },
  },
  "Sort-Object": {
    parameters: { Property: { position: 0 }, Descending: { switch: true }, Unique: { switch: true }, CaseSensitive: { switch: true }, Stable: { switch: true }, Top: {}, Bottom: {} },
    run: () => undefined,
    runEngine(call) {
      refuse7(call, ["Stable", "Top", "Bottom"]);
      only(call, ["Property", "Descending"]);
      const descendingAll = toBool(call.parameters.Descending ?? false);
      const props = "Property" in call.parameters ? (enumerable(call.parameters.Property) ?? [call.parameters.Property]) : [];
      // Each key: an expression (script block or property name) and its direction (about_Calculated_Properties).
      const keys = props.map((p) => {
        if (p instanceof ScriptBlock) return { get: (v: PSValue) => collapseOut(withItem(call, p, v)), descending: descendingAll };
        if (typeof p === "string") throw notImplemented("Sort-Object -Property <name>", { line: call.line });
        if (p instanceof PSHashtable) {
          let expression: PSValue = null;
          let descending = descendingAll;
          for (const [k, v] of p.pairs()) {
            const key = toStr(k).toLowerCase();
            if ("expression".startsWith(key) && key.length > 0) expression = v;
            else if ("descending".startsWith(key)) descending = toBool(v);
            else if ("ascending".startsWith(key)) descending = !toBool(v);
            else throw notImplemented(`the Sort-Object key ${toStr(k)}`, { line: call.line });
          }
          const sb = sbOf(expression, call, "Property Expression");
          return { get: (v: PSValue) => collapseOut(withItem(call, sb, v)), descending };
        }
        throw notImplemented("this Sort-Object -Property", { line: call.line });
      });
      if (keys.length === 0) keys.push({ get: (v: PSValue) => v, descending: descendingAll });
      const rows = call.input.map((item) => ({ item, values: keys.map((k) => k.get(item)) }));
      // Stable here; Windows PowerShell 5.1's sort is not guaranteed stable, so ties' order is unspecified there.
      rows.sort((a, b) => {
        for (let i = 0; i < keys.length; i++) {
          const c = sortCompare(a.values[i], b.values[i]);
          if (c !== 0) return keys[i].descending ? -c : c;
        }
        return 0;
      });
      return rows.map((r) => r.item);
    },
  },
  "Select-Object": {
    parameters: { Property: { position: 0 }, First: {}, Last: {}, Skip: {}, Unique: { switch: true }, ExpandProperty: {}, ExcludeProperty: {} },
    run: () => undefined,
    runEngine(call) {
      only(call, ["First", "Last", "Skip"]);
      let items = call.input;
      if ("Skip" in call.parameters) items = items.slice(toIntegral(call.parameters.Skip, "Int32").value);
      if ("First" in call.parameters) items = items.slice(0, Math.max(0, toIntegral(call.parameters.First, "Int32").value));
      if ("Last" in call.parameters) {
        const n = toIntegral(call.parameters.Last, "Int32").value;
        items = n > 0 ? items.slice(-n) : [];
      }
      return items;
    },
  },
  "Get-Command": {
    parameters: { Name: { position: 0 }, CommandType: {}, Module: {} },
    run: () => undefined,
    runEngine(call) {
      only(call, ["Name"]);
      const names = enumerable(call.parameters.Name ?? null) ?? [call.parameters.Name ?? null];
      const out: PSValue[] = [];
      for (const n of names) {
        const name = toStr(n);
        if (/[*?[]/.test(name)) throw notImplemented("Get-Command with wildcards", { line: call.line });
        const found = call.interp.resolveCommand(name, call.scope);
        if (found) {
          const type = found.fn ? "Function" : "Cmdlet";
          out.push(new EngineObject(`System.Management.Automation.${type}Info`, { Name: found.name, CommandType: type }, {}, found.name));
        } else {
          call.writeError({
            message: `The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
            category: "ObjectNotFound",
            fullyQualifiedErrorId: "CommandNotFoundException,Microsoft.PowerShell.Commands.GetCommandCommand",
            exceptionType: "System.Management.Automation.CommandNotFoundException",
            targetObject: name,
          });
        }
      }
      return out;
    },
  },
  "Get-Date": {
    parameters: { Date: { position: 0 }, Format: {}, UFormat: {} },
    run: () => undefined,
    runEngine(call) {
      only(call, []);
      const s = call.interp.run.host.session;
      // The current local time: Kind Local, in the host's time zone.
      return [new PSDateTime(s.now().getTime(), "Local", s.utcOffsetMinutes ?? 0)];
    },
  },
};

function collapseOut(out: PSValue[]): PSValue {
  return out.length === 0 ? null : out.length === 1 ? out[0] : new PSArray(out);
}

