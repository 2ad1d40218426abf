/**
 * A model directory as it is deployed: external-data files listed in the manifest with their sha256, readable by
 * any user, loaded from a READ-ONLY bind mount by a non-root user (uid/gid 65534, as the container's unprivileged
 * user would), through the real CLI (dist/, built by `npm run build`). Uses the committed int8 QMoE fixture, which
 * has the real model's layout (<graph>.onnx + <graph>.onnx.data).
 * Where the test runs without root (no mount namespace), it loads from a chmod a-w copy as the current user.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';
import { FIXTURE_DIR, SPEECH_WAV } from './helpers';

const MODEL = join(FIXTURE_DIR, '..', 'tiny-random-qmoe-cpu');
const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const NOBODY = 65534;

interface Manifest {
  name: string;
  files: Record<string, { sha256: string; bytes: number }>;
}
const manifest = JSON.parse(readFileSync(join(MODEL, 'manifest.json'), 'utf8')) as Manifest;

function canMountAsRoot(): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync('unshare', ['-m', 'true']);
  const s = spawnSync('setpriv', ['--version']);
  return r.status === 0 && s.status === 0;
}

describe('deployable model directory', () => {
  it('manifest lists every file (external data included) with its sha256 and size', () => {
    const onDisk = readdirSync(MODEL).filter((f) => f !== 'manifest.json').sort();
    expect(Object.keys(manifest.files).sort()).toEqual(onDisk);
    expect(onDisk.filter((f) => f.endsWith('.onnx.data')).sort()).toEqual(['audio_encoder.onnx.data', 'decoder.onnx.data', 'embed.onnx.data']);
    for (const f of onDisk) {
      const buf = readFileSync(join(MODEL, f));
      expect({ f, bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') }).toEqual({ f, ...manifest.files[f] });
    }
  });

  it('captions from a read-only mount as a non-root user', () => {
    expect(existsSync(CLI)).toBe(true);
    const root = mkdtempSync(join(tmpdir(), 'omnicap-deploy-'));
    try {
      chmodSync(root, 0o755); // mkdtemp is 0700: the unprivileged user must be able to traverse it
      const src = join(root, 'model');
      const mnt = join(root, 'mnt');
      cpSync(MODEL, src, { recursive: true });
      cpSync(MODEL, mnt, { recursive: true }); // mount point (replaced by the bind mount when root)
      for (const f of readdirSync(src)) chmodSync(join(src, f), 0o644); // as the exporter writes them
      chmodSync(src, 0o755);
      const caption = ['caption', '--model', mnt, '--greedy', '--max-tokens', '3', '--threads', '1', SPEECH_WAV];
      let r;
      if (canMountAsRoot()) {
        const script = [
          'set -e',
          'mount --bind "$1" "$2"',
          'mount -o remount,ro,bind "$2"',
          'if touch "$2/probe" 2>/dev/null; then echo "mount is writable" >&2; exit 3; fi',
          'shift 2',
          `exec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups sh -c 'echo "uid=$(id -u)" >&2; exec "$@"' sh "$@"`,
        ].join('\n');
        r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', src, mnt, process.execPath, CLI, ...caption], {
          encoding: 'utf8',
          timeout: 60000,
        });
        expect(r.stderr).toContain(`uid=${NOBODY}`);
      } else {
        rmSync(mnt, { recursive: true });
        cpSync(src, mnt, { recursive: true });
        for (const f of readdirSync(mnt)) chmodSync(join(mnt, f), 0o444);
        chmodSync(mnt, 0o555);
        r = spawnSync(process.execPath, [CLI, ...caption], { encoding: 'utf8', timeout: 60000 });
      }
      expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
      const line = JSON.parse(r.stdout.trim().split('\n')[0]) as { model: string; caption: string; completionTokens: number };
      expect(line.model).toBe(manifest.name);
      expect(typeof line.caption).toBe('string');
      expect(line.completionTokens).toBeGreaterThan(0);
      expect(statSync(join(src, 'decoder.onnx.data')).mode & 0o777).toBe(0o644);
    } finally {
      chmodSync(root, 0o755);
      if (existsSync(join(root, 'mnt'))) chmodSync(join(root, 'mnt'), 0o755);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
