/**
 * manifest.json parsing and validation (docs/model-format.md). Pure structural checks live in
 * {@link parseManifest}; file checks (existence, size, sha256, opset) in {@link loadManifest}.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OmnicapError, quoteValue } from '../errors';
import { throwIfAborted } from '../util/abort';
import { isRecord } from '../util/guards';
import { sha256File } from '../util/hash';
import { readOnnxOpsets } from './onnx-header';

export const MANIFEST_FORMAT = 'omnicap-model';
export const MANIFEST_FORMAT_VERSION = 1;
/** manifest.json is a few KiB; a larger file is refused before it is read. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Default-domain opsets this engine (onnxruntime-node 1.30) is validated against. */
export const MIN_OPSET = 13;
export const MAX_OPSET = 24;

export type IoDtype = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
const DTYPES: readonly IoDtype[] = ['float32', 'float16', 'int64', 'int32', 'uint8', 'bool'];

export interface IoSpec {
  name: string;
  dtype: IoDtype;
  shape: Array<number | string>;
}

export interface SessionSpec {
  file: string;
  inputs: IoSpec[];
  outputs: IoSpec[];
}

export type SessionName = 'embed' | 'audio_encoder' | 'decoder';
export const SESSION_NAMES: readonly SessionName[] = ['embed', 'audio_encoder', 'decoder'];

export interface ModelManifest {
  format: string;
  formatVersion: number;
  name: string;
  architecture: string;
  variant: string;
  target: 'cpu' | 'cuda' | 'any';
  opset: number;
  contribOps: string[];
  source: Record<string, unknown>;
  config: {
    audio: { numMelBins: number; nWindow: number; nWindowInfer: number; dModel: number; outputDim: number; tokensPerChunk: number };
    text: {
      hiddenSize: number;
      numLayers: number;
      numHeads: number;
      numKvHeads: number;
      headDim: number;
      vocabSize: number;
      ropeTheta: number;
      maxPositionEmbeddings: number;
    };
  };
  tokens: { imStart: number; imEnd: number; audioStart: number; audioEnd: number; audioPad: number; newline: number; eos: number[]; pad: number };
  generation: { temperature: number; topP: number; topK: number; maxNewTokens: number };
  tokenizer: string;
  sessions: Record<SessionName, SessionSpec>;
  files: Record<string, { sha256: string; bytes: number }>;
}

function invalid(message: string, details?: Record<string, unknown>): OmnicapError {
  return new OmnicapError('MODEL_INVALID', message, details === undefined ? {} : { details });
}

