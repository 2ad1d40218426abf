/**
 * The local LLM's worker script is a file of the package, never written to or run from a shared
 * directory: a script planted in the temp directory under the name older versions used is not run,
 * and a worker file another user could write is refused.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalChatModel, localWorkerFile } from '../../src/llm/local';
import { OmnicapError } from '../../src/errors';
import { assertTrustedFile } from '../../src/util/trusted-file';

describe('local LLM worker file', () => {
  let dir: string;
  const savedTmp = process.env.TMPDIR;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'omnicap-plant-'))));
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(dir, { recursive: true, force: true });
  });

  test('is the shipped file next to the module', () => {
    const file = localWorkerFile();
    expect(file).toBe(join(__dirname, '..', '..', 'src', 'llm', 'local-worker.mjs'));
    expect(readFileSync(file, 'utf8')).toContain("from 'node:readline'");
  });

  test('a script planted in the temp directory is not executed', async () => {
    const plantDir = join(dir, 'tmp');
    mkdirSync(plantDir);
    process.env.TMPDIR = plantDir;
    const marker = join(dir, 'pwned');
    const payload = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran');\nprocess.stdout.write(JSON.stringify({ type: 'ready', contextSize: 1 }) + '\\n');\nsetInterval(() => undefined, 1000);\n`;
    // the names earlier versions wrote (content hash of the worker source), and a few plausible others
    const hash = createHash('sha256').update(readFileSync(localWorkerFile(), 'utf8')).digest('hex').slice(0, 16);
    for (const name of [`omnicap-llm-worker-${hash}.mjs`, 'omnicap-llm-worker.mjs', 'local-worker.mjs']) writeFileSync(join(plantDir, name), payload);
    const notGguf = join(dir, 'model.gguf');
    writeFileSync(notGguf, 'not a gguf file');
    const err = await LocalChatModel.load({ modelPath: notGguf }).then(
      async (m) => {
        await m.dispose();
        return undefined;
      },
      (e: unknown) => e,
    );
    // the real worker ran: it tried to load the bogus model and reported that
    expect(err).toBeInstanceOf(OmnicapError);
    expect((err as OmnicapError).code).toBe('MODEL_INVALID');
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  test('a world-writable file is refused before it is run', () => {
    const f = join(dir, 'w.mjs');
    writeFileSync(f, '');
    chmodSync(f, 0o666);
    expect(() => assertTrustedFile(f)).toThrow(expect.objectContaining({ code: 'UNTRUSTED_FILE' }));
    chmodSync(f, 0o644);
    expect(() => assertTrustedFile(f)).not.toThrow();
    chmodSync(dir, 0o777);
    expect(() => assertTrustedFile(f)).toThrow(/world-writable/);
    chmodSync(dir, 0o700);
  });

  test('a file owned by another user is refused', () => {
    if (process.getuid?.() !== 0) return; // chown needs root; CI runs as root
    const f = join(dir, 'o.mjs');
    writeFileSync(f, '');
    chownSync(f, 12345, 12345);
    expect(() => assertTrustedFile(f)).toThrow(/belongs to uid 12345/);
  });
});
