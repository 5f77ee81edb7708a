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
  /** The decoded -EncodedCommand text (UTF-16LE in base64 on the wire), or the -Command text. */
  command: string;
  /** True for -EncodedCommand (how the provider runs), false for a plain -Command. */
  encoded: boolean;
}

/** Parses `powershell.exe [-NoProfile] [-NonInteractive] [-ExecutionPolicy p] -EncodedCommand b64`. */
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
    } else {
      throw new WindowsCommandError(`powershell.exe: unexpected argument '${argv[i]}'`, 1);
    }
  }
  if (command === undefined) throw new WindowsCommandError("powershell.exe: no -EncodedCommand or -Command given", 1);
  return { program, switches, executionPolicy, command, encoded };
}
