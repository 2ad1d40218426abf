import { OmnicapError } from '../../src/errors';
import { audioTokenCount } from '../../src/engine/prompt';
import { parseProviderRequest, probeProviders, selectProvider } from '../../src/engine/provider';
import { planDecoderFeeds } from '../../src/engine/sessions';
import { formatSeconds, stitchWindows } from '../../src/engine/stitch';
import { halfToFloat, floatToHalf } from '../../src/engine/ort';

function thrown(fn: () => unknown): OmnicapError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OmnicapError);
    return e as OmnicapError;
  }
  throw new Error('expected a throw');
}

describe('audioTokenCount (_get_feat_extract_output_lengths)', () => {
  it.each([
    [0, 0],
    [1, 1],
    [50, 7],
    [99, 13],
    [100, 13],
    [500, 65],
    [1000, 130],
    [1050, 137],
    [3000, 390],
    [6000, 780],
    [161, 13 + 8],
  ])('%i frames -> %i tokens', (frames, tokens) => {
    expect(audioTokenCount(frames)).toBe(tokens);
  });
  it('rejects negative / fractional frame counts', () => {
    expect(thrown(() => audioTokenCount(-1)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => audioTokenCount(1.5)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('provider selection', () => {
  const none = { bindingDir: '/x/bin', cudaLibsPresent: false };
  const cuda = { bindingDir: '/x/bin', cudaLibsPresent: true };
  it('cuda without EP libs -> PROVIDER_UNAVAILABLE with install instructions', () => {
    const e = thrown(() => selectProvider('cuda', none));
    expect(e.code).toBe('PROVIDER_UNAVAILABLE');
    expect(e.message).toContain('npm install onnxruntime-node --onnxruntime-node-install=cuda12');
    expect(e.message).toContain('/x/bin');
  });
  it('auto picks cuda only when installed and the model is not cpu-only', () => {
    expect(selectProvider('auto', none)).toBe('cpu');
    expect(selectProvider('auto', cuda)).toBe('cuda');
    expect(selectProvider('auto', cuda, 'cpu')).toBe('cpu');
    expect(selectProvider('cuda', cuda)).toBe('cuda');
    expect(selectProvider('cpu', cuda)).toBe('cpu');
  });
  it('probes the installed onnxruntime-node (CPU-only build here)', () => {
    const p = probeProviders();
    expect(p.bindingDir).toMatch(/onnxruntime-node/);
    expect(p.cudaLibsPresent).toBe(false);
    expect(selectProvider('auto', p)).toBe('cpu');
  });
  it('parses requests', () => {
    expect(parseProviderRequest(undefined)).toBe('auto');
    expect(parseProviderRequest('cuda')).toBe('cuda');
    expect(thrown(() => parseProviderRequest('gpu')).code).toBe('INVALID_ARGUMENT');
  });
});

describe('planDecoderFeeds', () => {
  const ins = ['inputs_embeds', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value'];
  const outs = ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'];
  it('derives the feeds from inputNames', () => {
    const p = planDecoderFeeds(ins, outs, 2);
    expect(p.pastKey).toEqual(['past_key_values.0.key', 'past_key_values.1.key']);
    expect(p.hasAttentionMask && p.hasPositionIds).toBe(true);
    expect(planDecoderFeeds(ins.filter((n) => n !== 'position_ids'), outs, 2).hasPositionIds).toBe(false);
  });
  it('lists every input it cannot provide (MODEL_INPUT_MISSING)', () => {
    const e = thrown(() => planDecoderFeeds([...ins, 'cache_position', 'rope_deltas'], outs, 2));
    expect(e.code).toBe('MODEL_INPUT_MISSING');
    expect(e.message).toContain('cache_position, rope_deltas');
    expect(e.details?.missing).toEqual(['cache_position', 'rope_deltas']);
  });
  it('layer count mismatch between manifest and graph is MODEL_INVALID', () => {
    const e = thrown(() => planDecoderFeeds(ins.slice(0, 5), outs.slice(0, 3), 2));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain('past_key_values.1.key');
    // more layers in the graph than the manifest says: the extra pasts are inputs it cannot fill
    expect(thrown(() => planDecoderFeeds(ins, outs, 1)).code).toBe('MODEL_INPUT_MISSING');
  });
});

describe('stitchWindows', () => {
  it('labels windows with their time range; one window stays unlabelled', () => {
    const w = (text: string, a: number, b: number) => ({ text, startSeconds: a, endSeconds: b, tokenIds: [] });
    expect(stitchWindows([w('a dog barks', 0, 12.3)])).toBe('a dog barks');
    expect(stitchWindows([w('first', 0, 30), w('second', 28, 45.25)])).toBe('[0-30s] first\n\n[28-45.3s] second');
    expect(formatSeconds(29.96)).toBe('30');
  });
});

describe('float16 helpers', () => {
  it('round-trips representable values', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8]) expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(halfToFloat(floatToHalf(0.1))).toBeCloseTo(0.1, 3);
  });
});
