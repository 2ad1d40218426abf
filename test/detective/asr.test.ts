/**
 * The ASR observer with the real Whisper model (scripts/setup-asr.sh installs it) on real LibriVox
 * read speech (Debian pocketsphinx-testdata) and its 8 kHz telephone-band conversion.
 */
import childProcess, { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asrObserver, speechChunks, whisperAvailable, WhisperWorker, wordErrorRate, type AsrData } from '../../src/detective';
import { OmnicapError } from '../../src/errors';
import { decodeAudio, resolveBinary } from '../../src/media';
import { packageRoot } from '../../src/util/paths';
import { guarded } from '../wait';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIP = 'sense_and_sensibility_01_austen_64kb-0870';
const reference = (id: string): string => {
  const line = readFileSync(join(LIBRIVOX, 'transcription'), 'utf8').split('\n').find((l) => l.includes(`(${id})`));
  if (line === undefined) throw new Error(`no reference for ${id}`);
  return line.replace(/\(.*\)/, '').replace(/<\/?s>/g, '').trim();
};
const signal = (): AbortSignal => new AbortController().signal;

/** The next child process the code under test spawns, once it runs (a pass-through spy on spawn, removed at once). */
function nextSpawned(): Promise<ChildProcess> {
  const real = childProcess.spawn;
  return guarded(
    new Promise<ChildProcess>((resolve) => {
      const spy = jest.spyOn(childProcess, 'spawn').mockImplementation(((...args: unknown[]) => {
        spy.mockRestore();
        const child = (real as (...a: unknown[]) => ChildProcess).apply(childProcess, args);
        child.once('spawn', () => resolve(child));
        return child;
      }) as unknown as typeof real);
    }),
    'the Whisper worker process to start',
  );
}

describe('word error rate', () => {
  it('counts substitutions, deletions and insertions over normalised words', () => {
    expect(wordErrorRate('he was not an ill disposed young man', 'He was not an ill-disposed young man.').wer).toBe(0);
    expect(wordErrorRate('and mister john dashwood', 'And Mr. John Dashwood').wer).toBe(0);
    const r = wordErrorRate('he might even have been made amiable himself', 'he might have been made the amiable itself');
    expect(r).toEqual({ wer: 3 / 8, errors: 3, referenceWords: 8 });
  });
});

describe('speech chunks from Silero probabilities', () => {
  it('pads, closes short gaps and drops blips', () => {
    const hop = 512 / 16000;
    const probs = new Float32Array(Math.round(10 / hop));
    const on = (a: number, b: number): void => {
      probs.fill(0.9, Math.round(a / hop), Math.round(b / hop));
    };
    on(1, 3);
    on(3.5, 4); // gap 0.5 s: joins
    on(6, 6.1); // 0.1 s blip: dropped
    on(8, 9.8);
    const c = speechChunks(probs, 10);
    expect(c).toHaveLength(2);
    expect(c[0][0]).toBeCloseTo(0.7, 1);
    expect(c[0][1]).toBeCloseTo(4.3, 1);
    expect(c[1][0]).toBeCloseTo(7.7, 1);
    expect(c[1][1]).toBe(10);
  });
});

const installed = whisperAvailable();
if (!installed) console.warn('asr.test: Whisper is not installed (run `bash scripts/setup-asr.sh`); the real-model tests are skipped');
const real = installed ? describe : describe.skip;

