/**
 * Lazy, once-per-thread loader of the resident-KV addon (no work at import time). The addon talks
 * to the same libonnxruntime that onnxruntime-node ships, so both share one runtime in a process.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { OmnicapError } from '../../errors';
import { probeProviders } from '../provider';
import { ELEMENT_TYPE, isResidentAddon, type ResidentAddon } from './addon-types';

export interface ResidentRuntime {
  addon: ResidentAddon;
  /** onnxruntime version the C API reports. */
  ortVersion: string;
  file: string;
}

export type ResidentLoadResult = { ok: true; runtime: ResidentRuntime } | { ok: false; error: OmnicapError };

let state: ResidentLoadResult | undefined;

/** Candidate locations of the built addon, relative to this file in src/ and in dist/src/. */
export function defaultResidentAddonPaths(): string[] {
  const rel = ['Release', 'Debug'].map((b) => path.join('native', 'build', b, 'omnicap_ort.node'));
  const roots = [path.resolve(__dirname, '..', '..', '..'), path.resolve(__dirname, '..', '..', '..', '..')];
  return roots.flatMap((r) => rel.map((p) => path.join(r, p)));
}

/** The onnxruntime shared library inside the installed onnxruntime-node. */
export function onnxruntimeLibraryPath(): string {
  const names: Partial<Record<NodeJS.Platform, string>> = { linux: 'libonnxruntime.so.1' };
  const name = names[process.platform];
  if (name === undefined) throw new OmnicapError('NATIVE_ADDON_UNAVAILABLE', `the resident KV cache is built for Linux only (this is ${process.platform})`);
  return path.join(probeProviders().bindingDir, name);
}

function unavailable(message: string, cause?: unknown, details?: Record<string, unknown>): ResidentLoadResult {
  return { ok: false, error: new OmnicapError('NATIVE_ADDON_UNAVAILABLE', message, { ...(cause !== undefined ? { cause } : {}), ...(details !== undefined ? { details } : {}) }) };
}

/** Try to load the addon and initialise it against onnxruntime (no caching; see {@link loadResidentRuntime}). */
export function tryLoadResident(files: readonly string[] = defaultResidentAddonPaths()): ResidentLoadResult {
  let lib: string;
  try {
    lib = onnxruntimeLibraryPath();
  } catch (e) {
    return e instanceof OmnicapError ? { ok: false, error: e } : unavailable(String(e), e);
  }
  if (!existsSync(lib)) return unavailable(`onnxruntime-node has no ${path.basename(lib)} (looked in ${path.dirname(lib)}); reinstall onnxruntime-node`);
  const file = files.find((f) => existsSync(f));
  if (file === undefined) {
    return unavailable('the resident-KV addon is not built; build it with `npm run build:native` (needs a C++17 compiler, python3 and make)', undefined, { tried: [...files] });
  }
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as unknown;
  } catch (e) {
    return unavailable(`the resident-KV addon at ${file} failed to load (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); rebuild it with \`npm run build:native\``, e);
  }
  if (!isResidentAddon(mod)) return unavailable(`the resident-KV addon at ${file} does not match the expected interface (abiVersion 1); rebuild it with \`npm run build:native\``);
  const types = mod.elementTypes;
  if (types.float32 !== ELEMENT_TYPE.float32 || types.int64 !== ELEMENT_TYPE.int64 || types.float16 !== ELEMENT_TYPE.float16) {
    return unavailable(`the resident-KV addon at ${file} reports other element types (${JSON.stringify(types)}); rebuild it with \`npm run build:native\``);
  }
  try {
    const info = mod.init(lib);
    return { ok: true, runtime: { addon: mod, ortVersion: info.version, file } };
  } catch (e) {
    return unavailable(`onnxruntime's C API could not be used from ${lib}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/** The addon, loaded on first call (per thread); the failure is cached too. */
export function loadResidentRuntime(): ResidentLoadResult {
  state ??= tryLoadResident();
  return state;
}
