/**
 * Sound-event benchmark: the sound-event observer's zero-shot Whisper tagger on the labelled clips of
 * test/fixtures/sound-events.json (Debian scratch, sound-icons, sound-theme-freedesktop; speech and
 * noise clips that should state no event). The "tune" split chose the settings and gives the
 * calibration prior; the "report" split only measures. Per class: top-1 / top-3 accuracy (the clip's
 * strongest window) and the precision of the events the observer states (what a caption would say).
 * The tune rows compare the previous decision rule (margins only) with each newer rule on its own and
 * the shipped rule; the report rows show the shipped settings, the previous rule and the shipped rule
 * less one of its parts (measured, not chosen from).
 *
 *   npm run build:ts && nice -n 10 npm run bench:sound -- [--model base|tiny.en] [--cache scores.json]
 *     [--split tune|report|all] [--full] [--prefetch K] [--offline] [--write-priors] [--timing N] [--json out.json]
 *     [--tile SECONDS]
 *
 * Scores are cached per clip, window and phrasing (--cache): a re-run scores only what is missing
 * (--offline: nothing, it fails instead). --full scores every phrasing on the tune split (the
 * leave-one-out prior and the one-stage rows need them) and, for the report split, adds the
 * one-stage row. --prefetch K first scores, on both splits, what two-stage scoring with a shortlist
 * of K asks for (a shorter shortlist asks for a subset of it).
 * --tile S scores with windows shorter than S seconds repeated back to back until they span S (default
 * SOUND_TILE_SECONDS; the cache records it, and the shipped priors hold for the shipped value only:
 * compare with --write-priors, which re-measures them on the tune split).
 * --write-priors rewrites src/detective/observers/sound-priors.ts for the model from the tune split.
 * --timing N (nothing else is done): on the first N tune clips, fresh (no cache), Whisper time of
 * one-stage and two-stage scoring of the same windows, alternating, in this run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as Ort from 'onnxruntime-node';
import { ort } from '../src/engine/ort';
import { defaultSileroPath, defaultWhisperModelDir, sileroSpeechProbs, WhisperWorker, type WhisperModelName } from '../src/detective/observers';
import {
  classScores,
  decideSoundEvents,
  measureWindows,
  scoreSoundWindows,
  SOUND_CONTEXT_SECONDS,
  SOUND_DECISION_DEFAULTS,
  SOUND_TILE_SECONDS,
  SOUND_SCORING_DEFAULTS,
  soundPhrasings,
  soundWindows,
  speechShares,
  type LabelScorer,
  type RawScores,
  type SoundDecisionOptions,
  type SoundScoringOptions,
  type SoundWindow,
} from '../src/detective/observers/sound-events';
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

interface CachedClip {
  windows: SoundWindow[];
  speech: number[];
  /** Phrasing text -> per window, its raw score (null: not scored yet). */
  scores: Record<string, Array<number | null>>;
}

interface Cache {
  model: string;
  context: number;
  /** Tiling of short windows (SOUND_TILE_SECONDS or --tile); absent in caches written before it: 0. */
  tile?: number;
  clips: Record<string, CachedClip>;
}

interface Stated {
  kind: 'class' | 'family';
  label: string;
}

const byId = new Map(SOUND_LABELS.map((l) => [l.id, l]));
const PHRASINGS = soundPhrasings().map((p) => p.text);

/**
 * A stated class is right when it is the clip's class or a broader class of it (music for a guitar);
 * a stated family when the clip's class is of that family.
 */
function right(stated: Stated, truth: string | null): boolean {
  if (truth === null) return false;
  if (stated.kind === 'family') return byId.get(truth)?.family === stated.label;
  return stated.label === truth || byId.get(truth)?.parent === stated.label;
}

const statedName = (s: Stated): string => (s.kind === 'family' ? `${s.label} (family)` : s.label);

/** Thrown by an --offline scorer for scores the cache lacks. */
class NotCached extends Error {}

