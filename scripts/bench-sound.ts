/**
 * Sound-event benchmark: the sound-event observer's zero-shot Whisper tagger on the labelled clips of
 * test/fixtures/sound-events.json (Debian scratch, sound-icons, sound-theme-freedesktop; speech and
 * noise clips that should state no event). The "tune" split chose the settings and gives the
 * calibration prior; the "report" split only measures. Per class: top-1 / top-3 accuracy (the clip's
 * strongest window) and the precision of the events the observer states (what a caption would say).
 *
 *   npm run build:ts && nice -n 10 npm run bench:sound -- [--model base|tiny.en] [--cache scores.json] [--write-priors] [--json out.json]
 *
 * --write-priors rewrites src/detective/observers/sound-priors.ts for the model from the tune split.
 * --cache keeps the raw Whisper scores (re-runs then cost no model time).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import { ort } from '../src/engine/ort';
import { defaultSileroPath, defaultWhisperModelDir, sileroSpeechProbs, WhisperWorker, type WhisperModelName } from '../src/detective/observers';
import { classScores, decideSoundEvents, SOUND_CONTEXT_SECONDS, SOUND_DECISION_DEFAULTS, soundPhrasings, soundWindows, speechShares, type SoundDecisionOptions, type SoundWindow } from '../src/detective/observers/sound-events';
import { SOUND_LABELS } from '../src/detective/observers/sound-labels';
import { SOUND_PRIORS } from '../src/detective/observers/sound-priors';
import { decodeAudio } from '../src/media';
import { packageRoot } from '../src/util/paths';

interface LabelledClip {
  path: string;
  class: string | null;
  kind?: string;
  split: 'tune' | 'report';
  package: string;
}

interface Scored {
  clip: LabelledClip;
  windows: SoundWindow[];
  scores: number[][];
  speech: number[];
}

interface Cache {
  model: string;
  context: number;
  phrasings: string[];
  nulls: Record<string, number[]>;
  clips: Record<string, { windows: SoundWindow[]; scores: number[][]; speech: number[] }>;
}

const byId = new Map(SOUND_LABELS.map((l) => [l.id, l]));

/**
 * A stated class is right when it is the clip's class or a broader class of it (music for a guitar);
 * a stated family when the clip's class is of that family.
 */
function right(stated: Stated, truth: string | null): boolean {
  if (truth === null) return false;
  if (stated.kind === 'family') return byId.get(truth)?.family === stated.label;
  return stated.label === truth || byId.get(truth)?.parent === stated.label;
}

interface Stated {
  kind: 'class' | 'family';
  label: string;
}

const statedName = (s: Stated): string => (s.kind === 'family' ? `${s.label} (family)` : s.label);

