import { QWEN3_OMNI_KV, kvBytesPerStep, kvBytesPerToken, kvCopyMs } from '../../src/bench/kv-transfer';

describe('KV transfer cost model (docs/gpu.md)', () => {
  it('Qwen3-Omni thinker fp16: 96 KiB per token of context', () => {
    // 48 layers x 2 (k,v) x 4 kv heads x 128 head dim x 2 bytes = 98304
    expect(kvBytesPerToken(QWEN3_OMNI_KV)).toBe(98304);
  });
  it('one step at 1k context moves past H2D + present D2H', () => {
    // 98304 x (2 x 1024 + 1) = 201,424,896 bytes (~192 MiB)
    expect(kvBytesPerStep(QWEN3_OMNI_KV, 1024)).toBe(201_424_896);
    // at 25 GB/s effective PCIe 4.0 x16: 201424896 / 25e9 s = 8.0570 ms
    expect(kvCopyMs(kvBytesPerStep(QWEN3_OMNI_KV, 1024), 25)).toBeCloseTo(8.05699584, 6);
  });
  it('fp32 toy shape', () => {
    expect(kvBytesPerToken({ numLayers: 2, numKvHeads: 2, headDim: 8, bytesPerElement: 4 })).toBe(256);
  });
});
