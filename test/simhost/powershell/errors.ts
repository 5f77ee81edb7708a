// PowerShell's errors and the interpreter's control flow. A terminating error is a PSError
// carrying the ErrorRecord a catch block sees as $_; `exit`, `return`, `break` and `continue`
// unwind as signals that no catch block catches (about_Try_Catch_Finally: catch handles
// terminating errors; about_Language_Keywords: exit, return, break, continue).
import { ErrorCategory, ErrorRecord, PSValue } from "./values";

/**
 * A terminating error. `scope` is how far it reaches without a try/catch when
 * $ErrorActionPreference is not Stop (about_Error_Handling... in the spec, 8.5.1 "statement-
 * terminating" vs "script-terminating"): a cmdlet's ThrowTerminatingError ends its statement,
 * `throw` and a non-terminating error that -ErrorAction Stop turned terminating end the script.
 */
export class PSError {
  constructor(
    readonly record: ErrorRecord,
    readonly scope: "statement" | "script" = "script",
  ) {}
}

export class ExitSignal {
  constructor(readonly code: number) {}
}
export class ReturnSignal {}
export class BreakSignal {
  constructor(readonly label?: string) {}
}
export class ContinueSignal {
  constructor(readonly label?: string) {}
}

/** A RuntimeException as the engine raises it (conversion failures, method calls on $null, ...). */
export function runtimeError(
  message: string,
  errorId: string,
  category: ErrorCategory = "InvalidOperation",
  exceptionType = "System.Management.Automation.RuntimeException",
  target: PSValue = null,
): PSError {
  return new PSError(new ErrorRecord(message, category, errorId, exceptionType, target), "statement");
}
