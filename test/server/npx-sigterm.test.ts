/**
 * `npx omnicap serve` under SIGTERM (a process manager stopping npx): npm runs the bin through a
 * shell that does not pass the signal on, so the server notices it was re-parented and shuts
 * down gracefully instead of running on (the real npx of the npm on this machine).
 */
import { spawn } from 'node:child_process';
import { packageRoot } from '../../src/util/paths';
import { watchParent } from '../../src/cli/main';
import { guarded, until } from '../wait';

test('SIGTERM to npx stops the server too (graceful, "shutting down")', async () => {
  const npx = spawn('npx', ['--no-install', 'omnicap', 'serve', '--port', '0', '--provider', 'cpu', '--threads', '1', '--quiet'], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npx.stdout.on('data', (d: Buffer) => (out += d.toString()));
  npx.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // the pipes close when the last process holding them (the server) has exited
  const serverGone = new Promise<void>((r) => npx.stdout.on('close', () => r()));
  try {
    await until(() => /ready, model/.test(out) || npx.exitCode !== null, [[npx.stdout, 'data'], [npx.stderr, 'data'], [npx, 'exit']], 'serve ready');
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    npx.kill('SIGTERM');
    await guarded(serverGone, 'the server to exit after SIGTERM to npx');
    expect(out).toMatch(/shutting down/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  } finally {
    if (npx.exitCode === null) npx.kill('SIGKILL');
  }
}, 150_000);

test('the parent watch is on under npm (npm_command) or OMNICAP_EXIT_WITH_PARENT=1, off otherwise or with =0', () => {
  const on = (env: NodeJS.ProcessEnv): boolean => {
    const stop = watchParent(() => undefined, env);
    stop?.();
    return stop !== undefined;
  };
  expect(on({ npm_command: 'exec' })).toBe(true);
  expect(on({ OMNICAP_EXIT_WITH_PARENT: '1' })).toBe(true);
  expect(on({})).toBe(false);
  expect(on({ npm_command: 'exec', OMNICAP_EXIT_WITH_PARENT: '0' })).toBe(false);
});
