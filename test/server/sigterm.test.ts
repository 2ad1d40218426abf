/** `omnicap serve` as a real process: SIGTERM stops accepting, lets the in-flight request finish, exits 0. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';
import { SPEECH_7S, postJson, wavBase64 } from './helpers';
import { until } from '../wait';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

test('SIGTERM: in-flight request completes, new connections are refused, exit code 0', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--provider', 'cpu', '--threads', '1', '--quiet', '--shutdown-grace-ms', '20000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await until(() => /ready, model/.test(stdout) || child.exitCode !== null, [[child.stdout, 'data'], [child, 'exit']], 'serve ready');
    const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    expect(url).toBeDefined();
    // a long streamed generation is in flight when the signal arrives
    const res = await postJson(`${url}/v1/captions`, { data: wavBase64(SPEECH_7S), max_tokens: 3000, temperature: 0, stream: true });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    child.kill('SIGTERM');
    let body = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      body += Buffer.from(value).toString('utf8');
    }
    expect(body).toMatch(/"type":"done"/); // finished within the grace period, not cut off
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/shutting down/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (stderr.includes('Error')) console.error(stderr);
  }
});