function req<T>(obj: Record<string, unknown>, key: string, path: string, check: (v: unknown) => v is T, expected: string): T {
  const v = obj[key];
  if (!check(v)) {
    const got = v === undefined ? 'nothing' : quoteValue(v);
    throw invalid(`manifest.json: ${path}${key} must be ${expected} but is ${got} — re-run the exporter`);
  }
  return v;
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPosInt = (v: unknown): v is number => isInt(v) && v > 0;
const isIntArray = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every(isInt);
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function parseIo(v: unknown, where: string): IoSpec[] {
  if (!Array.isArray(v)) throw invalid(`manifest.json: ${where} must be an array of {name, dtype, shape}`);
  return v.map((item, i) => {
    if (!isRecord(item)) throw invalid(`manifest.json: ${where}[${i}] must be an object`);
    const name = req(item, 'name', `${where}[${i}].`, isStr, 'a non-empty string');
    const dtype = req(item, 'dtype', `${where}[${i}].`, (x): x is IoDtype => DTYPES.includes(x as IoDtype), `one of ${DTYPES.join('|')}`);
    const shape = req(
      item,
      'shape',
      `${where}[${i}].`,
      (x): x is Array<number | string> => Array.isArray(x) && x.every((d) => isInt(d) || typeof d === 'string'),
      'an array of numbers and strings',
    );
    return { name, dtype, shape };
  });
}

/** Structural validation of a parsed manifest.json. */
export function parseManifest(raw: unknown): ModelManifest {
  if (!isRecord(raw)) throw invalid('manifest.json must hold a JSON object');
  if (raw.format !== MANIFEST_FORMAT) {
    throw invalid(`manifest.json: format must be "${MANIFEST_FORMAT}" but is ${quoteValue(raw.format)} — this is not an omnicap model directory`);
  }
  if (raw.formatVersion !== MANIFEST_FORMAT_VERSION) {
    throw invalid(
      `manifest.json: formatVersion ${quoteValue(raw.formatVersion)} is not supported (this engine reads version ${MANIFEST_FORMAT_VERSION}) — re-export the model with a matching exporter`,
    );
  }
  const name = req(raw, 'name', '', isStr, 'a non-empty string');
  const architecture = req(raw, 'architecture', '', isStr, 'a non-empty string');
  const variant = req(raw, 'variant', '', isStr, 'a non-empty string');
  const target = req(raw, 'target', '', (v): v is 'cpu' | 'cuda' | 'any' => v === 'cpu' || v === 'cuda' || v === 'any', 'cpu|cuda|any');
  const opset = req(raw, 'opset', '', isPosInt, 'a positive integer');
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw invalid(`manifest.json: opset ${opset} is outside the range this engine supports (${MIN_OPSET}..${MAX_OPSET}) — export with an opset in that range`);
  }
  const contribOps = raw.contribOps === undefined ? [] : req(raw, 'contribOps', '', isStrArray, 'an array of strings');
  const source = isRecord(raw.source) ? raw.source : {};

  const config = req(raw, 'config', '', isRecord, 'an object');
  const audio = req(config, 'audio', 'config.', isRecord, 'an object');
  const text = req(config, 'text', 'config.', isRecord, 'an object');
  const a = (k: string): number => req(audio, k, 'config.audio.', isPosInt, 'a positive integer');
  const t = (k: string): number => req(text, k, 'config.text.', isPosInt, 'a positive integer');
  const parsedConfig: ModelManifest['config'] = {
    audio: { numMelBins: a('numMelBins'), nWindow: a('nWindow'), nWindowInfer: a('nWindowInfer'), dModel: a('dModel'), outputDim: a('outputDim'), tokensPerChunk: a('tokensPerChunk') },
    text: {
      hiddenSize: t('hiddenSize'),
      numLayers: t('numLayers'),
      numHeads: t('numHeads'),
      numKvHeads: t('numKvHeads'),
      headDim: t('headDim'),
      vocabSize: t('vocabSize'),
      ropeTheta: req(text, 'ropeTheta', 'config.text.', isNum, 'a number'),
      maxPositionEmbeddings: t('maxPositionEmbeddings'),
    },
  };
  if (parsedConfig.audio.outputDim !== parsedConfig.text.hiddenSize) {
    throw invalid(`manifest.json: config.audio.outputDim (${parsedConfig.audio.outputDim}) must equal config.text.hiddenSize (${parsedConfig.text.hiddenSize})`);
  }

  const tk = req(raw, 'tokens', '', isRecord, 'an object');
  const tok = (k: string): number => req(tk, k, 'tokens.', isInt, 'a token id');
  const tokens: ModelManifest['tokens'] = {
    imStart: tok('imStart'),
    imEnd: tok('imEnd'),
    audioStart: tok('audioStart'),
    audioEnd: tok('audioEnd'),
    audioPad: tok('audioPad'),
    newline: tok('newline'),
    eos: req(tk, 'eos', 'tokens.', isIntArray, 'a non-empty array of token ids'),
    pad: tok('pad'),
  };
  const gen = isRecord(raw.generation) ? raw.generation : {};
  const generation: ModelManifest['generation'] = {
    temperature: isNum(gen.temperature) ? gen.temperature : 0.6,
    topP: isNum(gen.topP) ? gen.topP : 0.95,
    topK: isInt(gen.topK) ? gen.topK : 20,
    maxNewTokens: isPosInt(gen.maxNewTokens) ? gen.maxNewTokens : 8192,
  };
  const tokenizer = req(raw, 'tokenizer', '', isStr, 'a file name');

  const sessionsRaw = req(raw, 'sessions', '', isRecord, 'an object');
  const sessions = {} as Record<SessionName, SessionSpec>;
  for (const s of SESSION_NAMES) {
    const spec = req(sessionsRaw, s, 'sessions.', isRecord, 'an object');
    sessions[s] = {
      file: req(spec, 'file', `sessions.${s}.`, isStr, 'a file name'),
      inputs: parseIo(spec.inputs, `sessions.${s}.inputs`),
      outputs: parseIo(spec.outputs, `sessions.${s}.outputs`),
    };
  }
  const filesRaw = req(raw, 'files', '', isRecord, 'an object');
  // file names are data: built with own properties ("__proto__" is a name like any other) and looked up as own keys only
  const files: ModelManifest['files'] = Object.fromEntries(
    Object.entries(filesRaw).map(([file, entry]) => {
      if (file.includes('..') || file.startsWith('/')) throw invalid(`manifest.json: files entry ${JSON.stringify(file)} must be a plain relative path`);
      if (!isRecord(entry)) throw invalid(`manifest.json: files[${JSON.stringify(file)}] must be {sha256, bytes}`);
      const sha256 = req(entry, 'sha256', `files[${JSON.stringify(file)}].`, (v): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/i.test(v), 'a 64-hex-digit sha256').toLowerCase();
      return [file, { sha256, bytes: req(entry, 'bytes', `files[${JSON.stringify(file)}].`, isInt, 'a byte count') }];
    }),
  );
  for (const needed of [tokenizer, ...SESSION_NAMES.map((s) => sessions[s].file)]) {
    if (!Object.hasOwn(files, needed)) throw invalid(`manifest.json: ${needed} is used but not listed in "files" (so it cannot be checksummed) — re-run the exporter`);
  }
  return { format: MANIFEST_FORMAT, formatVersion: MANIFEST_FORMAT_VERSION, name, architecture, variant, target, opset, contribOps, source, config: parsedConfig, tokens, generation, tokenizer, sessions, files };
}

