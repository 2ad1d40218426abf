/**
 * The native-addon loader test-loads every binary in a child process first: garbage, a shared
 * object built for another Node ABI, one for another CPU architecture and one that crashes while
 * loading each give NATIVE_ADDON_UNAVAILABLE with the reason, and this process goes on; the real
 * addons still load; the probe is cached per binary (path, mtime, size).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { tryLoadResident } from '../../src/engine/resident/native';
import { tryLoadAddon } from '../../src/features/native';
import { ADDONS, defaultAddonPaths, loadAddon, probeAddon, type AddonSpec } from '../../src/native';
import { packageRoot } from '../../src/util/paths';

let dir: string;
const realFeatures = defaultAddonPaths(ADDONS.features)[0];

/** Compile a C file into a shared object named .node (gcc/cc: the same toolchain as npm run build:native). */
function compile(name: string, source: string, flags: string[] = []): string {
  const c = join(dir, `${name}.c`);
  const out = join(dir, `${name}.node`);
  writeFileSync(c, source);
  execFileSync('cc', ['-shared', '-fPIC', ...flags, '-o', out, c]);
  return out;
}

/** Node's C headers: the nodedir node-gyp builds against (.npmrc), as for native/. */
function nodeIncludeDir(): string {
  const npmrc = readFileSync(join(__dirname, '..', '..', '.npmrc'), 'utf8');
  const nodedir = /^nodedir=(.+)$/m.exec(npmrc)?.[1]?.trim() ?? join(process.execPath, '..', '..');
  return join(nodedir, 'include', 'node');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnicap-native-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectUnavailable(file: string, reason: RegExp): void {
  const r = loadAddon(ADDONS.features, { files: [file] });
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe('NATIVE_ADDON_UNAVAILABLE');
  expect(r.error.message).toContain(file);
  expect(r.error.message).toMatch(reason);
  expect(r.error.message).toMatch(/npm run build:native.*or use backend 'ts'/);
  expect(r.error.details).toMatchObject({ file, reason: expect.stringMatching(reason) });
}

describe('binaries that must not be loaded here', () => {
  it('garbage bytes named .node: "invalid ELF header"', () => {
    const file = join(dir, 'garbage.node');
    writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff)));
    expectUnavailable(file, /invalid ELF header/);
  });

  it('a valid shared object built for another Node ABI (NODE_MODULE_VERSION 1)', () => {
    const file = compile(
      'other-abi',
      `#include <stddef.h>
struct node_module { int nm_version; unsigned int nm_flags; void* nm_dso_handle; const char* nm_filename;
  void* nm_register_func; void* nm_context_register_func; const char* nm_modname; void* nm_priv; struct node_module* nm_link; };
extern void node_module_register(void*);
static struct node_module m = { 1, 0, NULL, "other-abi.c", NULL, NULL, "other_abi", NULL, NULL };
__attribute__((constructor)) static void reg(void) { node_module_register(&m); }
`,
    );
    expectUnavailable(file, /compiled against a different Node\.js version using NODE_MODULE_VERSION 1\b/);
  });

  it('a valid ELF of another CPU architecture (the real addon with e_machine = AArch64)', () => {
    const file = join(dir, 'aarch64.node');
    const bytes = readFileSync(realFeatures);
    bytes.writeUInt16LE(0xb7, 18); // ELF header e_machine
    writeFileSync(file, bytes);
    expectUnavailable(file, /cannot open shared object file|wrong ELF|machine/);
  });

  it('a binary that crashes while loading (SIGSEGV in a static initialiser): a typed error, this process goes on', () => {
    const file = compile('crash', '#include <signal.h>\n__attribute__((constructor)) static void boom(void) { raise(SIGSEGV); }\n');
    expectUnavailable(file, /crashed a test process \(SIGSEGV\)/);
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('a binary that loads but crashes in the probe call', () => {
    const file = compile(
      'crash-on-call',
      `#include <node_api.h>
#include <signal.h>
static napi_value boom(napi_env env, napi_callback_info info) { raise(SIGILL); return NULL; }
NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "logMelSync", NAPI_AUTO_LENGTH, boom, NULL, &fn);
  napi_set_named_property(env, exports, "logMelSync", fn);
  return exports;
}
`,
      ['-I', nodeIncludeDir()],
    );
    const r = loadAddon(ADDONS.features, { files: [file], probeCall: { method: 'logMelSync', arg: { float32: 16 } } });
    expect(r).toMatchObject({ ok: false, error: { code: 'NATIVE_ADDON_UNAVAILABLE', message: expect.stringMatching(/crashed a test process \(SIGILL\)/) } });
  });

  it('a missing build lists what was tried', () => {
    const r = loadAddon(ADDONS.resident, { files: ['/nonexistent/a.node', '/nonexistent/b.node'] });
    expect(r).toMatchObject({ ok: false, error: { code: 'NATIVE_ADDON_UNAVAILABLE', message: expect.stringMatching(/resident-KV addon is not built.*or use --kv js/), details: { tried: ['/nonexistent/a.node', '/nonexistent/b.node'] } } });
  });

  it('a module with the wrong abiVersion is refused after loading', () => {
    const strict: AddonSpec<unknown> = { ...ADDONS.features, abiVersion: 2 };
    const r = loadAddon(strict, { files: [realFeatures] });
    expect(r).toMatchObject({ ok: false, error: { code: 'NATIVE_ADDON_UNAVAILABLE', message: expect.stringMatching(/has abiVersion 1 but this code needs 2/) } });
  });
});

