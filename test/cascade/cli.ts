import { PassThrough } from 'node:stream';
import { command } from '../../src/cli/commands/cascade';

/** Run `omnicap cascade ...` in-process, capturing stdout/stderr. */
export async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += String(d)));
  stderr.on('data', (d) => (err += String(d)));
  const code = await command.run(argv, { stdout, stderr, signal: new AbortController().signal });
  return { code, out, err };
}
