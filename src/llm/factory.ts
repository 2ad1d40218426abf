/**
 * The one place a text LLM is built from what a user asked for: every command (`detect`,
 * `cloze eval|build`, `cascade eval`, `serve`) and the queue worker go through {@link llmChoiceFromFlags} and
 * {@link createLlm}.
 *
 * - `--llm local` (or no LLM flag where the embedded model is the default): the embedded GGUF,
 *   in-process through node-llama-cpp. `--llm FILE.gguf` where a command accepts other GGUF files.
 * - `--llm-url URL --llm-model NAME`: an OpenAI-compatible endpoint.
 * - API key: the flag, else the role's environment variable (`OMNICAP_LLM_API_KEY` for the
 *   detective / builder LLM, `OMNICAP_JUDGE_KEY` for the Cloze judge, `OMNICAP_ANSWERER_KEY` for
 *   the cascade answerer, `OMNICAP_VLM_API_KEY` for the vision-model observer). One order, no fallback
 *   across roles, so a key is only ever sent to the endpoint of its own role.
 * - Threads, KV sequences (one per concurrent conversation) and the saved-state directory (local only).
 */
import { basename } from 'node:path';
import { OmnicapError } from '../errors';
import { LLM_LIMITS, parseNumberText } from '../schema/limits';
import { DEFAULT_LOCAL_MODEL_ID, LocalChatModel } from './local';
import { defaultLlmStateDir, warnLlmState } from './state';
import { privateDir } from '../util/trusted-file';
import { OpenAIChatModel } from './openai';
import type { ChatModel } from './types';

/** What runs the LLM: the embedded model or a GGUF file in-process, or an OpenAI-compatible endpoint. */
export type LlmChoice =
  | { kind: 'local'; model: string; modelPath?: string }
  | { kind: 'openai'; url: string; model: string };

/** The raw flag values of one LLM role (strings as parsed from the command line). */
export interface LlmFlags {
  /** `local`, or a `.gguf` file where {@link LlmFlagRules.ggufFiles}. */
  llm?: string;
  url?: string;
  model?: string;
  apiKey?: string;
  threads?: string;
}

export interface LlmFlagRules {
  /** Flag names as the command spells them, for error messages (default --llm, --llm-url, ...). */
  names?: Partial<Record<keyof LlmFlags, string>>;
  /** `--llm` may name a .gguf file (default false: only `local`). */
  ggufFiles?: boolean;
  /** No LLM flag at all means the embedded model (default true); false: undefined is returned. */
  defaultLocal?: boolean;
}

/** The environment variable holding the API key of each role. */
export const API_KEY_ENV = { llm: 'OMNICAP_LLM_API_KEY', judge: 'OMNICAP_JUDGE_KEY', answerer: 'OMNICAP_ANSWERER_KEY', vlm: 'OMNICAP_VLM_API_KEY' } as const;
export type LlmRole = keyof typeof API_KEY_ENV;

/** Resources of the process running the LLM (not part of which model it is). */
export interface LlmResources {
  /** Bearer token of an endpoint (see {@link resolveApiKey}). */
  apiKey?: string;
  /** CPU threads of a local model (default: half the cores). */
  threads?: number;
  /** KV sequences of a local model: conversations kept alive at once (default 1). */
  sequences?: number;
  /** Per-attempt timeout of an endpoint in ms (default 120000). */
  timeoutMs?: number;
  /**
   * A local model loads in the background: createLlm returns once its process is started, calls wait
   * for the load, and the model's `loaded` settles when it is done (default false: loaded on return).
   */
  background?: boolean;
  /** Saved state of a local model's persistent conversations (see {@link llmStateDirFrom}); none when undefined. */
  stateDir?: string;
}

/**
 * `--llm-state DIR|off`: where a local model keeps the saved state of prompts shared across
 * processes; `off`: nothing saved or loaded. A DIR that cannot be used fails when the model starts
 * (UNTRUSTED_FILE); the default ({@link defaultLlmStateDir}) that cannot be created or is not private
 * is a warning (`warn`, default warnLlmState) and no state.
 */
export function llmStateDirFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, warn: (message: string) => void = warnLlmState): string | undefined {
  if (flag === 'off') return undefined;
  if (flag !== undefined && flag.trim() === '') throw invalid('--llm-state needs a directory or off');
  if (flag !== undefined) return flag;
  const dir = defaultLlmStateDir(env);
  try {
    return privateDir(dir);
  } catch (e) {
    warn(`no saved LLM state (${e instanceof Error ? e.message : String(e)}); give --llm-state DIR or --llm-state off`);
    return undefined;
  }
}

