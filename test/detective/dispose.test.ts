/**
 * Disposal of the Detective's resources: every default observer and the toolbox refuse work with
 * DISPOSED once disposed, and leaving an `await using` block ends the observers' child processes
 * (the Whisper worker) and releases their sessions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { asrObserver, createToolbox, defaultObservers, ocrObserver, signalObserver, vadObserver, whisperAvailable, defaultWhisperModelDir, defaultWhisperPython } from '../../src/detective';
import type { DetectiveToolbox } from '../../src/detective';
import { FRONT_CENTER, SPEECH, SPEECH_TEXT } from './media';

/** Live child processes of this process (pid and command line), read from /proc. */
function children(): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (ppid === process.pid && state !== 'Z') out.push({ pid: Number(name), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // the process ended while we looked
    }
  }
  return out;
}

const whisper = (): Array<{ pid: number; cmd: string }> => children().filter((c) => c.cmd.includes('whisper_worker.py'));
const signal = (): AbortSignal => new AbortController().signal;

describe('observers after dispose', () => {
  it('each default observer rejects observe() with DISPOSED once disposed (dispose is idempotent)', async () => {
    const observers = defaultObservers({ captionerModelDir: 'models/tiny-random', audioLm: { baseURL: 'http://127.0.0.1:9/v1', model: 'm' } });
    expect(observers.map((o) => o.name).sort()).toEqual(['asr', 'audio_lm', 'captioner', 'ocr', 'signal', 'sound_events', 'vad', 'video']);
    for (const o of observers) {
      await o.dispose();
      await o[Symbol.asyncDispose]();
      await expect(o.observe({ media: { samples: new Float32Array(16000) }, question: 'what is heard?', signal: signal() })).rejects.toMatchObject({
        code: 'DISPOSED',
        message: `the ${o.name} observer was disposed`,
      });
    }
  });

  it('a VAD observer answers, then after its block is left it refuses', async () => {
    const { decodeAudio } = await import('../../src/media');
    const { samples } = await decodeAudio(SPEECH);
    let kept;
    {
      await using vad = vadObserver();
      kept = vad;
      const r = await vad.observe({ media: { samples }, question: '', signal: signal() });
      expect(r.answer).toMatch(/^Speech [1-9]/);
    }
    await expect(kept.observe({ media: { samples }, question: '', signal: signal() })).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});

describe('the toolbox with await using', () => {
  const clip = { id: 'speech', path: SPEECH };

  it('leaving the block ends the Whisper worker process; the toolbox then refuses with DISPOSED', async () => {
    expect(whisperAvailable({ python: defaultWhisperPython(), modelDir: defaultWhisperModelDir('base') })).toBe(true); // scripts/setup-asr.sh
    expect(whisper()).toEqual([]);
    let kept: DetectiveToolbox | undefined;
    {
      await using toolbox = createToolbox({ observers: [signalObserver(), asrObserver({ engine: 'whisper', threads: 1 })] });
      kept = toolbox;
      const r = await toolbox.observe(clip, 'asr', 'what is said?');
      for (const w of SPEECH_TEXT.split(' ')) expect(r.answer.toLowerCase()).toContain(w);
      expect(whisper()).toHaveLength(1); // the worker stays up between questions
    }
    expect(whisper()).toEqual([]);
    await expect(kept.observe(clip, 'signal', 'how loud?')).rejects.toMatchObject({ code: 'DISPOSED', message: 'the observer toolbox was disposed' });
    await expect(kept.prepare({ id: 'other', path: FRONT_CENTER })).rejects.toMatchObject({ code: 'DISPOSED' });
  }, 180_000);

  it('a toolbox left by an exception still disposes its observers', async () => {
    const ocr = ocrObserver();
    const thrown = await (async () => {
      await using toolbox = createToolbox({ observers: [ocr] });
      void toolbox;
      throw new Error('the run failed');
    })().catch((e: unknown) => e);
    expect(thrown).toMatchObject({ message: 'the run failed' });
    await expect(ocr.observe({ media: { path: FRONT_CENTER }, question: '', signal: signal() })).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
