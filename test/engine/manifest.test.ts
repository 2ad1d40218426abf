import { openSync, readFileSync, readSync, closeSync, truncateSync, unlinkSync, writeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaptioner } from '../../src/engine';
import { loadManifest, parseManifest } from '../../src/engine/manifest';
import { readOnnxOpsets } from '../../src/engine/onnx-header';
import { copyFixture, FIXTURE_DIR, rejection } from './helpers';

describe('model manifest', () => {
  it('the committed fixture verifies (files, sizes, sha256, opset)', async () => {
    const m = await loadManifest(FIXTURE_DIR);
    expect(m.format).toBe('omnicap-model');
    for (const s of ['embed', 'audio_encoder', 'decoder'] as const) {
      const opsets = await readOnnxOpsets(join(FIXTURE_DIR, m.sessions[s].file));
      expect(opsets.get('')).toBe(m.opset);
    }
  });

  it('a directory without manifest.json is MODEL_NOT_FOUND', async () => {
    const e = await rejection(loadManifest(join(FIXTURE_DIR, 'nope')));
    expect(e.code).toBe('MODEL_NOT_FOUND');
    expect(e.message).toContain('manifest.json');
  });

  describe('corrupted copies', () => {
    let fx: ReturnType<typeof copyFixture>;
    beforeEach(() => {
      fx = copyFixture();
    });
    afterEach(() => fx.cleanup());

    it('missing file -> MODEL_NOT_FOUND naming it', async () => {
      unlinkSync(join(fx.dir, 'embed.onnx'));
      const e = await rejection(loadManifest(fx.dir));
      expect(e.code).toBe('MODEL_NOT_FOUND');
      expect(e.message).toMatch(/embed\.onnx .*missing/);
    });

    it('same size, different bytes -> MODEL_CHECKSUM_MISMATCH with expected and actual sha256', async () => {
      const path = join(fx.dir, 'decoder.onnx');
      const size = statSync(path).size;
      const fd = openSync(path, 'r+');
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, size - 3);
      b[0] ^= 0xff;
      writeSync(fd, b, 0, 1, size - 3);
      closeSync(fd);
      const expected = (fx.manifest().files as Record<string, { sha256: string }>)['decoder.onnx'].sha256;
      const e = await rejection(loadManifest(fx.dir));
      expect(e.code).toBe('MODEL_CHECKSUM_MISMATCH');
      expect(e.message).toContain(`decoder.onnx sha256 mismatch: expected ${expected}, got `);
      expect(e.message).toContain('re-run the exporter or re-copy the file');
    });

    it('truncated file -> MODEL_CHECKSUM_MISMATCH on size', async () => {
      const path = join(fx.dir, 'tokenizer.json');
      truncateSync(path, statSync(path).size - 10);
      const e = await rejection(loadManifest(fx.dir));
      expect(e.code).toBe('MODEL_CHECKSUM_MISMATCH');
      expect(e.message).toMatch(/tokenizer\.json size mismatch: expected \d+ bytes, got \d+/);
    });

    it('manifest opset differing from the graphs -> MODEL_INVALID', async () => {
      const m = fx.manifest();
      const graphOpset = m.opset as number;
      m.opset = graphOpset === 18 ? 19 : 18;
      fx.writeManifest(m);
      const e = await rejection(loadManifest(fx.dir));
      expect(e.code).toBe('MODEL_INVALID');
      expect(e.message).toContain(`uses opset ${graphOpset} but manifest.json declares opset ${m.opset as number}`);
    });

    it('opset outside the supported range -> MODEL_INVALID', async () => {
      const m = fx.manifest();
      m.opset = 7;
      fx.writeManifest(m);
      const e = await rejection(loadManifest(fx.dir));
      expect(e.code).toBe('MODEL_INVALID');
      expect(e.message).toMatch(/opset 7 is outside/);
    });

    it('wrong format / version -> MODEL_INVALID', async () => {
      const m = fx.manifest();
      fx.writeManifest({ ...m, formatVersion: 2 });
      expect((await rejection(loadManifest(fx.dir))).message).toMatch(/formatVersion 2 is not supported/);
      fx.writeManifest({ ...m, format: 'onnx' });
      expect((await rejection(loadManifest(fx.dir))).code).toBe('MODEL_INVALID');
    });

    it('session input names differing from the graph -> MODEL_INVALID listing both', async () => {
      const m = fx.manifest();
      const sessions = m.sessions as Record<string, { inputs: Array<{ name: string }> }>;
      sessions.decoder.inputs[0].name = 'hidden_states';
      fx.writeManifest(m);
      const e = await rejection(loadCaptioner(fx.dir, { provider: 'cpu' }));
      expect(e.code).toBe('MODEL_INVALID');
      expect(e.message).toContain('decoder.onnx inputs do not match manifest.json');
      expect(e.message).toContain('not in graph: hidden_states');
    });

    it('special token ids not matching the tokenizer -> TOKENIZER_INVALID', async () => {
      const m = fx.manifest();
      const tokens = m.tokens as Record<string, number>;
      tokens.audioPad = tokens.imStart;
      fx.writeManifest(m);
      const e = await rejection(loadCaptioner(fx.dir, { provider: 'cpu' }));
      expect(e.code).toBe('TOKENIZER_INVALID');
      expect(e.message).toContain(`tokens.audioPad is ${tokens.imStart}`);
    });
  });

  it('provider cuda on a CPU-only onnxruntime-node -> PROVIDER_UNAVAILABLE', async () => {
    const e = await rejection(loadCaptioner(FIXTURE_DIR, { provider: 'cuda' }));
    expect(e.code).toBe('PROVIDER_UNAVAILABLE');
    expect(e.message).toContain('--onnxruntime-node-install=cuda12');
  });

  it('structural errors say which field and what was expected', () => {
    const good = JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(() => parseManifest({ ...good, tokens: { ...(good.tokens as object), eos: [] } })).toThrow(/tokens\.eos must be a non-empty array of token ids/);
    expect(() => parseManifest({ ...good, files: {} })).toThrow(/is used but not listed in "files"/);
    expect(() => parseManifest({ ...good, config: { ...(good.config as object), audio: { ...(good.config as { audio: object }).audio, outputDim: 1 } } })).toThrow(/outputDim/);
  });
});
