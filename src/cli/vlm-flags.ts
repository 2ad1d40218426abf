/**
 * The vision-model observer's flags, one definition for `detect`, `worker` and `serve`: the option
 * table, the help lines and how the values are read. The API key is the flag, else
 * $OMNICAP_VLM_API_KEY (never another role's key), and never goes into the queue's run manifest.
 */
import type { VlmOptions } from '../detective';
import type { VlmOverrides, VlmSpec } from '../detective/queue';
import { OmnicapError } from '../errors';
import { checkEndpointUrl, resolveApiKey } from '../llm';

export const VLM_OPTIONS = {
  'vlm-url': { type: 'string' },
  'vlm-model': { type: 'string' },
  'vlm-api-key': { type: 'string' },
  'vlm-video': { type: 'boolean' },
} as const;

export interface VlmFlags {
  'vlm-url'?: string;
  'vlm-model'?: string;
  'vlm-api-key'?: string;
  'vlm-video'?: boolean;
}

const HELP: ReadonlyArray<[string, string]> = [
  ['--vlm-url URL', 'add the "vlm" observer: an OpenAI-compatible vision chat endpoint (vLLM, llama.cpp server, Ollama; e.g. http://127.0.0.1:8080/v1). It answers the detective\'s questions from up to 8 frames (at the scene cuts plus even coverage; JPEG, longest side 768 px, each labelled with its time)'],
  ['--vlm-model NAME', 'model name at --vlm-url'],
  ['--vlm-api-key KEY', 'bearer token of --vlm-url (default $OMNICAP_VLM_API_KEY)'],
  ['--vlm-video', 'send the clip as one video_url part instead of frames (the server must take video, e.g. vLLM with Qwen2-VL): H.264 at 2 frames/s, longest side 768 px, at most 120 s and 16 MiB'],
];

/** Help lines of the flags (the same in every command that takes them), descriptions from `column`, wrapped at 100 characters. */
export function vlmUsage(column: number): string {
  const out: string[] = [];
  for (const [flag, text] of HELP) {
    let line = `  ${flag}`.padEnd(column);
    if (line.length > column) line = `  ${flag} `;
    for (const word of text.split(' ')) {
      if (line.length + word.length > 100 && line.trim() !== flag) {
        out.push(line.trimEnd());
        line = ' '.repeat(column);
      }
      line += `${word} `;
    }
    out.push(line.trimEnd());
  }
  return `${out.join('\n')}\n`;
}

const invalid = (message: string): OmnicapError => new OmnicapError('INVALID_ARGUMENT', message);

/** The VLM a command line asks for (url + model, video mode), or undefined; INVALID_ARGUMENT for incomplete flags. */
export function vlmSpecFrom(v: VlmFlags): VlmSpec | undefined {
  const url = v['vlm-url'];
  if (url === undefined) {
    for (const f of ['vlm-model', 'vlm-api-key', 'vlm-video'] as const) if (v[f] !== undefined) throw invalid(`--${f} needs --vlm-url`);
    return undefined;
  }
  checkEndpointUrl(url, '--vlm-url');
  const model = v['vlm-model'];
  if (model === undefined || model.trim() === '') throw invalid('--vlm-url needs --vlm-model');
  return { url, model, video: v['vlm-video'] === true };
}

/** The observer options of a VLM spec, with the key from the flag or $OMNICAP_VLM_API_KEY. */
export function vlmOptionsFrom(spec: VlmSpec, apiKeyFlag: string | undefined): Omit<VlmOptions, 'analyses'> {
  const apiKey = resolveApiKey(apiKeyFlag, 'vlm');
  return { baseURL: spec.url, model: spec.model, video: spec.video, ...(apiKey !== undefined ? { apiKey } : {}) };
}

/** A queue worker's flags: another URL for the run's VLM (same model), its key; a model or video flag must match the run's. */
export function vlmOverridesFrom(v: VlmFlags): VlmOverrides {
  const o: VlmOverrides = {};
  if (v['vlm-url'] !== undefined) o.url = checkEndpointUrl(v['vlm-url'], '--vlm-url');
  if (v['vlm-model'] !== undefined) o.model = v['vlm-model'];
  if (v['vlm-video'] !== undefined) o.video = v['vlm-video'];
  const apiKey = resolveApiKey(v['vlm-api-key'], 'vlm');
  if (apiKey !== undefined) o.apiKey = apiKey;
  return o;
}
