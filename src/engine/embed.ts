/**
 * The embed session (token ids -> inputs_embeds) and the engine's run-failure error, shared by
 * both decoder paths.
 */
import { OmnicapError } from '../errors';
import { ort, type OrtSession, type OrtTensor } from './ort';

export function runFailed(what: string, e: unknown): OmnicapError {
  if (e instanceof OmnicapError) return e;
  return new OmnicapError('MODEL_RUN_FAILED', `${what} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Embed token ids with the embed session: returns inputs_embeds [1, n, hidden]. */
export async function embedTokens(sessions: { embed: OrtSession }, ids: readonly number[]): Promise<OrtTensor> {
  const input = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) input[i] = BigInt(ids[i]);
  try {
    const out = await sessions.embed.run({ input_ids: new (ort().Tensor)('int64', input, [1, ids.length]) });
    const e = out.inputs_embeds;
    if (e === undefined) throw new Error('no inputs_embeds output');
    return e;
  } catch (e) {
    throw runFailed('embed session', e);
  }
}