real('ASR observer with real Whisper base', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asr-test-'));
  const asr = asrObserver();
  afterAll(async () => {
    await asr.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('transcribes LibriVox read speech and its 8 kHz conversion within 10 % WER, with segment times and confidence', async () => {
    expect(asr.engine).toBe('whisper-base');
    const ref = reference(CLIP);
    const narrow = join(dir, '8k.wav');
    execFileSync(resolveBinary('ffmpeg'), ['-loglevel', 'error', '-y', '-i', join(LIBRIVOX, `${CLIP}.wav`), '-ar', '8000', narrow]);
    for (const file of [join(LIBRIVOX, `${CLIP}.wav`), narrow]) {
      const { samples, durationSeconds } = await decodeAudio(file);
      const res = await asr.observe({ media: { samples }, question: 'What is said?', signal: signal() });
      const data = res.data as AsrData;
      expect(data.engine).toBe('whisper-base');
      expect(wordErrorRate(ref, data.transcript).wer).toBeLessThanOrEqual(0.1);
      expect(data.language).toBe('en');
      expect(data.segments.length).toBeGreaterThan(0);
      for (const s of data.segments) {
        expect(s.start).toBeGreaterThanOrEqual(0);
        expect(s.end).toBeGreaterThan(s.start);
        expect(s.end).toBeLessThanOrEqual(durationSeconds + 0.1);
        expect(s.confidence).toBeGreaterThan(0.5);
        expect(s.confidence).toBeLessThanOrEqual(1);
      }
      expect(data.speech.length).toBeGreaterThan(0);
      expect(res.answer).toMatch(/^Transcript \(engine whisper-base, language en, \d+ segments?, mean confidence 0\.\d\d\): \[0\.\d-\d\.\d s\] \(0\.\d\d\) And Mr\. John Dashwood/);
    }
  });

  it('fallback off decodes once at temperature 0 a song that the default decoding retries at higher temperatures', async () => {
    const { samples } = await decodeAudio(join(packageRoot(), 'test', 'media', 'cache', 'lena', 'lena.mp3')); // npm audio-lena
    await using w = new WhisperWorker();
    const chunks = [[0, 10]] as const;
    const retried = await w.transcribe(samples, chunks, { beamSize: 1 });
    const once = await w.transcribe(samples, chunks, { beamSize: 1, fallback: false });
    expect(retried.segments.some((s) => (s.temperature ?? 0) > 0)).toBe(true);
    expect(once.segments.length).toBeGreaterThan(0);
    expect(once.segments.every((s) => s.temperature === 0)).toBe(true);
  });

  it('finds no words in silence', async () => {
    const res = await asr.observe({ media: { samples: new Float32Array(16000 * 3) }, question: '', signal: signal() });
    expect(res.answer).toBe('No speech was recognized (engine whisper-base; Silero VAD found no speech).');
    expect((res.data as AsrData).segments).toEqual([]);
  });

  it('an abort kills the worker with a typed ABORTED error; a crash gives MODEL_RUN_FAILED; the next call starts a fresh worker', async () => {
    const { samples } = await decodeAudio(join(LIBRIVOX, `${CLIP}.wav`));
    const worker = new WhisperWorker();
    try {
      // aborted once its worker process runs
      const ac = new AbortController();
      const first = nextSpawned();
      const p = worker.transcribe(samples, [[0, 7]], { language: 'en', signal: ac.signal });
      const killedByAbort = await first;
      ac.abort();
      await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
      expect(worker.pid).toBeUndefined();
      expect(killedByAbort.signalCode ?? (await new Promise((r) => killedByAbort.once('exit', (_c, sig) => r(sig))))).toBe('SIGKILL');

      // a fresh worker for the next call, killed from outside while it works
      const second = nextSpawned();
      const q = worker.transcribe(samples, [[0, 7]], { language: 'en' });
      const fresh = await second;
      expect(worker.pid).toBe(fresh.pid);
      process.kill(fresh.pid as number, 'SIGKILL');
      const err = await q.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OmnicapError);
      expect(err).toMatchObject({ code: 'MODEL_RUN_FAILED', message: expect.stringContaining('SIGKILL') });

      const ok = await worker.transcribe(samples, [[0, 2.2]], { language: 'en', beamSize: 1 });
      expect(ok.segments.map((s) => s.text).join(' ')).toMatch(/^And Mr\. John Dashwood/);
    } finally {
      await worker.dispose();
    }
    expect(worker.pid).toBeUndefined();
    await expect(worker.transcribe(samples, [[0, 1]])).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('tiny.en, the light option: two sentences 2.5 s apart at 8 kHz come back as two segments at their clip times', async () => {
    // 0880 (2.9 s) + 2.5 s of silence + 0930 (3.2 s), telephone band
    const two = join(dir, 'two-8k.wav');
    const a = join(LIBRIVOX, 'sense_and_sensibility_01_austen_64kb-0880.wav');
    const b = join(LIBRIVOX, 'sense_and_sensibility_01_austen_64kb-0930.wav');
    execFileSync(resolveBinary('ffmpeg'), ['-loglevel', 'error', '-y', '-i', a, '-f', 'lavfi', '-t', '2.5', '-i', 'anullsrc=r=16000:cl=mono', '-i', b, '-filter_complex', '[0][1][2]concat=n=3:v=0:a=1', '-ar', '8000', two]);
    const tiny = asrObserver({ whisperModel: 'tiny.en' });
    try {
      expect(tiny.engine).toBe('whisper-tiny.en');
      const { samples } = await decodeAudio(two);
      const data = (await tiny.observe({ media: { samples }, question: '', signal: signal() })).data as AsrData;
      expect(data.speech).toHaveLength(2);
      expect(data.segments).toHaveLength(2);
      const [first, second] = data.segments;
      expect(first.end).toBeLessThanOrEqual(3.3);
      expect(second.start).toBeGreaterThanOrEqual(5.1);
      expect(second.start).toBeLessThanOrEqual(5.9);
      expect(wordErrorRate(reference('sense_and_sensibility_01_austen_64kb-0930'), second.text).wer).toBeLessThanOrEqual(0.1);
      const both = `${reference('sense_and_sensibility_01_austen_64kb-0880')} ${reference('sense_and_sensibility_01_austen_64kb-0930')}`;
      expect(wordErrorRate(both, data.transcript).wer).toBeLessThanOrEqual(0.15);
    } finally {
      await tiny.dispose();
    }
  });
});

describe('engine selection', () => {
  it('falls back to PocketSphinx when Whisper is not installed, and says so', async () => {
    const o = asrObserver({ whisperModelDir: '/nonexistent/whisper' });
    expect(o.engine).toBe('pocketsphinx-en-us');
    expect(o.description).toContain('PocketSphinx fallback: Whisper is not installed');
    const { samples } = await decodeAudio(join(LIBRIVOX, `${CLIP}.wav`));
    const res = await o.observe({ media: { samples }, question: '', signal: signal() });
    expect(res.answer).toMatch(/^Transcript \(engine pocketsphinx-en-us, no timestamps or confidence\): ".*leisure to consider how much there might be/);
    expect((res.data as AsrData).engine).toBe('pocketsphinx-en-us');
  });

  it('engine "whisper" without the model fails at first use with MODEL_NOT_FOUND', async () => {
    const w = new WhisperWorker({ modelDir: '/nonexistent/whisper', python: process.execPath });
    await expect(w.transcribe(new Float32Array(16000), [[0, 1]])).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const noPython = new WhisperWorker({ python: '/nonexistent/python' });
    await expect(noPython.transcribe(new Float32Array(16000), [[0, 1]])).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
  });
});
