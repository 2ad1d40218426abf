/** Running CLI commands in-process with their output captured as text (`main(argv, io)`, `command.run(argv, io)`). */
import { PassThrough } from 'node:stream';
import type { CliCommand, CliIo } from '../../src/cli/types';

export interface CapturedIo extends CliIo {
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

/** A CLI io whose stdout and stderr are kept as text; `signal` aborts the command (default: never). */
export function captureIo(signal: AbortSignal = new AbortController().signal): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.setEncoding('utf8'); // a character split across two writes is decoded whole
  stderr.setEncoding('utf8');
  stdout.on('data', (d: string) => (o += d));
  stderr.on('data', (d: string) => (e += d));
  return { stdout, stderr, signal, out: () => o, err: () => e };
}

/** Run one command in-process: its exit code and what it wrote (a thrown error is the caller's). */
export async function runCommand(command: CliCommand, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await command.run(argv, io);
  return { code, out: io.out(), err: io.err() };
}