async function scoreAll(model: WhisperModelName, clips: LabelledClip[], cachePath: string | undefined): Promise<{ scored: Scored[]; nulls: Record<string, number[]>; seconds: number }> {
  const phrasings = soundPhrasings().map((p) => p.text);
  const cache: Cache =
    cachePath !== undefined && existsSync(cachePath) ? (JSON.parse(readFileSync(cachePath, 'utf8')) as Cache) : { model, context: SOUND_CONTEXT_SECONDS, phrasings, nulls: {}, clips: {} };
  if (cache.model !== model || cache.context !== SOUND_CONTEXT_SECONDS || cache.phrasings.join('\n') !== phrasings.join('\n')) throw new Error(`${cachePath} holds scores of another model, context or vocabulary`);
  const worker = new WhisperWorker({ modelDir: defaultWhisperModelDir(model) });
  let vad: Ort.InferenceSession | undefined;
  let seconds = 0;
  try {
    const scored: Scored[] = [];
    for (const clip of clips) {
      let hit = cache.clips[clip.path];
      if (hit === undefined || Object.keys(cache.nulls).length === 0) {
        const { samples } = await decodeAudio(clip.path);
        const { windows } = soundWindows(samples, SOUND_CONTEXT_SECONDS, 24);
        vad ??= await ort().InferenceSession.create(defaultSileroPath(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
        const speech = speechShares(await sileroSpeechProbs(vad, samples), windows);
        const res = await worker.scoreLabels(samples, windows.map((w) => [w.start, w.end] as const), phrasings, { contextSeconds: SOUND_CONTEXT_SECONDS, nulls: true });
        seconds += res.seconds;
        if (res.nullScores !== undefined) cache.nulls = res.nullScores;
        hit = { windows, scores: res.scores, speech };
        cache.clips[clip.path] = hit;
        if (cachePath !== undefined) writeFileSync(cachePath, JSON.stringify(cache)); // an interrupted run keeps what it scored
        process.stderr.write(`bench-sound: ${clip.path} ${windows.length} window(s) ${res.seconds.toFixed(1)} s\n`);
      }
      scored.push({ clip, ...hit });
    }
    return { scored, nulls: cache.nulls, seconds };
  } finally {
    await worker.dispose();
    await vad?.release();
  }
}

/** Mean raw score per phrasing over every window of the clips. */
function meanPrior(scored: Scored[]): number[] {
  const rows = scored.flatMap((s) => s.scores);
  return rows[0].map((_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
}

interface ClipResult {
  clip: LabelledClip;
  rank: number | null;
  top: string | null;
  stated: Stated[];
}

function evaluate(scored: Scored[], prior: number[], opts: SoundDecisionOptions): ClipResult[] {
  return scored.map((s) => {
    const { events } = decideSoundEvents(s.windows, s.scores, s.speech, prior, opts);
    // the clip's ranking: the window whose best class scores highest
    const ranked = s.scores.map((w) => classScores(w, prior).ranked).sort((a, b) => b[0].score - a[0].score)[0];
    const truth = s.clip.class;
    const rank = ranked === undefined || truth === null ? null : ranked.findIndex((c) => right({ kind: 'class', label: c.id }, truth));
    const stated = [...new Map(events.map((e) => [`${e.kind}:${e.label}`, { kind: e.kind, label: e.label }])).values()];
    return { clip: s.clip, rank, top: ranked?.[0].id ?? null, stated };
  });
}

interface Summary {
  clips: number;
  top1: number;
  top3: number;
  stated: number;
  statedRight: number;
  classStated: number;
  classRight: number;
  negatives: number;
  negativesStated: number;
}

function summary(results: ClipResult[]): Summary {
  const pos = results.filter((r) => r.clip.class !== null);
  const neg = results.filter((r) => r.clip.class === null);
  const stated = results.flatMap((r) => r.stated.map((s) => right(s, r.clip.class)));
  const classes = results.flatMap((r) => r.stated.filter((s) => s.kind === 'class').map((s) => right(s, r.clip.class)));
  return {
    classStated: classes.length,
    classRight: classes.filter(Boolean).length,
    clips: pos.length,
    top1: pos.filter((r) => r.rank === 0).length,
    top3: pos.filter((r) => r.rank !== null && r.rank >= 0 && r.rank < 3).length,
    stated: stated.length,
    statedRight: stated.filter(Boolean).length,
    negatives: neg.length,
    negativesStated: neg.filter((r) => r.stated.length > 0).length,
  };
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)} %`);

function line(name: string, s: Summary): string {
  return `| ${name} | ${s.clips} | ${s.top1} (${pct(s.top1, s.clips)}) | ${s.top3} (${pct(s.top3, s.clips)}) | ${s.statedRight} / ${s.stated} (${pct(s.statedRight, s.stated)}) | ${s.classRight} / ${s.classStated} | ${s.negativesStated} of ${s.negatives} |`;
}

function perClass(results: ClipResult[]): string[] {
  const classes = [...new Set(results.map((r) => r.clip.class ?? `none (${r.clip.kind ?? '?'})`))].sort();
  return classes.map((c) => {
    const rs = results.filter((r) => (r.clip.class ?? `none (${r.clip.kind ?? '?'})`) === c);
    const s = summary(rs);
    const said = rs.flatMap((r) => r.stated.map(statedName)).join(', ') || '-';
    const tops = rs.map((r) => r.top ?? '-').join(', ');
    return `| ${c} | ${rs.length} | ${r1(rs, 0)} | ${r1(rs, 2)} | ${s.statedRight} / ${s.stated} | ${said} | ${tops} |`;
  });
}

const r1 = (rs: ClipResult[], maxRank: number): string => (rs[0].clip.class === null ? '-' : String(rs.filter((r) => r.rank !== null && r.rank >= 0 && r.rank <= maxRank).length));

function writePriors(model: WhisperModelName, prior: number[]): void {
  const phrasings = soundPhrasings().map((p) => p.text);
  const all: Record<string, Record<string, number>> = { base: { ...SOUND_PRIORS.base }, 'tiny.en': { ...SOUND_PRIORS['tiny.en'] } };
  all[model] = Object.fromEntries(phrasings.map((p, i) => [p, Number(prior[i].toFixed(4))]));
  const file = join(packageRoot(), 'src', 'detective', 'observers', 'sound-priors.ts');
  const body = Object.entries(all)
    .map(([m, table]) => `  ${JSON.stringify(m)}: {\n${Object.entries(table).map(([k, v]) => `    ${JSON.stringify(k)}: ${v},`).join('\n')}\n  },`)
    .join('\n');
  const head = readFileSync(file, 'utf8').split('export const SOUND_PRIORS')[0];
  writeFileSync(file, `${head}export const SOUND_PRIORS: Record<WhisperModelName, Readonly<Record<string, number>>> = {\n${body}\n};\n`);
  process.stderr.write(`bench-sound: wrote ${phrasings.length} priors of Whisper ${model} to ${file}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string', default: 'base' }, cache: { type: 'string' }, 'write-priors': { type: 'boolean', default: false }, json: { type: 'string' } } });
  const model = values.model as WhisperModelName;
  if (model !== 'base' && model !== 'tiny.en') throw new Error('--model is base or tiny.en');
  const fixture = JSON.parse(readFileSync(join(packageRoot(), 'test', 'fixtures', 'sound-events.json'), 'utf8')) as { clips: LabelledClip[] };
  const started = Date.now();
  const { scored, nulls, seconds } = await scoreAll(model, fixture.clips, values.cache);
  const tune = scored.filter((s) => s.clip.split === 'tune');
  const report = scored.filter((s) => s.clip.split === 'report');
  const domain = meanPrior(tune);
  const nullNames = Object.keys(nulls);
  const nullPrior = domain.map((_, j) => nullNames.reduce((a, n) => a + nulls[n][j], 0) / nullNames.length);
  if (values['write-priors']) writePriors(model, domain);
  const out: string[] = [];
  out.push(`Whisper ${model}, ${SOUND_CONTEXT_SECONDS} s context, ${soundPhrasings().length} phrasings of ${SOUND_LABELS.length} classes; ${scored.length} clips (${tune.length} tune, ${report.length} report), ${scored.reduce((a, s) => a + s.windows.length, 0)} windows.`);
  out.push('', '| calibration, split | clips | top-1 | top-3 | stated events right | of them classes right | negatives with an event |', '|---|---|---|---|---|---|---|');
  for (const [name, prior] of [['tune-set mean (default)', domain], ['silence/noise (Ma et al.)', nullPrior], ['none', domain.map(() => 0)]] as const) {
    out.push(line(`${name}, tune`, summary(evaluate(tune, prior, {}))));
    out.push(line(`${name}, report`, summary(evaluate(report, prior, {}))));
  }
  out.push('', 'Margin sweep (minScore = minFamilyScore; tune-set prior, on the tune split each clip scored with the prior of the other tune clips):', '', '| margin | stated right (tune, leave-one-out) | stated right (report) |', '|---|---|---|');
  for (const m of [0.5, 0.75, 1, 1.25, 1.5, 2]) {
    const opts = { minScore: m, minFamilyScore: m };
    const loo = tune.flatMap((s, i) => evaluate([s], meanPrior(tune.filter((_, k) => k !== i)), opts));
    const a = summary(loo), b = summary(evaluate(report, domain, opts));
    out.push(`| ${m}${m === SOUND_DECISION_DEFAULTS.minScore ? ' (default)' : ''} | ${a.statedRight} / ${a.stated} (${pct(a.statedRight, a.stated)}) | ${b.statedRight} / ${b.stated} (${pct(b.statedRight, b.stated)}) |`);
  }
  const reportResults = evaluate(report, domain, {});
  out.push('', 'Report split, per class (tune-set prior, default margins):', '', '| class | clips | top-1 | top-3 | stated right | stated | top class per clip |', '|---|---|---|---|---|---|---|', ...perClass(reportResults));
  out.push('', `Scoring time: ${seconds.toFixed(1)} s of Whisper for the clips not in the cache; ${((Date.now() - started) / 1000).toFixed(0)} s in all.`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ model, report: reportResults, tune: evaluate(tune, domain, {}) }, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-sound: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
