// The interface between the PowerShell interpreter (test/simhost/powershell/) and the simulated
// Windows it runs on. The interpreter owns the language and the engine's own cmdlets
// (ConvertFrom-Json, ConvertTo-Json, Write-Output, Out-Null, Where-Object, ForEach-Object,
// Sort-Object, Select-Object, Get-Command, Get-Date from `session.now`) and the .NET members the
// scripts call ([Console] through the run's stdin/stdout, [regex], [ScriptBlock]::Create, string,
// hashtable and DateTime methods). The host supplies only what Windows supplies: its commands
// (Get-SmbClientConfiguration, Get-ItemProperty, Get-CimInstance, Get-WinEvent, ...), and the
// facts of the PowerShell session. Keep this file small and stable: hosts are written against it.
import { ErrorCategory, PSValue } from "./values";

export * from "./values";

/** The session: what $PSVersionTable, $ExecutionContext and Get-Date answer. */
export interface SessionFacts {
  /** $PSVersionTable.PSVersion, e.g. "5.1.26100.4061" or "2.0" (Major < 3 has no ConvertFrom-Json / ConvertTo-Json). */
  psVersion: string;
  /** The language mode the script's statements run in (what Constrained Language Mode refuses follows it). */
  languageMode: "FullLanguage" | "ConstrainedLanguage";
  /**
   * What $ExecutionContext.SessionState.LanguageMode says, when it is not `languageMode`: the
   * session's mode inside a script file the application control policy allows (unsettled; the
   * harsher case, docs/windows-model.md "Application control").
   */
  reportedLanguageMode?: "FullLanguage" | "ConstrainedLanguage";
  /** The clock: Get-Date's instant. */
  now(): Date;
  /** The host's time zone as a fixed offset from UTC in minutes (Get-Date's local time); 0 if absent. */
  utcOffsetMinutes?: number;
}

/** A parameter a host command declares. */
export interface ParameterSpec {
  /** A switch parameter: `-Force` binds true, `-Force:$false` binds false. */
  switch?: boolean;
  /** Binds the n-th positional argument (0-based). */
  position?: number;
}

/**
 * A command the host implements. Parameters are bound by the interpreter, as PowerShell binds
 * them: names ignore case and may be abbreviated to an unambiguous prefix; the common parameters
 * (-ErrorAction, -WarningAction, -Verbose, -Debug, ...) are the engine's and never reach `run`;
 * -WhatIf and -Confirm only reach it (as switches) if `supportsShouldProcess`. A parameter the
 * command does not declare is PowerShell's binding error (NamedParameterNotFound).
 */
export interface HostCommand {
  parameters: Record<string, ParameterSpec>;
  /** The command accepts -WhatIf and -Confirm. */
  supportsShouldProcess?: boolean;
  /**
   * Runs the command once with all its pipeline input (none for the scripts' calls). Returns
   * what it writes to the output stream (an array is several objects, `[]` or undefined none).
   * A terminating error (ThrowTerminatingError) is `throw new CommandError(...)`; a
   * non-terminating one (WriteError) is `call.writeError(...)`, after which the command goes on
   * unless the error preference stopped it (writeError then throws; let it through).
   */
  run(call: CommandCall): PSValue[] | PSValue | void;
}

export interface CommandCall {
  /** The command's name as the host registered it. */
  name: string;
  /** Bound parameters by their declared names (switches as booleans; absent if not given). */
  parameters: Record<string, PSValue>;
  /** Pipeline input, each object once (arrays already unrolled). */
  input: PSValue[];
  /** Writes a non-terminating error; throws if the effective -ErrorAction is Stop. */
  writeError(error: ErrorSpec): void;
}

/** What a host error is, as a catch block sees it ($_.Exception.Message, $_.CategoryInfo.Category, $_.FullyQualifiedErrorId). */
export interface ErrorSpec {
  message: string;
  category: ErrorCategory;
  /** The whole id as PowerShell shows it, e.g. "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand". */
  fullyQualifiedErrorId: string;
  /** $_.Exception's .NET type, e.g. "System.UnauthorizedAccessException" (default System.Exception). */
  exceptionType?: string;
  targetObject?: PSValue;
}

/** A terminating error a host command throws (PowerShell's ThrowTerminatingError). */
export class CommandError extends Error {
  constructor(readonly error: ErrorSpec) {
    super(error.message);
    this.name = "CommandError";
  }
}

/**
 * A .NET exception a host object's method (or a host static method) throws. PowerShell reports it
 * as a MethodInvocationException, 'Exception calling "<method>" with "<n>" argument(s):
 * "<message>"', category NotSpecified, whose FullyQualifiedErrorId is the exception's type name
 * without its namespace ("UnauthorizedAccessException"), as for [int]::Parse('x') (FormatException).
 */
export class DotNetException extends Error {
  constructor(
    /** The exception's .NET type, e.g. "System.UnauthorizedAccessException". */
    readonly exceptionType: string,
    message: string,
  ) {
    super(message);
    this.name = "DotNetException";
  }
}

/** A static member the host adds ([Environment]::MachineName ...): a property's value, or a method. */
export type StaticMember = { value: PSValue } | { method: (...args: PSValue[]) => PSValue | undefined };

/** Everything the host supplies to a run. */
export interface PowerShellHost {
  session: SessionFacts;
  /** Commands by name (matched ignoring case). Get-Command finds these, the engine's and the script's functions. */
  commands: Record<string, HostCommand>;
  /**
   * Static members beyond the engine's, by type name and member ("System.Environment" ->
   * "MachineName"); a type the engine does not know and the host does not list is refused.
   */
  staticMembers?: Record<string, Record<string, StaticMember>>;
}

/** One run of powershell.exe -EncodedCommand <script> (or -File <path>), with stdin. */
export interface RunRequest {
  /** The script text (bootstrap.ps1 as the provider sends it, or the file's text). */
  script: string;
  /**
   * powershell.exe -File: the file's full path ($PSCommandPath). The script's param block is
   * then bound with no arguments, as powershell.exe -File <path> with none binds it.
   */
  file?: string;
  /** What [Console]::In.ReadToEnd() reads. */
  stdin: string;
  host: PowerShellHost;
}

export interface RunResult {
  /** [Console]::Out writes and the output stream (formatted as powershell.exe writes it, lines ending in \r\n). */
  stdout: string;
  /** Uncaught errors and unsilenced non-terminating errors, as CLIXML error records. */
  stderr: string;
  exitCode: number;
}
