/**
 * Builds the lines of a simulated `msiexec /L*v` log: the shape of a real verbose log (client
 * and server lines, the product summary, `MainEngineThread is returning N`), not its volume.
 */
export class InstallLog {
  private readonly lines: string[] = [];

  constructor(
    private readonly at: Date,
    commandLine: string,
  ) {
    this.lines.push(
      `=== Verbose logging started: ${logDate(at)}  Build type: SHIP UNICODE 3.01.4001.5512  Calling process: C:\\WINDOWS\\system32\\msiexec.exe ===`,
    );
    this.client(`Resetting cached policy values`);
    this.client(`Machine policy value 'Debug' is 0`);
    this.client(`Command Line: ${commandLine}`);
  }

  client(text: string): void {
    this.lines.push(`MSI (c) (3C:40) [${logTime(this.at)}]: ${text}`);
  }

  server(text: string): void {
    this.lines.push(`MSI (s) (A8:B4) [${logTime(this.at)}]: ${text}`);
  }

  /** The lines written so far: the log of an install still running. */
  snapshot(): string[] {
    return [...this.lines];
  }

  finish(exitCode: number): string[] {
    this.client(`MainEngineThread is returning ${exitCode}`);
    this.lines.push(`=== Verbose logging stopped: ${logDate(this.at)} ===`);
    return [...this.lines];
  }
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

function logDate(at: Date): string {
  return `${at.getUTCMonth() + 1}/${at.getUTCDate()}/${at.getUTCFullYear()}  ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
}

function logTime(at: Date): string {
  return `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}:${pad(at.getUTCMilliseconds(), 3)}`;
}