describe('the real addons', () => {
  it('the features addon loads (probe with a log-mel in the child) and computes here', () => {
    const r = tryLoadAddon();
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.file).toBe(realFeatures);
    const out = r.addon.logMelSync(new Float32Array(1600));
    expect(out.numMelBins).toBe(128);
    expect(out.frames).toBe(10);
  });

  it('the resident-KV addon loads and initialises against onnxruntime-node', () => {
    const r = tryLoadResident();
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.runtime.ortVersion).toMatch(/^1\.\d+\.\d+/);
  });
});

describe('probe cache', () => {
  it('one probe per binary: same path, mtime and size give the cached answer; a new mtime probes again', () => {
    const file = join(dir, 'cached.node');
    copyFileSync(realFeatures, file);
    const t = 1_700_000_000; // whole seconds: set back exactly below
    utimesSync(file, t, t);
    expect(probeAddon(file)).toEqual({ ok: true });
    // same size and mtime, other bytes: still the cached answer (no child process ran)
    writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    utimesSync(file, t, t);
    expect(probeAddon(file)).toEqual({ ok: true });
    // a new mtime is a new binary: probed again, and now refused
    utimesSync(file, t, t + 5);
    expect(probeAddon(file)).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid ELF header/) });
  });

  it('a worker thread started after a probe inherits the answer instead of probing again', async () => {
    const file = join(dir, 'inherited.node');
    copyFileSync(realFeatures, file);
    const t = 1_700_000_100;
    utimesSync(file, t, t);
    expect(probeAddon(file)).toEqual({ ok: true });
    writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    utimesSync(file, t, t);
    const other = join(dir, 'not-probed-here.node');
    writeFileSync(other, Buffer.alloc(64, 0x5a));
    // the compiled loader (npm run build:ts), as engine worker threads run it
    const loader = join(packageRoot(), 'dist', 'src', 'native', 'loader.js');
    const code = `const { parentPort, workerData } = require('node:worker_threads');
const { probeAddon } = require(workerData.loader);
parentPort.postMessage([probeAddon(workerData.file), probeAddon(workerData.other)]);`;
    const worker = new Worker(code, { eval: true, workerData: { loader, file, other } });
    const [inheritedAnswer, ownAnswer] = await new Promise<unknown[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(inheritedAnswer).toEqual({ ok: true });
    expect(ownAnswer).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid ELF header/) });
  });
});
