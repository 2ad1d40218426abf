/**
 * ASR benchmark: word error rate, real-time factor and memory of the ASR observer's engines
 * (Whisper base, Whisper tiny.en, PocketSphinx) on the LibriVox read-speech clips of Debian's
 * pocketsphinx-testdata (reference transcripts shipped next to them), as recorded and converted
 * to 8 kHz (`ffmpeg -ar 8000`) and to G.711-like telephone audio (300-3400 Hz, 8 kHz mu-law).
 * Each engine runs through the product path (asrObserver: decode, Silero VAD, engine).
 *
 *   bash scripts/setup-asr.sh && npm run build:ts && npm run bench:asr -- [--engines base,tiny.en,pocketsphinx] [--json out.json]
 *
 * An engine `base:en` runs Whisper base with the language fixed instead of detected.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { asrObserver, wordErrorRate, type AsrData, type AsrObserver } from '../src/detective';
import { decodeAudio, resolveBinary } from '../src/media';

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';

interface Clip {
  id: string;
  reference: string;
}

const CONDITIONS = [
  { name: '16 kHz (as recorded)', args: [] as string[] },
  { name: '8 kHz (ffmpeg -ar 8000)', args: ['-ar', '8000'] },
  { name: '8 kHz mu-law, 300-3400 Hz', args: ['-af', 'highpass=f=300,lowpass=f=3400', '-ar', '8000', '-c:a', 'pcm_mulaw'] },
];

function clips(): Clip[] {
  return readFileSync(join(LIBRIVOX, 'transcription'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^(.*)\((\S+)\)\s*$/.exec(l);
      if (m === null) throw new Error(`bad transcription line: ${l}`);
      return { id: m[2], reference: m[1].replace(/<\/?s>/g, '').trim() };
    });
}

function pythonChildren(): string[] {
  const kids = readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '');
  return kids.filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('python'));
}

/** Peak resident set (VmHWM) of a child process, MiB. */
function peakRssMiB(pid: string): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (hwm === null) throw new Error(`no VmHWM for ${pid}`);
  return Number(hwm[1]) / 1024;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { engines: { type: 'string', default: 'base,tiny.en,pocketsphinx' }, json: { type: 'string' } } });
  const engines = (values.engines ?? '').split(',').filter((e) => e !== '');
  const dir = mkdtempSync(join(tmpdir(), 'bench-asr-'));
  const list = clips();
  const ffmpeg = resolveBinary('ffmpeg');
  // decoded once per condition: every engine gets the same 16 kHz samples
  const audio = CONDITIONS.map((c, ci) =>
    list.map((clip) => {
      const out = join(dir, `${clip.id}.${ci}.wav`);
      execFileSync(ffmpeg, ['-loglevel', 'error', '-y', '-i', join(LIBRIVOX, `${clip.id}.wav`), ...c.args, out]);
      return out;
    }),
  );
  const decoded = await Promise.all(audio.map((files) => Promise.all(files.map(async (f) => (await decodeAudio(f)).samples))));
  const words = list.reduce((n, c) => n + wordErrorRate(c.reference, '').referenceWords, 0);
  const seconds = decoded[0].reduce((n, s) => n + s.length / 16000, 0);
  console.log(`ASR benchmark: ${list.length} LibriVox clips, ${words} reference words, ${seconds.toFixed(1)} s of speech per condition`);
  // every engine loaded first; then clip by clip, the engines take turns, so that each engine's
  // time is taken under the same (shared, busy) machine load
  const loaded: Array<{ label: string; observer: AsrObserver; loadSeconds: number; pid?: string }> = [];
  for (const spec of engines) {
    const [e, language] = spec.split(':'); // e.g. base:en fixes the language instead of detecting it
    const observer = e === 'pocketsphinx' ? asrObserver({ engine: 'pocketsphinx' }) : asrObserver({ engine: 'whisper', whisperModel: e === 'tiny.en' ? 'tiny.en' : 'base', language });
    const before = new Set(pythonChildren());
    const t0 = process.hrtime.bigint(); // the first call (first clip) loads the model and the VAD: timed apart
    await observer.observe({ media: { samples: decoded[0][0] }, question: '', signal: new AbortController().signal });
    loaded.push({ label: language === undefined ? observer.engine : `${observer.engine} (language ${language})`, observer, loadSeconds: Number(process.hrtime.bigint() - t0) / 1e9, pid: pythonChildren().find((p) => !before.has(p)) });
  }
  const rows: Array<{ engine: string; condition: string; wer: number; errors: number; words: number; rtf: number; wallSeconds: number; workerRssMiB?: number; loadSeconds: number }> = [];
  const samples: Array<{ engine: string; condition: string; answer: string }> = [];
  for (const [ci, c] of CONDITIONS.entries()) {
    const errors = loaded.map(() => 0);
    const wall = loaded.map(() => 0);
    for (const [i, clip] of list.entries()) {
      for (const [k, { observer }] of loaded.entries()) {
        const t = process.hrtime.bigint();
        const res = await observer.observe({ media: { samples: decoded[ci][i] }, question: '', signal: new AbortController().signal });
        wall[k] += Number(process.hrtime.bigint() - t) / 1e9;
        errors[k] += wordErrorRate(clip.reference, (res.data as AsrData).transcript).errors;
        if (i === 0) samples.push({ engine: loaded[k].label, condition: c.name, answer: res.answer });
      }
    }
    for (const [k, l] of loaded.entries()) {
      rows.push({ engine: l.label, condition: c.name, wer: errors[k] / words, errors: errors[k], words, rtf: wall[k] / seconds, wallSeconds: wall[k], workerRssMiB: l.pid === undefined ? undefined : peakRssMiB(l.pid), loadSeconds: l.loadSeconds });
    }
  }
  for (const l of loaded) await l.observer.dispose();
  const base = rows.find((r) => r.engine === 'pocketsphinx-en-us');
  console.log('\n| engine | audio | WER | errors / words | real-time factor | time vs PocketSphinx | worker peak RSS | first call (load + 1 clip) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ref = rows.find((x) => x.engine === base?.engine && x.condition === r.condition);
    const ratio = ref === undefined ? 'n/a' : `${(r.wallSeconds / ref.wallSeconds).toFixed(2)}x`;
    const rss = r.workerRssMiB === undefined ? 'n/a' : `${r.workerRssMiB.toFixed(0)} MiB`;
    console.log(`| ${r.engine} | ${r.condition} | ${(100 * r.wer).toFixed(1)} % | ${r.errors} / ${r.words} | ${r.rtf.toFixed(3)} | ${ratio} | ${rss} | ${r.loadSeconds.toFixed(1)} s |`);
  }
  console.log(`\nnode process peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  for (const s of samples) console.log(`\n${s.engine}, ${s.condition}, first clip:\n  ${s.answer}`);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ rows, samples }, null, 2));
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