export interface VerifyOptions {
  /** Skip sha256 hashing (size and presence are still checked). Default false. */
  skipChecksums?: boolean;
  signal?: AbortSignal;
}

/** Read manifest.json and check every listed file (presence, size, sha256) and every graph's opset. */
export async function loadManifest(modelDir: string, options: VerifyOptions = {}): Promise<ModelManifest> {
  const manifestPath = join(modelDir, 'manifest.json');
  let fh;
  try {
    fh = await open(manifestPath, 'r');
  } catch (e) {
    throw new OmnicapError('MODEL_NOT_FOUND', `no model at ${modelDir}: ${manifestPath} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}) — pass --model DIR pointing at an exported omnicap model directory`, {
      cause: e,
      details: { modelDir },
    });
  }
  let text: string;
  try {
    const size = (await fh.stat()).size;
    if (size > MAX_MANIFEST_BYTES) throw invalid(`${manifestPath} is ${size} bytes; a manifest is at most ${MAX_MANIFEST_BYTES} bytes — this is not an exported omnicap manifest`);
    text = await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalid(`${manifestPath} is not valid JSON: ${(e as Error).message}`);
  }
  const manifest = parseManifest(raw);
  for (const [file, entry] of Object.entries(manifest.files)) {
    throwIfAborted(options.signal);
    const path = join(modelDir, file);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (e) {
      throw new OmnicapError('MODEL_NOT_FOUND', `${file} is listed in ${manifestPath} but missing from ${modelDir} — re-copy the model directory or re-run the exporter`, {
        cause: e,
        details: { modelDir, file },
      });
    }
    if (size !== entry.bytes) {
      throw new OmnicapError('MODEL_CHECKSUM_MISMATCH', `${file} size mismatch: expected ${entry.bytes} bytes, got ${size} — the file is truncated or from another export; re-run the exporter or re-copy the file`, {
        details: { file, expected: entry.bytes, actual: size },
      });
    }
    if (options.skipChecksums !== true) {
      const digest = await sha256File(path, options.signal);
      if (digest !== entry.sha256) {
        throw new OmnicapError('MODEL_CHECKSUM_MISMATCH', `${file} sha256 mismatch: expected ${entry.sha256}, got ${digest} — re-run the exporter or re-copy the file`, {
          details: { file, expected: entry.sha256, actual: digest },
        });
      }
    }
  }
  for (const s of SESSION_NAMES) {
    const file = manifest.sessions[s].file;
    const opsets = await readOnnxOpsets(join(modelDir, file));
    const def = opsets.get('') ?? opsets.get('ai.onnx');
    if (def === undefined) throw invalid(`${file} has no default-domain opset import — not a valid ONNX model`);
    if (def !== manifest.opset) {
      throw invalid(`${file} uses opset ${def} but manifest.json declares opset ${manifest.opset} — re-run the exporter so the manifest matches the graphs`, {
        file,
        graphOpset: def,
        manifestOpset: manifest.opset,
      });
    }
    if (opsets.has('com.microsoft')) {
      if (manifest.contribOps.length === 0) throw invalid(`${file} imports the com.microsoft domain but manifest.json lists no contribOps — re-run the exporter`);
    }
  }
  return manifest;
}
