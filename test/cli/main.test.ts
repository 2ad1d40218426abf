import { main } from '../../src/cli/main';
import { commandLoaders } from '../../src/cli/registry';
import { packageVersion } from '../../src/util/paths';
import { captureIo } from './capture';

describe('omnicap CLI dispatcher', () => {
  test('--version prints the package version', async () => {
    const c = captureIo();
    expect(await main(['--version'], c)).toBe(0);
    expect(c.out().trim()).toBe(packageVersion());
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('--help lists every registered command with its summary', async () => {
    const c = captureIo();
    expect(await main(['--help'], c)).toBe(0);
    for (const name of Object.keys(commandLoaders)) {
      const cmd = await commandLoaders[name]();
      expect(cmd.name).toBe(name);
      expect(c.out()).toContain(name);
      expect(c.out()).toContain(cmd.summary);
      expect(cmd.usage).toContain(name);
    }
  });

  test('unknown command exits 2 with a pointer to --help', async () => {
    const c = captureIo();
    expect(await main(['no-such-command'], c)).toBe(2);
    expect(c.err()).toContain('unknown command "no-such-command"');
    expect(c.err()).toContain('--help');
  });

  test('no command prints usage and exits 1', async () => {
    const c = captureIo();
    expect(await main([], c)).toBe(1);
    expect(c.out()).toContain('Usage: omnicap <command>');
  });
});
