/**
 * The one loader of the native addons. Before a binary is `require`d in this process it is loaded
 * in a child Node process (node-llama-cpp's `testBindingBinary` approach), and optionally one call
 * is made there: a binary built for another Node ABI or CPU, a truncated or foreign file, or one
 * that crashes while loading (SIGSEGV, SIGILL in a static initialiser) then gives
 * NATIVE_ADDON_UNAVAILABLE with the reason instead of taking this process down. The probe result
 * is cached per binary (path, mtime, size) in this thread, so each binary costs one child process
 * per process at most (an engine worker thread inherits the results its parent had when it started).
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { types } from 'node:util';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { OmnicapError } from '../errors';
import { isRecord } from '../util/guards';
import { packageRoot } from '../util/paths';
import type { AddonSpec } from './addons';

/** A call made in the probe process after loading: `addon[method](arg)`. */
export interface ProbeCall {
  method: string;
  /** A string, or `{ float32: n }` for a zero-filled Float32Array of n samples. */
  arg: string | { float32: number };
}

export type AddonLoadResult<T> = { ok: true; addon: T; file: string } | { ok: false; error: OmnicapError };

export interface LoadAddonOptions {
  /** Candidate binaries, in order (default native/build/Release, then Debug). */
  files?: readonly string[];
  /** One call made in the probe process after the load (e.g. a tiny computation, an init). */
  probeCall?: ProbeCall;
  /** Time limit of the probe process (default 30000 ms). */
  probeTimeoutMs?: number;
}

export type ProbeOutcome = { ok: true } | { ok: false; reason: string; missing?: true };

const PROBE_TIMEOUT_MS = 30_000;
const ENV_KEY = 'omnicap:native-probes';

/**
 * Runs in the probe process (`node -e PROBE_SCRIPT <file> <call JSON>`): loads the binary, makes
 * the call (when the module has that function; the interface check here rejects one that has not),
 * and prints one JSON line; a crash shows as the exit signal instead.
 */
const PROBE_SCRIPT = `
const [file, callJson] = process.argv.slice(1);
try {
  const m = require(file);
  const call = callJson ? JSON.parse(callJson) : undefined;
  if (call && typeof m[call.method] === 'function') {
    const arg = typeof call.arg === 'string' ? call.arg : new Float32Array(call.arg.float32);
    m[call.method](arg);
  }
  process.stdout.write(JSON.stringify({ ok: true }) + '\\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, reason: String(e && e.message || e).replace(/\\s+/g, ' ').trim().slice(0, 500) }) + '\\n');
  process.exitCode = 1;
}
`;

const probes = new Map<string, ProbeOutcome>();

function inherited(): Map<string, ProbeOutcome> {
  const data: unknown = getEnvironmentData(ENV_KEY);
  return types.isMap(data) ? (data as Map<string, ProbeOutcome>) : new Map();
}

/** Candidate locations of a built addon: native/build/Release, then native/build/Debug. */
export function defaultAddonPaths(spec: Pick<AddonSpec<unknown>, 'file'>): string[] {
  return ['Release', 'Debug'].map((b) => join(packageRoot(), 'native', 'build', b, spec.file));
}

function parseOutcome(stdout: string): ProbeOutcome | undefined {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const v: unknown = JSON.parse(line);
    if (isRecord(v) && v.ok === true) return { ok: true };
    if (isRecord(v) && v.ok === false && typeof v.reason === 'string') return { ok: false, reason: v.reason };
  } catch {
    return undefined; // not the probe's line: the process died before writing it
  }
  return undefined;
}

function runProbe(file: string, call: ProbeCall | undefined, timeoutMs: number): ProbeOutcome {
  const r = spawnSync(process.execPath, ['-e', PROBE_SCRIPT, file, call === undefined ? '' : JSON.stringify(call)], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 20,
  });
  if (r.error !== undefined) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return { ok: false, reason: timedOut ? `the test load did not finish within ${timeoutMs} ms` : `the test process could not run (${r.error.message})` };
  }
  if (r.signal !== null) return { ok: false, reason: `the binary crashed a test process (${r.signal})` };
  const outcome = parseOutcome(r.stdout);
  if (outcome !== undefined) return outcome;
  const stderr = r.stderr.trim().split('\n').slice(-1)[0] ?? '';
  return { ok: false, reason: `the test process exited with code ${r.status}${stderr !== '' ? ` (${stderr.slice(0, 300)})` : ''}` };
}

/**
 * Whether `file` loads in a child process (and `call` succeeds there). Cached by path, mtime, size
 * and call; a file that cannot be stat'ed is reported as such without a child process.
 */
export function probeAddon(file: string, call?: ProbeCall, timeoutMs = PROBE_TIMEOUT_MS): ProbeOutcome {
  let key: string;
  try {
    const st = statSync(file);
    key = JSON.stringify([file, st.mtimeMs, st.size, call ?? null]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'no such file', missing: true };
    return { ok: false, reason: `cannot read it (${e instanceof Error ? e.message : String(e)})` };
  }
  const known = probes.get(key) ?? inherited().get(key);
  if (known !== undefined) return known;
  const outcome = runProbe(file, call, timeoutMs);
  probes.set(key, outcome);
  setEnvironmentData(ENV_KEY, new Map(probes));
  return outcome;
}

/**
 * Load an addon: the first candidate file that exists is probed in a child process, then loaded
 * here and checked against its interface and abiVersion. Never throws: the failure is a
 * NATIVE_ADDON_UNAVAILABLE result saying what went wrong and how to rebuild.
 */
export function loadAddon<T>(spec: AddonSpec<T>, options: LoadAddonOptions = {}): AddonLoadResult<T> {
  const files = options.files ?? defaultAddonPaths(spec);
  const rebuild = `rebuild it with \`npm run build:native\` (needs a C++17 compiler, python3 and make), or ${spec.fallback}`;
  const unavailable = (message: string, extra: { cause?: unknown; details?: Record<string, unknown> } = {}): AddonLoadResult<T> => ({
    ok: false,
    error: new OmnicapError('NATIVE_ADDON_UNAVAILABLE', message, extra),
  });
  const tried: string[] = [];
  for (const candidate of files) {
    tried.push(candidate);
    const file = resolve(candidate);
    const probe = probeAddon(file, options.probeCall, options.probeTimeoutMs);
    if (!probe.ok && probe.missing === true) continue;
    if (!probe.ok) return unavailable(`the ${spec.label} at ${file} cannot be loaded: ${probe.reason}; ${rebuild}`, { details: { file, reason: probe.reason } });
    let mod: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(file) as unknown;
    } catch (e) {
      return unavailable(`the ${spec.label} at ${file} failed to load (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); ${rebuild}`, { cause: e, details: { file } });
    }
    if (!spec.is(mod)) return unavailable(`the ${spec.label} at ${file} does not match the expected interface; ${rebuild}`, { details: { file } });
    const abi = (mod as { abiVersion: number }).abiVersion;
    if (abi !== spec.abiVersion) return unavailable(`the ${spec.label} at ${file} has abiVersion ${abi} but this code needs ${spec.abiVersion}; ${rebuild}`, { details: { file } });
    return { ok: true, addon: mod, file };
  }
  return unavailable(`the ${spec.label} is not built; build it with \`npm run build:native\` (needs a C++17 compiler, python3 and make; node-gyp uses nodedir from .npmrc), or ${spec.fallback}`, { details: { tried } });
}
