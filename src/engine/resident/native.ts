/**
 * Lazy, once-per-thread loader of the resident-KV addon (src/native; no work at import time). The
 * addon talks to the same libonnxruntime that onnxruntime-node ships, so both share one runtime in
 * a process. The probe process loads the addon and initialises it against that library too.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { OmnicapError } from '../../errors';
import { ADDONS, ELEMENT_TYPE, loadAddon, type ResidentAddon } from '../../native';
import { probeProviders } from '../provider';

export interface ResidentRuntime {
  addon: ResidentAddon;
  /** onnxruntime version the C API reports. */
  ortVersion: string;
  file: string;
}

export type ResidentLoadResult = { ok: true; runtime: ResidentRuntime } | { ok: false; error: OmnicapError };

let state: ResidentLoadResult | undefined;

/** The onnxruntime shared library inside the installed onnxruntime-node. */
export function onnxruntimeLibraryPath(): string {
  const names: Partial<Record<NodeJS.Platform, string>> = { linux: 'libonnxruntime.so.1' };
  const name = names[process.platform];
  if (name === undefined) throw new OmnicapError('NATIVE_ADDON_UNAVAILABLE', `the resident KV cache is built for Linux only (this is ${process.platform})`);
  return path.join(probeProviders().bindingDir, name);
}

function unavailable(message: string, cause?: unknown): ResidentLoadResult {
  return { ok: false, error: new OmnicapError('NATIVE_ADDON_UNAVAILABLE', message, cause !== undefined ? { cause } : {}) };
}

/** Try to load the addon and initialise it against onnxruntime (no caching; see {@link loadResidentRuntime}). */
export function tryLoadResident(files?: readonly string[]): ResidentLoadResult {
  let lib: string;
  try {
    lib = onnxruntimeLibraryPath();
  } catch (e) {
    return e instanceof OmnicapError ? { ok: false, error: e } : unavailable(String(e), e);
  }
  if (!existsSync(lib)) return unavailable(`onnxruntime-node has no ${path.basename(lib)} (looked in ${path.dirname(lib)}); reinstall onnxruntime-node`);
  const r = loadAddon(ADDONS.resident, { files, probeCall: { method: 'init', arg: lib } });
  if (!r.ok) return r;
  const types = r.addon.elementTypes;
  if (types.float32 !== ELEMENT_TYPE.float32 || types.int64 !== ELEMENT_TYPE.int64 || types.float16 !== ELEMENT_TYPE.float16) {
    return unavailable(`the resident-KV addon at ${r.file} reports other element types (${JSON.stringify(types)}); rebuild it with \`npm run build:native\``);
  }
  try {
    const info = r.addon.init(lib);
    return { ok: true, runtime: { addon: r.addon, ortVersion: info.version, file: r.file } };
  } catch (e) {
    return unavailable(`onnxruntime's C API could not be used from ${lib}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/** The addon, loaded on first call (per thread); the failure is cached too. */
export function loadResidentRuntime(): ResidentLoadResult {
  state ??= tryLoadResident();
  return state;
}
