/**
 * ONNX Runtime sessions for a model directory: creation with the selected execution provider,
 * graph I/O checked against the manifest, and the decoder feed plan derived from inputNames.
 */
import { join } from 'node:path';
import { OmnicapError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { SESSION_NAMES, type IoSpec, type ModelManifest, type SessionName } from './manifest';
import { selectKvPath, type KvCacheInfo, type KvRequest } from './kv-path';
import { ort, type OrtSession } from './ort';
import { enforceNoCpuFallback, type SessionPlacement } from './placement';
import { probePlacement } from './placement-probe';
import { assertCudaEpLoadable, checkBuildForProvider, cudaEpDependencies, cudaLoadFailure, executionProviders, probeProviders, type ResolvedProvider } from './provider';
import { ELEMENT_TYPE, type NativeSession, type NativeTensorInfo } from '../native';
import { loadResidentRuntime, type ResidentRuntime } from './resident/native';

export interface DecoderPlan {
  numLayers: number;
  hasAttentionMask: boolean;
  hasPositionIds: boolean;
  pastKey: string[];
  pastValue: string[];
  presentKey: string[];
  presentValue: string[];
  kvDtype: 'float32' | 'float16';
}

/** Which decoder inputs the engine can build; errors list every input it cannot provide. */
export function planDecoderFeeds(inputNames: readonly string[], outputNames: readonly string[], numLayers: number, kvDtype: 'float32' | 'float16' = 'float32'): DecoderPlan {
  const provided = new Set<string>(['inputs_embeds', 'attention_mask', 'position_ids']);
  const pastKey: string[] = [];
  const pastValue: string[] = [];
  const presentKey: string[] = [];
  const presentValue: string[] = [];
  for (let i = 0; i < numLayers; i++) {
    pastKey.push(`past_key_values.${i}.key`);
    pastValue.push(`past_key_values.${i}.value`);
    presentKey.push(`present.${i}.key`);
    presentValue.push(`present.${i}.value`);
  }
  for (const n of [...pastKey, ...pastValue]) provided.add(n);
  const unknown = inputNames.filter((n) => !provided.has(n));
  if (unknown.length > 0) {
    throw new OmnicapError('MODEL_INPUT_MISSING', `decoder graph needs inputs the engine cannot provide: ${unknown.join(', ')} (it builds inputs_embeds, attention_mask, position_ids and past_key_values.{0..${numLayers - 1}}.key/value) — re-export the decoder with the documented inputs`, {
      details: { session: 'decoder', missing: unknown },
    });
  }
  const inputs = new Set(inputNames);
  const outputs = new Set(outputNames);
  const absent = ['inputs_embeds', ...pastKey, ...pastValue].filter((n) => !inputs.has(n));
  const absentOut = ['logits', ...presentKey, ...presentValue].filter((n) => !outputs.has(n));
  if (absent.length > 0 || absentOut.length > 0) {
    throw new OmnicapError('MODEL_INVALID', `decoder graph lacks ${[...absent.map((n) => `input ${n}`), ...absentOut.map((n) => `output ${n}`)].join(', ')} for config.text.numLayers=${numLayers} — the manifest and decoder.onnx disagree; re-run the exporter`, {
      details: { missingInputs: absent, missingOutputs: absentOut },
    });
  }
  return { numLayers, hasAttentionMask: inputs.has('attention_mask'), hasPositionIds: inputs.has('position_ids'), pastKey, pastValue, presentKey, presentValue, kvDtype };
}

/** Inputs other than the decoder's must be exactly what the engine feeds. */
export function checkFixedInputs(session: SessionName, inputNames: readonly string[], supported: readonly string[]): void {
  const missing = inputNames.filter((n) => !supported.includes(n));
  if (missing.length > 0) {
    throw new OmnicapError('MODEL_INPUT_MISSING', `${session} graph needs inputs the engine cannot provide: ${missing.join(', ')} (it provides ${supported.join(', ')})`, { details: { session, missing } });
  }
  const lacking = supported.filter((n) => !inputNames.includes(n));
  if (lacking.length > 0) throw new OmnicapError('MODEL_INVALID', `${session} graph has no input ${lacking.join(', ')} — re-export following docs/model-format.md`, { details: { session } });
}

function diff(a: readonly string[], b: readonly string[]): string[] {
  const sb = new Set(b);
  return a.filter((x) => !sb.has(x));
}

/** session.inputNames / outputNames (and dtypes) must equal what manifest.json lists. */
/** What {@link checkSessionIo} reads of a session (onnxruntime-node's or the resident addon's). */
export interface SessionIo {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata: ReadonlyArray<{ name: string; isTensor: boolean; type?: string }>;
  outputMetadata: ReadonlyArray<{ name: string; isTensor: boolean; type?: string }>;
}

export function checkSessionIo(name: SessionName, file: string, session: SessionIo, spec: { inputs: IoSpec[]; outputs: IoSpec[] }): void {
  for (const [kind, actual, listed, meta] of [
    ['inputs', session.inputNames, spec.inputs, session.inputMetadata],
    ['outputs', session.outputNames, spec.outputs, session.outputMetadata],
  ] as const) {
    const names = listed.map((s) => s.name);
    const extra = diff(actual, names);
    const missing = diff(names, actual);
    if (extra.length > 0 || missing.length > 0) {
      throw new OmnicapError('MODEL_INVALID', `${file} ${kind} do not match manifest.json sessions.${name}.${kind}: graph has [${actual.join(', ')}], manifest lists [${names.join(', ')}]${missing.length ? `; not in graph: ${missing.join(', ')}` : ''}${extra.length ? `; not in manifest: ${extra.join(', ')}` : ''} — re-run the exporter`, {
        details: { session: name, kind, graph: [...actual], manifest: names },
      });
    }
    for (const m of meta) {
      const s = listed.find((x) => x.name === m.name);
      if (m.isTensor && s !== undefined && m.type !== s.dtype) {
        throw new OmnicapError('MODEL_INVALID', `${file} ${kind.slice(0, -1)} ${m.name} is ${m.type} but manifest.json says ${s.dtype} — re-run the exporter`, { details: { session: name, name: m.name } });
      }
    }
  }
}

interface SessionsBase {
  embed: OrtSession;
  audioEncoder: OrtSession;
  decoderPlan: DecoderPlan;
  provider: ResolvedProvider;
  /** ORT's node placement per graph, when it was checked (provider cuda without allowCpuFallback). */
  placement?: SessionPlacement[];
}

/** The decoder runs through onnxruntime-node; its KV cache crosses to JS after every step. */
export interface JsKvSessions extends SessionsBase {
  kv: 'js';
  decoder: OrtSession;
  kvInfo: KvCacheInfo;
}

/** The decoder runs through the resident-KV addon (IO binding); only logits reach JS. */
export interface ResidentKvSessions extends SessionsBase {
  kv: 'resident';
  native: NativeSession;
  /** path 'resident' with its layout. */
  kvInfo: KvCacheInfo;
}

export type ModelSessions = JsKvSessions | ResidentKvSessions;

export interface SessionCreateOptions {
  provider: ResolvedProvider;
  threads?: number;
  /** session.intra_op.allow_spinning (ORT's default is on). */
  spinning?: boolean;
  /** Where the decoder's KV cache lives (default 'auto'). */
  kv?: KvRequest;
  /** Batched decoding is on (it packs the JS cache, so 'auto' picks the JS path). */
  batching?: boolean;
  /**
   * Load even when some nodes would run on the CPU EP under provider cuda, or when the build was
   * exported for the other provider (default false: both are refused, docs/gpu.md).
   */
  allowCpuFallback?: boolean;
  signal?: AbortSignal;
}

/** Session options of every onnxruntime-node session the engine creates (the placement probe uses the same). */
function sessionOptions(opts: SessionCreateOptions): Record<string, unknown> {
  return {
    executionProviders: executionProviders(opts.provider),
    graphOptimizationLevel: 'all',
    ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    ...(opts.spinning !== undefined ? { extra: { 'session.intra_op.allow_spinning': opts.spinning ? '1' : '0', 'session.inter_op.allow_spinning': opts.spinning ? '1' : '0' } } : {}),
  };
}

async function createOne(modelDir: string, manifest: ModelManifest, name: SessionName, opts: SessionCreateOptions): Promise<OrtSession> {
  const file = manifest.sessions[name].file;
  try {
    return await ort().InferenceSession.create(join(modelDir, file), sessionOptions(opts));
  } catch (e) {
    throw loadError(file, name, opts.provider, e);
  }
}

function loadError(file: string, name: SessionName, provider: ResolvedProvider, e: unknown): OmnicapError {
  const msg = e instanceof Error ? e.message : String(e);
  const missingLib = provider === 'cuda' ? cudaLoadFailure(msg) : undefined;
  if (missingLib) return missingLib;
  const code = provider === 'cuda' && /cuda|provider/i.test(msg) ? 'PROVIDER_UNAVAILABLE' : 'MODEL_INVALID';
  return new OmnicapError(code, `onnxruntime could not load ${file} with provider ${provider}: ${msg}`, { cause: e, details: { session: name, file } });
}

/**
 * Before any session of a model is created: the build must match the provider, the CUDA EP's
 * libraries must be loadable, and under provider cuda no node of any graph may land on the CPU EP
 * (ORT's own placement, placement.ts) — each unless allowCpuFallback.
 */
export async function checkPlacement(modelDir: string, manifest: ModelManifest, opts: SessionCreateOptions): Promise<SessionPlacement[] | undefined> {
  const allow = opts.allowCpuFallback ?? false;
  const probe = probeProviders();
  checkBuildForProvider(manifest, opts.provider, allow, probe);
  if (opts.provider !== 'cuda') return undefined;
  assertCudaEpLoadable(cudaEpDependencies(probe.bindingDir));
  if (allow) return undefined;
  const placements: SessionPlacement[] = [];
  for (const session of SESSION_NAMES) {
    throwIfAborted(opts.signal);
    const file = manifest.sessions[session].file;
    try {
      const { report } = await probePlacement(join(modelDir, file), sessionOptions(opts), opts.signal);
      placements.push({ session, file, report });
    } catch (e) {
      // ORT's own load error (e.g. a CUDA library it cannot open) reads as it would from the real load
      const ortMessage = e instanceof OmnicapError ? e.details?.ortMessage : undefined;
      throw typeof ortMessage === 'string' ? loadError(file, session, opts.provider, new Error(ortMessage)) : e;
    }
  }
  enforceNoCpuFallback(placements);
  return placements;
}

const ELEMENT_TYPES: Record<number, string> = Object.fromEntries(Object.entries(ELEMENT_TYPE).map(([name, id]) => [id, name]));

/** The native session's graph I/O in the shape {@link checkSessionIo} reads. */
function nativeIo(s: NativeSession): SessionIo {
  const meta = (infos: NativeTensorInfo[]): SessionIo['inputMetadata'] => infos.map((i) => ({ name: i.name, isTensor: true, type: ELEMENT_TYPES[i.elementType] ?? `onnx-type-${i.elementType}` }));
  const inputs = s.inputs();
  const outputs = s.outputs();
  return { inputNames: inputs.map((i) => i.name), outputNames: outputs.map((o) => o.name), inputMetadata: meta(inputs), outputMetadata: meta(outputs) };
}

async function createNativeDecoder(modelDir: string, manifest: ModelManifest, runtime: ResidentRuntime, opts: SessionCreateOptions): Promise<NativeSession> {
  const file = manifest.sessions.decoder.file;
  try {
    return await runtime.addon.loadSession(join(modelDir, file), { threads: opts.threads ?? 0, spinning: opts.spinning ?? false, provider: opts.provider, deviceId: 0 });
  } catch (e) {
    throw loadError(file, 'decoder', opts.provider, e);
  }
}

export async function createSessions(modelDir: string, manifest: ModelManifest, opts: SessionCreateOptions): Promise<ModelSessions> {
  const placement = await checkPlacement(modelDir, manifest, opts);
  const created: OrtSession[] = [];
  let native: NativeSession | undefined;
  try {
    const get = async (name: SessionName): Promise<OrtSession> => {
      throwIfAborted(opts.signal);
      const s = await createOne(modelDir, manifest, name, opts);
      created.push(s);
      checkSessionIo(name, manifest.sessions[name].file, s, manifest.sessions[name]);
      return s;
    };
    const embed = await get('embed');
    checkFixedInputs('embed', embed.inputNames, ['input_ids']);
    const audioEncoder = await get('audio_encoder');
    checkFixedInputs('audio_encoder', audioEncoder.inputNames, ['input_features']);
    const spec = manifest.sessions.decoder;
    const kvSpec = spec.inputs.find((s) => s.name === 'past_key_values.0.key');
    const kvDtype = kvSpec?.dtype === 'float16' ? 'float16' : 'float32';
    const choice = selectKvPath(opts.kv ?? 'auto', {
      batching: opts.batching ?? false,
      embedsDtype: spec.inputs.find((s) => s.name === 'inputs_embeds')?.dtype ?? 'float32',
      provider: opts.provider,
      gqa: manifest.contribOps.includes('GroupQueryAttention'),
      load: loadResidentRuntime,
    });
    const base = { embed, audioEncoder, provider: opts.provider, ...(placement !== undefined ? { placement } : {}) };
    throwIfAborted(opts.signal);
    if (choice.path === 'resident') {
      native = await createNativeDecoder(modelDir, manifest, choice.runtime, opts);
      const io = nativeIo(native);
      checkSessionIo('decoder', spec.file, io, spec);
      const decoderPlan = planDecoderFeeds(io.inputNames, io.outputNames, manifest.config.text.numLayers, kvDtype);
      throwIfAborted(opts.signal);
      return { ...base, kv: 'resident', native, decoderPlan, kvInfo: choice.info };
    }
    const decoder = await get('decoder');
    const decoderPlan = planDecoderFeeds(decoder.inputNames, decoder.outputNames, manifest.config.text.numLayers, kvDtype);
    throwIfAborted(opts.signal);
    return { ...base, kv: 'js', decoder, decoderPlan, kvInfo: choice.info };
  } catch (e) {
    native?.release();
    await Promise.all(created.map((s) => s.release().catch(() => undefined))); // cleaning up a failed load: its own error is rethrown
    throw e;
  }
}

/** Release every session of a set. */
export async function releaseSessions(s: ModelSessions): Promise<void> {
  if (s.kv === 'resident') s.native.release();
  await Promise.all([s.embed.release(), s.audioEncoder.release(), ...(s.kv === 'js' ? [s.decoder.release()] : [])]);
}
