/**
 * Training-data record shapes of the fine-tuning tools captioner users train with:
 *
 * - `ms-swift`: its standard format, `{"messages": [{role, content}], "audios": [path]}` (`videos`
 *   for a clip with video), the media tag `<audio>` / `<video>` in the user turn.
 * - `llamafactory`: LLaMA-Factory's "sharegpt" formatting with OpenAI-style tags,
 *   `{"messages": [...], "audios": [path]}`, plus the `dataset_info.json` entry that declares the
 *   columns and tags (written next to the output; media paths are relative to that folder).
 * - `sharegpt`: ShareGPT conversations, `{"id", "conversations": [{"from": "human"|"gpt", "value"}],
 *   "audios": [path]}` (LLaMA-Factory reads it with its default sharegpt tags).
 */
import type { Annotation } from './records';

export const EXPORT_FORMATS = ['sharegpt', 'ms-swift', 'llamafactory'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface PromptSet {
  /** User instruction for an audio-only clip. */
  audio: string;
  /** User instruction for a clip with video. */
  video: string;
  system?: string;
}

export const DEFAULT_PROMPTS: PromptSet = {
  audio: 'Describe this audio clip in detail.',
  video: 'Describe this video clip in detail: what is seen and what is heard.',
};

function parts(a: Annotation, prompts: PromptSet): { tag: string; key: 'audios' | 'videos'; instruction: string } {
  return a.hasVideo ? { tag: '<video>', key: 'videos', instruction: prompts.video } : { tag: '<audio>', key: 'audios', instruction: prompts.audio };
}

export function exportRecord(format: ExportFormat, a: Annotation, mediaPath: string, prompts: PromptSet): Record<string, unknown> {
  const { tag, key, instruction } = parts(a, prompts);
  if (format === 'sharegpt') {
    const conversations = [...(prompts.system !== undefined ? [{ from: 'system', value: prompts.system }] : []), { from: 'human', value: `${tag}${instruction}` }, { from: 'gpt', value: a.caption }];
    return { id: a.id, conversations, [key]: [mediaPath] };
  }
  const messages = [...(prompts.system !== undefined ? [{ role: 'system', content: prompts.system }] : []), { role: 'user', content: `${tag}${instruction}` }, { role: 'assistant', content: a.caption }];
  return { messages, [key]: [mediaPath] };
}

/** LLaMA-Factory's dataset_info.json entry for an exported file (`file_name` relative to its folder). */
export function llamaFactoryEntry(fileName: string, media: ReadonlySet<'audios' | 'videos'>): Record<string, unknown> {
  const columns: Record<string, string> = { messages: 'messages' };
  for (const k of ['audios', 'videos'] as const) if (media.has(k)) columns[k] = k;
  return { file_name: fileName, formatting: 'sharegpt', columns, tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' } };
}
