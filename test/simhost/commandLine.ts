// How Windows turns the SSH exec request into a running PowerShell: Windows OpenSSH hands the
// line to `cmd.exe /c` (8191 characters at most, metacharacters interpreted), cmd starts the
// program, and powershell.exe splits its arguments with the CommandLineToArgvW rules.

export const CMD_MAX_LINE = 8191;

export class WindowsCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** CommandLineToArgvW: whitespace separates, quotes group, backslashes escape only before quotes. */
export function splitWindowsArgs(line: string): string[] {
  const args: string[] = [];
  let current = "";
  let inQuotes = false;
  let hasArg = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\") {
      let n = 0;
      while (line[i] === "\\") {
        n++;
        i++;
      }
      if (line[i] === '"') {
        current += "\\".repeat(Math.floor(n / 2));
        if (n % 2 === 1) current += '"';
        else inQuotes = !inQuotes;
      } else {
        current += "\\".repeat(n);
        i--;
      }
      hasArg = true;
    } else if (ch === '"') {
      inQuotes = !inQuotes;
      hasArg = true;
    } else if ((ch === " " || ch === "\t") && !inQuotes) {
      if (hasArg) args.push(current);
      current = "";
      hasArg = false;
    } else {
      current += ch;
      hasArg = true;
    }
  }
  if (hasArg) args.push(current);
  return args;
}

/** What cmd.exe /c would do with the line before starting a program. */
export function cmdExeCommandLine(line: string): string {
  if (line.length > CMD_MAX_LINE) throw new WindowsCommandError("The command line is too long.", 1);
  let inQuotes = false;
  for (const ch of line) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && "&|<>^".includes(ch)) {
      throw new WindowsCommandError(`cmd.exe would interpret '${ch}' in the command line`, 1);
    }
    if (ch === "%" || ch === "\n" || ch === "\r") {
      throw new WindowsCommandError(`cmd.exe would interpret '${JSON.stringify(ch)}' in the command line`, 1);
    }
  }
  return line;
}

export interface PowerShellInvocation {
  program: string;
  switches: Set<string>;
  executionPolicy?: string;
  /** The decoded -EncodedCommand text (UTF-16LE in base64 on the wire), or the -Command text ("" with -File). */
  command: string;
  /** True for -EncodedCommand (how the provider runs by default), false for a plain -Command or -File. */
  encoded: boolean;
  /** -File: the script's path as given (connection.scriptPath). */
  file?: string;
  /** -File: the arguments after the path, which go to the script. */
  fileArgs?: string[];
}

/** powershell.exe's exit code for a command line it refuses (ConsoleHost ExitCodeBadCommandLineParameter, 0xFFFD0000). */
export const BAD_COMMAND_LINE_EXIT = 0xfffd0000;

/**
 * Parses `powershell.exe [-NoProfile] [-NonInteractive] [-ExecutionPolicy p] -EncodedCommand b64`
 * or `... -File <path> [script arguments]`. -File as about_PowerShell_exe (5.1) gives it: "File
 * must be the last parameter in the command, because all characters typed after the File
 * parameter name are interpreted as the script file path followed by the script parameters";
 * the path must name a .ps1 file ("Processing -File '<path>' failed because the file does not
 * have a '.ps1' extension"). Whether the file exists is the host's to say (windowsHost.ts).
 */
export function parsePowerShell(line: string): PowerShellInvocation {
  const argv = splitWindowsArgs(cmdExeCommandLine(line));
  const program = argv[0] ?? "";
  if (!/^(powershell|powershell\.exe)$/i.test(program)) {
    throw new WindowsCommandError(`'${program}' is not recognized as an internal or external command`, 9009);
  }
  const switches = new Set<string>();
  let executionPolicy: string | undefined;
  let command: string | undefined;
  let encoded = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i].toLowerCase();
    if (arg === "-noprofile" || arg === "-nop") switches.add("NoProfile");
    else if (arg === "-noninteractive" || arg === "-noni") switches.add("NonInteractive");
    else if (arg === "-executionpolicy" || arg === "-ep") executionPolicy = argv[++i];
    else if (arg === "-encodedcommand" || arg === "-enc" || arg === "-e" || arg === "-ec") {
      const b64 = argv[++i] ?? "";
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
        throw new WindowsCommandError("Cannot process the command because the value specified with -EncodedCommand is not properly encoded.", 1);
      }
      command = Buffer.from(b64, "base64").toString("utf16le");
      encoded = true;
    } else if (arg === "-command" || arg === "-c") {
      // powershell.exe takes every remaining argument as the command text.
      command = argv.slice(i + 1).join(" ");
      break;
    } else if (arg === "-file") {
      // Only the full name: the provider sends no other, and no abbreviation is modelled.
      if (command !== undefined) throw new WindowsCommandError("powershell.exe: -File after -EncodedCommand is not modelled (the provider never sends both)", 1);
      const file = argv[i + 1];
      if (file === undefined) throw new WindowsCommandError("Missing the argument to -File. Specify a path to a '.ps1' file.", BAD_COMMAND_LINE_EXIT);
      if (!/\.ps1$/i.test(file)) {
        throw new WindowsCommandError(`Processing -File '${file}' failed because the file does not have a '.ps1' extension. Specify a valid Windows PowerShell script file name, and then try again.`, BAD_COMMAND_LINE_EXIT);
      }
      return { program, switches, executionPolicy, command: "", encoded: false, file, fileArgs: argv.slice(i + 2) };
    } else {
      throw new WindowsCommandError(`powershell.exe: unexpected argument '${argv[i]}'`, 1);
    }
  }
  if (command === undefined) throw new WindowsCommandError("powershell.exe: no -EncodedCommand or -Command given", 1);
  return { program, switches, executionPolicy, command, encoded };
}

/**
 * `type "<path>"`: cmd.exe's built-in, which copies a file's bytes to stdout; the line cmd.exe runs
 * for Windows OpenSSH (its default shell) and the WinRM cmd shell alike. Only the one form the
 * provider sends (one path, in quotes or not); undefined for any other line.
 */
export function parseTypeCommand(line: string): string | undefined {
  const argv = splitWindowsArgs(cmdExeCommandLine(line));
  if (argv[0]?.toLowerCase() !== "type") return undefined;
  if (argv.length !== 2) throw new WindowsCommandError("simulated host: type with other than one path is not modelled", 95);
  return argv[1];
}
