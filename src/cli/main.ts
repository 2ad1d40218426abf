#!/usr/bin/env node
import { isOmnicapError, toOmnicapError } from '../errors';
import type { CliCommand, CliIo } from './types';
import { commandLoaders } from './registry';
import { packageVersion } from '../util/paths';

function topUsage(summaries: Array<{ name: string; summary: string }>): string {
  const width = Math.max(...summaries.map((s) => s.name.length));
  return [
    'omnicap — local inference server and toolkit for omni detailed captioning',
    '',
    'Usage: omnicap <command> [options]',
    '       omnicap <command> --help',
    '',
    'Commands:',
    ...summaries.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`),
    '',
    'Global options: --help, --version',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const summaries = await Promise.all(
      Object.keys(commandLoaders).map(async (n) => ({ name: n, summary: (await commandLoaders[n]()).summary })),
    );
    io.stdout.write(topUsage(summaries) + '\n');
    return name === undefined ? 1 : 0;
  }
  const loader = commandLoaders[name];
  if (loader === undefined) {
    io.stderr.write(`omnicap: unknown command ${JSON.stringify(name)}; run 'omnicap --help' for the list\n`);
    return 2;
  }
  const command: CliCommand = await loader();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage.trimEnd() + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    const err = toOmnicapError(e);
    io.stderr.write(`omnicap ${name}: error ${err.code}: ${err.message}\n`);
    if (!isOmnicapError(e) && process.env.OMNICAP_DEBUG) io.stderr.write(`${(e as Error).stack ?? ''}\n`);
    return err.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}

/**
 * Under `npx` / `npm exec` the command runs below npm (and a shell) which may not pass SIGTERM
 * on: when the process that started us goes away we are re-parented, and treat that like
 * SIGTERM (graceful stop). On by default under npm (npm_command is set); OMNICAP_EXIT_WITH_PARENT=1
 * forces it, =0 turns it off. Process managers and Docker should run `node dist/src/cli/main.js`
 * (or the `omnicap` bin) directly so the signal reaches this process without the watch.
 */
export function watchParent(onGone: () => void, env: NodeJS.ProcessEnv = process.env, intervalMs = 500): (() => void) | undefined {
  const flag = env.OMNICAP_EXIT_WITH_PARENT;
  if (flag === '0' || (flag !== '1' && env.npm_command === undefined)) return undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

if (require.main === module) {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals | 'parent exit'): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  watchParent(() => {
    if (controller.signal.aborted) return; // already stopping (the signal was passed on): not a second signal
    process.stderr.write('omnicap: the parent process exited (e.g. npx was stopped); shutting down\n');
    onSignal('parent exit');
  });
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal })
    .then((code) => {
      process.exitCode = code;
    })
    .catch((e: unknown) => {
      process.stderr.write(`omnicap: fatal: ${String(e)}\n`);
      process.exitCode = 1;
    });
}
