/**
 * The request-path fast paths that keep the server's event loop short: 16-bit PCM WAV decoded
 * directly (must equal wav-decoder's symmetric output, mono and multi-channel) and canonical base64
 * decoded with two native passes (must equal the strict decoder, and never accept what it rejects).
 */
import { readFileSync } from 'node:fs';
import { decodeWavPcm, parseWavHeader } from '../../src/media/wav';
import { decodeBase64 } from '../../src/server/media/source';

const CLIP = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

interface WavDecoder {
  decode: { sync(buffer: ArrayBuffer, opts?: { symmetric?: boolean }): { channelData: Float32Array[] } };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wavDecoder = require('wav-decoder') as WavDecoder;

/** A canonical 16-bit PCM WAV of `channels` interleaved channels. */
function wav16(channels: Int16Array[], rate: number): Uint8Array {
  const n = channels[0].length;
  const c = channels.length;
  const buf = Buffer.alloc(44 + n * c * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + n * c * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(c, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * c * 2, 28);
  buf.writeUInt16LE(c * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(n * c * 2, 40);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) buf.writeInt16LE(channels[ch][i], 44 + 2 * (i * c + ch));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function reference(bytes: Uint8Array): Float32Array {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const chans = wavDecoder.decode.sync(ab, { symmetric: true }).channelData;
  const out = new Float32Array(chans[0].length);
  for (const ch of chans) for (let i = 0; i < out.length; i++) out[i] += ch[i];
  for (let i = 0; i < out.length; i++) out[i] *= 1 / chans.length;
  return out;
}

describe('16-bit PCM WAV fast path', () => {
  it('a real mono clip decodes to exactly what wav-decoder gives', () => {
    const bytes = new Uint8Array(readFileSync(CLIP));
    const header = parseWavHeader(bytes, 'clip');
    if (header.kind !== 'pcm') throw new Error('expected PCM');
    const got = decodeWavPcm(bytes, header);
    const want = reference(bytes);
    expect(got.length).toBe(want.length);
    expect(got.length).toBeGreaterThan(16000);
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
    expect(Math.min(...got.subarray(0, 50000))).toBeLessThan(-0.01); // real speech, not silence
  });
  it('stereo and 3-channel clips downmix to the channel mean like the wav-decoder path', () => {
    const pcm = readFileSync(CLIP);
    const mono = new Int16Array(20000);
    for (let i = 0; i < mono.length; i++) mono[i] = pcm.readInt16LE(44 + 2 * (i + 8000));
    const reversed = Int16Array.from(mono).reverse();
    const extremes = Int16Array.from({ length: mono.length }, (_, i) => (i % 2 === 0 ? -32768 : 32767));
    for (const chans of [[mono, reversed], [mono, reversed, extremes]]) {
      const bytes = wav16(chans, 16000);
      const header = parseWavHeader(bytes, 'synthetic');
      if (header.kind !== 'pcm') throw new Error('expected PCM');
      const got = decodeWavPcm(bytes, header);
      const want = reference(bytes);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(got.length).toBe(want.length);
      expect(worst).toBeLessThanOrEqual(1e-7);
    }
  });
});

describe('base64 fast path', () => {
  const bytes = readFileSync(CLIP).subarray(0, 30001);
  const b64 = bytes.toString('base64');
  it('canonical base64 decodes to the bytes; whitespace-wrapped and url-safe forms still decode the same', () => {
    expect(Buffer.from(decodeBase64(b64, 'data', 1 << 20)).equals(bytes)).toBe(true);
    const wrapped = b64.replace(/.{76}/g, '$&\n');
    expect(Buffer.from(decodeBase64(wrapped, 'data', 1 << 20)).equals(bytes)).toBe(true);
    const url = bytes.toString('base64url');
    expect(Buffer.from(decodeBase64(url, 'data', 1 << 20)).equals(bytes)).toBe(true);
  });
  it('a stray character in an otherwise canonical-length string is refused, never dropped', () => {
    const bad = b64.slice(0, 100) + '*' + b64.slice(101);
    expect(bad.length % 4).toBe(0);
    expect(() => decodeBase64(bad, 'data', 1 << 20)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => decodeBase64(b64, 'data', 1000)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(() => decodeBase64('', 'data', 1000)).toThrow(expect.objectContaining({ code: 'MEDIA_EMPTY' }));
  });
});