/** The cache, and a scorer over it that asks Whisper only for the (window, phrasing) scores it lacks. */
class ScoreStore {
  readonly cache: Cache;
  whisperSeconds = 0;
  sequences = 0;
  private vad?: Ort.InferenceSession;
  constructor(
    private readonly worker: WhisperWorker,
    model: string,
    private readonly path: string | undefined,
    private readonly offline: boolean,
    readonly tile: number,
  ) {
    this.cache = path !== undefined && existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Cache) : { model, context: SOUND_CONTEXT_SECONDS, tile, clips: {} };
    if (this.cache.model !== model || this.cache.context !== SOUND_CONTEXT_SECONDS || (this.cache.tile ?? 0) !== tile) throw new Error(`${path} holds scores of another model, context or tiling`);
  }

  async clip(c: LabelledClip): Promise<CachedClip> {
    let hit = this.cache.clips[c.path];
    if (hit === undefined) {
      const { samples } = await decodeAudio(c.path);
      const { windows } = soundWindows(samples, SOUND_CONTEXT_SECONDS, 24);
      this.vad ??= await ort().InferenceSession.create(defaultSileroPath(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
      hit = { windows, speech: speechShares(await sileroSpeechProbs(this.vad, samples), windows), scores: {} };
      this.cache.clips[c.path] = hit;
    }
    return hit;
  }

  /** A LabelScorer for the clip's windows (in cache order) that fills the cache from Whisper where needed. */
  scorer(c: LabelledClip, entry: CachedClip): LabelScorer {
    return async (windows, labels, subsets) => {
      const at = windows.map((x) => entry.windows.findIndex((y) => y.start === x.start && y.end === x.end));
      if (at.some((k) => k < 0)) throw new Error(`${c.path}: a window the cache does not know`);
      const want = windows.map((_, w) => subsets?.[w] ?? labels.map((__, i) => i));
      const missing = want.map((s, w) => s.filter((i) => (entry.scores[labels[i]]?.[at[w]] ?? null) === null));
      if (missing.some((s) => s.length > 0)) {
        if (this.offline) throw new NotCached(`--offline: ${c.path} lacks scores in the cache`);
        const { samples } = await decodeAudio(c.path);
        const res = await this.worker.scoreLabels(samples, windows.map((x) => [x.start, x.end] as const), labels, { contextSeconds: SOUND_CONTEXT_SECONDS, tileSeconds: this.tile, subsets: missing });
        this.whisperSeconds += res.seconds;
        this.sequences += missing.reduce((a, s) => a + s.length, 0);
        missing.forEach((s, w) =>
          s.forEach((i, k) => {
            entry.scores[labels[i]] ??= entry.windows.map(() => null);
            entry.scores[labels[i]][at[w]] = res.scores[w][k];
          }),
        );
        if (this.path !== undefined) writeFileSync(this.path, JSON.stringify(this.cache)); // an interrupted run keeps what it scored
        process.stderr.write(`bench-sound: ${c.path} ${windows.length} window(s), ${missing.reduce((a, s) => a + s.length, 0)} sequences, ${res.seconds.toFixed(1)} s\n`);
      }
      return { scores: want.map((s, w) => s.map((i) => entry.scores[labels[i]][at[w]] as number)), seconds: 0 };
    };
  }

  async dispose(): Promise<void> {
    await this.vad?.release();
  }
}

interface Scored {
  clip: LabelledClip;
  windows: SoundWindow[];
  speech: number[];
  /** Every phrasing's score per window, null where the cache has none. */
  full: Array<Array<number | null>>;
  entry: CachedClip;
}

function rows(entry: CachedClip): Array<Array<number | null>> {
  return entry.windows.map((_, w) => PHRASINGS.map((p) => entry.scores[p]?.[w] ?? null));
}

/** Mean raw score per phrasing over every window of the clips (they must be fully scored). */
function meanPrior(scored: Scored[]): number[] {
  const all = scored.flatMap((s) => s.full);
  return PHRASINGS.map((p, j) => {
    const v = all.map((r) => r[j]);
    if (v.some((x) => x === null)) throw new Error(`the prior needs every tune window scored with ${p}`);
    return (v as number[]).reduce((a, x) => a + x, 0) / v.length;
  });
}

interface ClipResult {
  clip: LabelledClip;
  rank: number | null;
  top: string | null;
  stated: Stated[];
}

interface Config {
  name: string;
  /** Print the per-class table of this row (tune split). */
  detail?: boolean;
  scoring: SoundScoringOptions;
  decision: SoundDecisionOptions;
}

async function evaluate(store: ScoreStore, s: Scored, prior: number[], cfg: Config): Promise<ClipResult> {
  const raw: RawScores[] = (await scoreSoundWindows(store.scorer(s.clip, s.entry), s.windows, prior, cfg.scoring, s.speech)).raw;
  const { events } = decideSoundEvents(s.windows, raw, s.speech, prior, cfg.decision);
  // the clip's ranking: the window whose best class scores highest
  const ranked = raw
    .map((w) => classScores(w, prior).ranked)
    .filter((r) => r.length > 0)
    .sort((a, b) => b[0].score - a[0].score)[0];
  const truth = s.clip.class;
  const rank = ranked === undefined || truth === null ? null : ranked.findIndex((c) => right({ kind: 'class', label: c.id }, truth));
  const stated = [...new Map(events.map((e) => [`${e.kind}:${e.label}`, { kind: e.kind, label: e.label }])).values()];
  return { clip: s.clip, rank, top: ranked?.[0].id ?? null, stated };
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
  clipsStated: number;
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
    clipsStated: pos.filter((r) => r.stated.length > 0).length,
  };
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)} %`);

function line(name: string, s: Summary): string {
  return `| ${name} | ${s.clips} | ${s.top1} (${pct(s.top1, s.clips)}) | ${s.top3} (${pct(s.top3, s.clips)}) | ${s.statedRight} / ${s.stated} (${pct(s.statedRight, s.stated)}) | ${s.classRight} / ${s.classStated} | ${s.clipsStated} | ${s.negativesStated} of ${s.negatives} |`;
}

const HEADER = ['| configuration, split | clips | top-1 | top-3 | stated events right | of them classes right | clips with an event | negatives with an event |', '|---|---|---|---|---|---|---|---|'];

const PER_CLASS_HEADER = ['| class | clips | top-1 | top-3 | stated right | stated | top class per clip |', '|---|---|---|---|---|---|---|'];

function perClass(results: ClipResult[]): string[] {
  const key = (r: ClipResult): string => r.clip.class ?? `none (${r.clip.kind ?? '?'})`;
  const classes = [...new Set(results.map(key))].sort();
  return classes.map((c) => {
    const rs = results.filter((r) => key(r) === c);
    const s = summary(rs);
    const said = rs.flatMap((r) => r.stated.map(statedName)).join(', ') || '-';
    const tops = rs.map((r) => r.top ?? '-').join(', ');
    return `| ${c} | ${rs.length} | ${within(rs, 0)} | ${within(rs, 2)} | ${s.statedRight} / ${s.stated} | ${said} | ${tops} |`;
  });
}

const within = (rs: ClipResult[], maxRank: number): string => (rs[0].clip.class === null ? '-' : String(rs.filter((r) => r.rank !== null && r.rank >= 0 && r.rank <= maxRank).length));

function writePriors(model: WhisperModelName, prior: number[]): void {
  const all: Record<string, Record<string, number>> = { base: { ...SOUND_PRIORS.base }, 'tiny.en': { ...SOUND_PRIORS['tiny.en'] } };
  all[model] = Object.fromEntries(PHRASINGS.map((p, i) => [p, Number(prior[i].toFixed(4))]));
  const file = join(packageRoot(), 'src', 'detective', 'observers', 'sound-priors.ts');
  const body = Object.entries(all)
    .map(([m, table]) => `  ${JSON.stringify(m)}: {\n${Object.entries(table).map(([k, v]) => `    ${JSON.stringify(k)}: ${v},`).join('\n')}\n  },`)
    .join('\n');
  const head = readFileSync(file, 'utf8').split('export const SOUND_PRIORS')[0];
  writeFileSync(file, `${head}export const SOUND_PRIORS: Record<WhisperModelName, Readonly<Record<string, number>>> = {\n${body}\n};\n`);
  process.stderr.write(`bench-sound: wrote ${PHRASINGS.length} priors of Whisper ${model} to ${file}\n`);
}

/**
 * One-stage against two-stage scoring of the same windows, fresh, alternating (Whisper's own seconds).
 * The worker keeps encoder outputs, so the two-stage run of a window finds it encoded by the one-stage
 * run: it saves one 5 s encode per window (a few per cent) more than the observer does.
 */
async function timing(worker: WhisperWorker, clips: LabelledClip[], prior: number[], tile: number): Promise<string[]> {
  let windows = 0, one = 0, two = 0, seqTwo = 0;
  for (const c of clips) {
    const { samples } = await decodeAudio(c.path);
    const ws = soundWindows(samples, SOUND_CONTEXT_SECONDS, 24).windows;
    if (ws.length === 0) continue;
    const scorer: LabelScorer = async (w, labels, subsets) => {
      const r = await worker.scoreLabels(samples, w.map((x) => [x.start, x.end] as const), labels, { contextSeconds: SOUND_CONTEXT_SECONDS, tileSeconds: tile, subsets });
      return { scores: r.scores, seconds: r.seconds };
    };
    const a = await scoreSoundWindows(scorer, ws, prior, { shortlist: 0 });
    const b = await scoreSoundWindows(scorer, ws, prior, {});
    windows += ws.length;
    one += a.seconds;
    two += b.seconds;
    seqTwo += b.sequences;
    process.stderr.write(`bench-sound: timing ${c.path}: ${ws.length} window(s), one stage ${a.seconds.toFixed(2)} s, two stages ${b.seconds.toFixed(2)} s\n`);
  }
  return [
    `| scoring | windows | label sequences per window | Whisper seconds per window |`,
    '|---|---|---|---|',
    `| one stage (every phrasing) | ${windows} | ${PHRASINGS.length} | ${(one / windows).toFixed(2)} |`,
    `| two stages (shortlist ${SOUND_SCORING_DEFAULTS.shortlist}) | ${windows} | ${(seqTwo / windows).toFixed(0)} | ${(two / windows).toFixed(2)} |`,
  ];
}

const load = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average:\s*/, '');

const SHIPPED = 'shipped settings';

/** The decision rule shipped before the sustained, family-agreement, unstated-water and parent rules. */
const PREVIOUS: Config = {
  name: 'previous rule (margins only)',
  scoring: {},
  decision: { minSustainedSeconds: 0, familyAgreement: false, unstatedFamilies: ['human'], parentCompetes: true },
};

/** Rows measured on the report split besides the shipped settings: the previous rule, and the shipped rule less one of its parts (measured, never chosen from). */
function reportConfigs(): Config[] {
  const d = PREVIOUS.decision;
  return [
    PREVIOUS,
    { name: 'shipped less the sustained rule', scoring: {}, decision: { minSustainedSeconds: d.minSustainedSeconds } },
    { name: 'shipped less family agreement', scoring: {}, decision: { familyAgreement: d.familyAgreement } },
    { name: 'shipped with the water family stated', scoring: {}, decision: { unstatedFamilies: d.unstatedFamilies } },
    { name: 'shipped with parents competing', scoring: {}, decision: { parentCompetes: d.parentCompetes } },
  ];
}

/** Settings tried on the tune split: one stage vs shortlists and margins with the previous rule, then each new rule on its own and together. */
function tuneConfigs(): Config[] {
  const prev = PREVIOUS.decision;
  const out: Config[] = [
    { name: 'one stage, previous rule', scoring: { shortlist: 0 }, decision: prev },
    { name: SHIPPED, scoring: {}, decision: {}, detail: true },
    { name: `two stages, shortlist ${SOUND_SCORING_DEFAULTS.shortlist}, ${PREVIOUS.name}`, scoring: {}, decision: prev, detail: true },
  ];
  for (const k of [3, 4, 8, 12]) out.push({ name: `two stages, shortlist ${k}, previous rule`, scoring: { shortlist: k }, decision: prev });
  for (const m of [0.25, 0.75]) out.push({ name: `previous rule, class margin ${m}`, scoring: {}, decision: { ...prev, minClassMargin: m } });
  for (const m of [0.75, 1.25, 1.5]) out.push({ name: `previous rule, minScore = minFamilyScore ${m}`, scoring: {}, decision: { ...prev, minScore: m, minFamilyScore: m } });
  for (const x of [0.5, 0.75, 0.9]) out.push({ name: `previous rule, windows with speech share >= ${x} not scored`, scoring: { skipSpeechShare: x }, decision: prev });
  for (const x of [0.5, 1, 2]) out.push({ name: `previous rule + sustained classes not in windows under ${x} s`, scoring: {}, decision: { ...prev, minSustainedSeconds: x } });
  out.push({ name: 'previous rule + a family only when every slot agrees on it', scoring: {}, decision: { ...prev, familyAgreement: true } });
  out.push({ name: 'previous rule + the water family not stated', scoring: {}, decision: { ...prev, unstatedFamilies: ['human', 'water'] } });
  out.push({ name: 'previous rule + class margin over the best class not its parent or child', scoring: {}, decision: { ...prev, parentCompetes: false } });
  for (const m of [0.75, 1]) out.push({ name: `shipped rule (the four), class margin ${m}`, scoring: {}, decision: { minClassMargin: m } });
  for (const k of [4, 8]) out.push({ name: `shipped rule (the four), shortlist ${k}`, scoring: { shortlist: k }, decision: {} });
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'base' },
      cache: { type: 'string' },
      split: { type: 'string', default: 'all' },
      full: { type: 'boolean', default: false },
      prefetch: { type: 'string' },
      offline: { type: 'boolean', default: false },
      'write-priors': { type: 'boolean', default: false },
      timing: { type: 'string' },
      json: { type: 'string' },
      tile: { type: 'string' },
    },
  });
  const model = values.model as WhisperModelName;
  if (model !== 'base' && model !== 'tiny.en') throw new Error('--model is base or tiny.en');
  if (!['tune', 'report', 'all'].includes(values.split ?? '')) throw new Error('--split is tune, report or all');
  const fixture = JSON.parse(readFileSync(join(packageRoot(), 'test', 'fixtures', 'sound-events.json'), 'utf8')) as { clips: LabelledClip[] };
  const started = Date.now();
  const loadBefore = load();
  const tile = values.tile === undefined ? SOUND_TILE_SECONDS : Number(values.tile);
  if (!(tile >= 0 && tile <= SOUND_CONTEXT_SECONDS)) throw new Error(`--tile is 0..${SOUND_CONTEXT_SECONDS} seconds`);
  const worker = new WhisperWorker({ modelDir: defaultWhisperModelDir(model) });
  const store = new ScoreStore(worker, model, values.cache, values.offline === true, tile);
  const out: string[] = [];
  try {
    const load1 = async (c: LabelledClip): Promise<Scored> => {
      const entry = await store.clip(c);
      // the steady-noise measurement is made on the audio, not cached with the scores
      const windows = measureWindows((await decodeAudio(c.path)).samples, entry.windows.map(({ start, end }) => ({ start, end })));
      return { clip: c, windows, speech: entry.speech, full: rows(entry), entry };
    };
    const tuneClips = fixture.clips.filter((c) => c.split === 'tune');
    const shipped = PHRASINGS.map((p) => SOUND_PRIORS[model][p]);
    if (values.timing !== undefined) {
      // timing only: fresh scores, nothing from or to the cache
      out.push(`Timing (fresh, load average before: ${load()}):`, '', ...(await timing(worker, tuneClips.slice(0, Number(values.timing)), shipped, tile)));
    } else {
      const prefetch = values.prefetch === undefined ? undefined : Number(values.prefetch);
      if (prefetch !== undefined && values.offline !== true) {
        // what a two-stage scoring with shortlist `prefetch` needs (any shorter shortlist needs a subset of it), tune clips first
        if (shipped.some((v) => v === undefined)) throw new Error('--prefetch needs the shipped priors of every phrasing');
        for (const c of [...tuneClips, ...fixture.clips.filter((x) => x.split === 'report')]) {
          const s = await load1(c);
          await scoreSoundWindows(store.scorer(c, s.entry), s.windows, shipped, { shortlist: prefetch });
        }
      }
      const tune: Scored[] = [];
      const uncached: string[] = [];
      for (const c of tuneClips) {
        const s = await load1(c);
        if (values.full) await store.scorer(c, s.entry)(s.windows, PHRASINGS); // the prior and the one-stage rows need every phrasing
        try {
          if (values.offline) await scoreSoundWindows(store.scorer(c, s.entry), s.windows, shipped, {});
          tune.push({ ...s, full: rows(s.entry) });
        } catch (e) {
          if (!(e instanceof NotCached)) throw e;
          uncached.push(c.path); // --offline: a clip the cache cannot decide with the shipped settings is left out, and said so
        }
      }
      if (uncached.length > 0) out.push(`--offline: ${uncached.length} of ${tuneClips.length} tune clips left out (not scored yet): the tune rows below are partial.`);
      const complete = tune.every((s) => s.full.every((r) => r.every((v) => v !== null)));
      if (values['write-priors']) writePriors(model, meanPrior(tune));
      if (shipped.some((v) => v === undefined)) throw new Error('sound-priors.ts lacks phrasings of the vocabulary: run with --write-priors');
      // the shipped priors were measured with the shipped tiling; another --tile is calibrated with its own
      // tune-split mean when every tune phrasing is scored (--full), else (a probe) with the shipped priors
      const ownPrior = tile !== SOUND_TILE_SECONDS && complete;
      const prior = ownPrior ? meanPrior(tune) : shipped;
      if (tile !== SOUND_TILE_SECONDS && !complete) out.push(`--tile ${tile} differs from the shipped ${SOUND_TILE_SECONDS} and the tune split is not fully scored: the shipped priors (measured without this tiling) calibrate it, a probe only.`);
      const windowsTune = tune.reduce((a, s) => a + s.windows.length, 0);
      out.push(`Whisper ${model}, ${SOUND_CONTEXT_SECONDS} s context, windows under ${tile} s tiled, ${PHRASINGS.length} phrasings of ${SOUND_LABELS.length} classes; tune split ${tune.length} clips, ${windowsTune} windows.`);
      if (values.split !== 'report') {
        // with every phrasing scored, each tune clip is decided with the prior of the other tune clips; else with the shipped prior (the mean over all tune windows)
        out.push('', complete ? 'Tune split, each clip decided with the prior of the other tune clips (leave-one-out):' : 'Tune split (shipped prior, the mean over the tune windows themselves):', '', ...HEADER);
        const details: string[] = [];
        const maxShortlist = complete ? SOUND_LABELS.length : prefetch ?? SOUND_SCORING_DEFAULTS.shortlist;
        for (const cfg of tuneConfigs().filter((x) => (x.scoring.shortlist ?? SOUND_SCORING_DEFAULTS.shortlist) <= maxShortlist && (complete || x.scoring.shortlist !== 0))) {
          const res: ClipResult[] = [];
          for (const [i, s] of tune.entries()) res.push(await evaluate(store, s, complete ? meanPrior(tune.filter((_, k) => k !== i)) : prior, cfg));
          out.push(line(cfg.name, summary(res)));
          if (cfg.detail === true) details.push('', `Tune split, per class (${cfg.name}, ${complete ? 'leave-one-out' : 'shipped prior'}):`, '', ...PER_CLASS_HEADER, ...perClass(res));
        }
        out.push(...details);
        const speechy = tune.flatMap((s) => s.speech.map((x, w) => ({ x, w, s }))).filter((t) => t.x >= 0.5);
        out.push('', `Tune windows with a speech share >= 0.5: ${speechy.map((t) => `${t.s.clip.class ?? 'none'} ${t.x.toFixed(2)}`).join(', ') || 'none'}.`);
      }
      if (values.split !== 'tune') {
        const chosen: Config = { name: `shipped settings (shortlist ${SOUND_SCORING_DEFAULTS.shortlist})`, scoring: {}, decision: {} };
        const report: ClipResult[] = [];
        const reportFull: ClipResult[] = [];
        const others = reportConfigs().map((cfg) => ({ cfg, res: [] as ClipResult[] }));
        const before = store.sequences;
        for (const c of fixture.clips.filter((x) => x.split === 'report')) {
          const s = await load1(c);
          if (values.full) await store.scorer(c, s.entry)(s.windows, PHRASINGS);
          report.push(await evaluate(store, s, prior, chosen));
          for (const o of others) o.res.push(await evaluate(store, s, prior, o.cfg));
          if (values.full) reportFull.push(await evaluate(store, s, prior, { name: 'one stage', scoring: { shortlist: 0 }, decision: {} }));
        }
        out.push('', `Report split (${ownPrior ? 'tune-split prior of this tiling' : 'shipped priors'}; ${store.sequences - before} label sequences scored by this run):`, '', ...HEADER, line(`${chosen.name}, report`, summary(report)));
        for (const o of others) out.push(line(`${o.cfg.name}, report`, summary(o.res)));
        if (values.full) out.push(line('one stage, report', summary(reportFull)));
        out.push('', 'Report split, per class (shipped settings):', '', ...PER_CLASS_HEADER, ...perClass(report));
        out.push('', `Report split, per class (${PREVIOUS.name}):`, '', ...PER_CLASS_HEADER, ...perClass(others[0].res));
        if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ model, report }, null, 2));
      }
    }
  } finally {
    await worker.dispose();
    await store.dispose();
  }
  out.push('', `Whisper: ${store.whisperSeconds.toFixed(1)} s for ${store.sequences} label sequences not in the cache; ${((Date.now() - started) / 1000).toFixed(0)} s in all; load average ${loadBefore} before, ${load()} after.`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-sound: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
