/**
 * A CLI sub-command. Each lives in src/cli/commands/<name>.ts and exports `command`.
 * Commands are thin: parse flags, call the library API, print results.
 */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

export interface CliCommand {
  name: string;
  /** One line for the top-level --help. */
  summary: string;
  /** Full usage text printed by `omnicap <name> --help`. */
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}
