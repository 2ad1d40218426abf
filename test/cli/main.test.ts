import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main';
import { commandLoaders } from '../../src/cli/registry';
import { packageVersion } from '../../src/util/paths';

function capture(): { io: Parameters<typeof main>[1]; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  stderr.on('data', (c: Buffer) => (e += c.toString()));
  return { io: { stdout, stderr, signal: new AbortController().signal }, out: () => o, err: () => e };
}

describe('omnicap CLI dispatcher', () => {
  test('--version prints the package version', async () => {
    const c = capture();
    expect(await main(['--version'], c.io)).toBe(0);
    expect(c.out().trim()).toBe(packageVersion());
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('--help lists every registered command with its summary', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(0);
    for (const name of Object.keys(commandLoaders)) {
      const cmd = await commandLoaders[name]();
      expect(cmd.name).toBe(name);
      expect(c.out()).toContain(name);
      expect(c.out()).toContain(cmd.summary);
      expect(cmd.usage).toContain(name);
    }
  });

  test('unknown command exits 2 with a pointer to --help', async () => {
    const c = capture();
    expect(await main(['no-such-command'], c.io)).toBe(2);
    expect(c.err()).toContain('unknown command "no-such-command"');
    expect(c.err()).toContain('--help');
  });

  test('no command prints usage and exits 1', async () => {
    const c = capture();
    expect(await main([], c.io)).toBe(1);
    expect(c.out()).toContain('Usage: omnicap <command>');
  });
});