const DEFAULT_NAMES: Record<keyof LlmFlags, string> = { llm: '--llm', url: '--llm-url', model: '--llm-model', apiKey: '--llm-api-key', threads: '--llm-threads' };

const invalid = (message: string): OmnicapError => new OmnicapError('INVALID_ARGUMENT', message);

/** The API key of a role: the flag, else the role's environment variable; undefined when neither is set. */
export function resolveApiKey(flag: string | undefined, role: LlmRole, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined) return flag;
  const v = env[API_KEY_ENV[role]];
  return v === undefined || v === '' ? undefined : v;
}

/** `--llm-threads`: an integer in LLM_LIMITS.threads; undefined when not given. */
export function parseThreads(value: string | undefined, name = DEFAULT_NAMES.threads): number | undefined {
  return value === undefined ? undefined : parseNumberText(name, value, 0, LLM_LIMITS.threads);
}

/** An endpoint URL flag: http(s) only (INVALID_ARGUMENT otherwise). */
export function checkEndpointUrl(value: string, name = DEFAULT_NAMES.url): string {
  if (!/^https?:\/\/[^/]/.test(value)) throw invalid(`${name} must be an http(s) URL but received ${JSON.stringify(value)}`);
  return value;
}

/** The id a GGUF file's model is recorded under: its file name without `.gguf`. */
export function ggufModelId(file: string): string {
  return basename(file).replace(/\.gguf$/i, '');
}

/**
 * Which LLM the flags ask for. INVALID_ARGUMENT for contradictory or incomplete combinations:
 * `--llm` with `--llm-url`, `--llm-url` without `--llm-model` (and the reverse), a URL that is not
 * http(s), an `--llm` value that is not `local` (or a .gguf file where allowed), an API key for a
 * local model, threads for an endpoint. Undefined when nothing is asked and `defaultLocal` is false.
 */
export function llmChoiceFromFlags(f: LlmFlags, rules: LlmFlagRules = {}): LlmChoice | undefined {
  const n = { ...DEFAULT_NAMES, ...rules.names };
  if (f.url !== undefined || f.model !== undefined) {
    if (f.llm !== undefined) throw invalid(`${n.llm} and ${n.url} are exclusive`);
    if (f.url === undefined) throw invalid(`${n.model} needs ${n.url}`);
    if (f.model === undefined || f.model.trim() === '') throw invalid(`${n.url} needs ${n.model}`);
    checkEndpointUrl(f.url, n.url);
    if (f.threads !== undefined) throw invalid(`${n.threads} applies to a local model, not to ${n.url}`);
    return { kind: 'openai', url: f.url, model: f.model };
  }
  if (f.apiKey !== undefined) throw invalid(`${n.apiKey} needs ${n.url} (a local model takes no key)`);
  if (f.llm === undefined) {
    if (rules.defaultLocal === false) {
      if (f.threads !== undefined) throw invalid(`${n.threads} needs ${n.llm}`);
      return undefined;
    }
    return { kind: 'local', model: DEFAULT_LOCAL_MODEL_ID };
  }
  if (f.llm === 'local') return { kind: 'local', model: DEFAULT_LOCAL_MODEL_ID };
  if (rules.ggufFiles === true && /\.gguf$/i.test(f.llm)) return { kind: 'local', model: ggufModelId(f.llm), modelPath: f.llm };
  const accepted = rules.ggufFiles === true ? '"local" or a .gguf file' : 'only "local"';
  throw invalid(`${n.llm} accepts ${accepted} but received ${JSON.stringify(f.llm)}; use ${n.url} with ${n.model} for an endpoint`);
}

/**
 * Build the chat model. A local model is loaded before this resolves unless `background` (MODEL_NOT_FOUND when its
 * GGUF file is missing); an endpoint is not contacted until the first call. Resources that do not
 * apply to the choice (threads of an endpoint, the key of a local model) are not used.
 */
export async function createLlm(choice: LlmChoice, r: LlmResources = {}): Promise<ChatModel> {
  if (choice.kind === 'openai') {
    return new OpenAIChatModel({ baseURL: choice.url, model: choice.model, apiKey: r.apiKey, ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {}) });
  }
  const local = {
    ...(choice.modelPath !== undefined ? { modelPath: choice.modelPath } : {}),
    id: choice.model,
    threads: r.threads,
    sequences: r.sequences,
    ...(r.stateDir !== undefined ? { stateDir: r.stateDir } : {}),
  };
  return r.background === true ? LocalChatModel.start(local) : LocalChatModel.load(local);
}
