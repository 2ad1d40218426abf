/** The final result of a caption stream (what `Captioner.caption` returns). */
import { OmnicapError } from '../errors';
import type { CaptionChunk, CaptionResult } from './types';

export async function collectCaption(stream: AsyncIterable<CaptionChunk>): Promise<CaptionResult> {
  for await (const chunk of stream) {
    if (chunk.type === 'done') return chunk.result;
  }
  throw new OmnicapError('INTERNAL', 'caption stream ended without a result');
}
