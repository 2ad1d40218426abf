/**
 * Caption producers for clips that have no caption yet: the captioner engine on a model directory,
 * or the Omni-Detective (default observers, the given detective LLM). Heavy modules load lazily.
 */
import { OmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import type { CaptionProducer } from './eval';

/** The captioner engine (`omnicap caption --model DIR`), greedy and seeded. */
export async function captionerProducer(modelDir: string, options: { seed?: number; signal?: AbortSignal } = {}): Promise<CaptionProducer> {
  const { loadCaptioner } = await import('../engine');
  const { decodeAudio } = await import('../media');
  const engine = await loadCaptioner(modelDir, { signal: options.signal });
  return {
    name: 'captioner',
    async produce(media, signal) {
      const audio = await decodeAudio(media, { signal });
      const r = await engine.caption({ samples: audio.samples, sampleRate: 16000 }, { temperature: 0, seed: options.seed ?? 0, signal });
      return { caption: r.caption, model: r.model };
    },
    dispose: () => engine.dispose(),
  };
}

/**
 * The Omni-Detective with its default observers (signal, VAD, ASR, OCR; + the captioner observer
 * when `captionerModelDir` is given), `llm` as the detective, observations cached under `cacheDir`.
 * A clip the Detective fails on has no caption (it is listed as missing, never answered).
 */
export async function detectiveProducer(llm: ChatModel, options: { cacheDir: string; seed?: number; captionerModelDir?: string }): Promise<CaptionProducer> {
  const { createToolbox, defaultObservers, detectClip } = await import('../detective');
  const toolbox = createToolbox({ observers: defaultObservers({ captionerModelDir: options.captionerModelDir }), cacheDir: options.cacheDir });
  return {
    name: 'detective',
    async produce(media, signal) {
      const r = await detectClip({ id: media, path: media }, llm, toolbox, { seed: options.seed ?? 0, signal });
      const caption = r.record.caption;
      if (r.status === 'error' || typeof caption !== 'string') {
        const e = r.record.error as { code?: string; message?: string } | undefined;
        throw new OmnicapError('UPSTREAM_ERROR', `the Detective failed on ${media}: ${e?.code ?? 'error'}: ${e?.message ?? 'no caption'}`);
      }
      const models = r.record.models as { detective?: string } | undefined;
      return { caption, status: r.status, model: `omni-detective (${models?.detective ?? llm.id})` };
    },
    dispose: () => toolbox.dispose(),
  };
}
