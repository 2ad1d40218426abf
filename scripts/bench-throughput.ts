/**
 * Throughput benchmark of the offline Omni-Detective (a benchmark, not a timed test): the labelled
 * set of bench:detective (scripts/bench-set.ts) through `omnicap detect` as whole processes, this
 * checkout against a baseline checkout in the same run, interleaved (A B, then B A, ...), so a
 * machine whose speed drifts affects both alike. Per pass and program: wall time, clips per hour,
 * peak RSS (GNU time's maximum resident set of the largest process), and per clip LLM calls, prompt
 * / evaluated / completion tokens, the stage split, status and the quality bars (confident transcript
 * words and on-screen words carried, prompt echo, revisions, degraded). Then the quickstart job (the
 * 7 s LibriVox clip alone, model load included) for both, interleaved.
 *
 *   npm run bench:throughput -- --baseline /path/to/other/omnicap [--passes 2] [--workers 1]
 *                               [--clips id,id] [--json out.json] [--summarize DIR]
 *   npm run bench:throughput -- --quickstart N [--baseline DIR] [--json out.json]
 *
 * --quickstart N runs only the quickstart job, N times per variant, interleaved: this checkout with
 * the saved LLM state `omnicap prepare` made (what scripts/setup.sh leaves), this checkout cold (an
 * empty --llm-state directory each run), and the baseline when given; each run a fresh observation
 * cache. Per variant: wall seconds and peak RSS (median, min-max), the stage split and evaluated tokens.
 *
 * --summarize DIR reports what an earlier (possibly interrupted) run left in its temporary folder
 * DIR (the finished outputs and their GNU time figures) instead of running anything.
 *
 * The baseline is another built checkout of omnicap (node_modules, models/cache and dist present),
 * e.g. `git worktree add ../base eb363b5`, then link node_modules and models/cache into it and run
 * `npm run build:ts` there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { echoShare, factSheet, loadDetectivePrompts, wordRecall, words } from '../src/detective';
import type { DetectiveRound } from '../src/detective';
import { percentile } from '../src/util/percentile';
import { packageRoot } from '../src/util/paths';
import { assemble, type Clip } from './bench-set';

interface QuickRun {
  program: string;
  wallSeconds: number;
  peakRssMb: number;
  status: unknown;
}

interface Run {
  program: string;
  pass: number;
  wallSeconds: number;
  peakRssMb: number;
  lines: Array<Record<string, unknown>>;
}

/** One `omnicap detect` process under GNU time: wall seconds and peak RSS of its largest process. */
function detect(checkout: string, input: string, output: string, workers: number, extra: string[] = []): { wallSeconds: number; peakRssMb: number } {
  rmSync(output, { force: true });
  const timing = `${output}.time`;
  execFileSync('/usr/bin/time', ['-f', '%e %M', '-o', timing, process.execPath, join(checkout, 'dist', 'src', 'cli', 'main.js'), 'detect', '--input', input, '--output', output, '--workers', String(workers), ...extra], { stdio: ['ignore', 'ignore', 'inherit'] });
  return readTiming(output);
}

/** The quickstart job N times per variant, interleaved (see the header); prints a table, returns the runs. */
function quickstartBench(n: number, quickInput: string, dir: string, baseline: string | undefined): Record<string, unknown[]> {
  const prepared = join(dir, 'state-prepared');
  execFileSync(process.execPath, [join(packageRoot(), 'dist', 'src', 'cli', 'main.js'), 'prepare', '--llm-state', prepared], { stdio: ['ignore', 'inherit', 'inherit'] });
  const variants: Array<{ name: string; checkout: string; extra: (i: number) => string[] }> = [
    { name: 'this, saved state', checkout: packageRoot(), extra: () => ['--llm-state', prepared] },
    { name: 'this, cold', checkout: packageRoot(), extra: (i) => ['--llm-state', join(dir, `state-cold-${i}`)] },
    ...(baseline !== undefined ? [{ name: 'baseline', checkout: resolve(baseline), extra: () => [] }] : []),
  ];
  const out: Record<string, Array<Record<string, unknown>>> = {};
  for (let i = 0; i < n; i++) {
    const order = variants.map((_, k) => variants[(k + i) % variants.length]);
    for (const v of order) {
      const output = join(dir, `quick-${v.name.replace(/\W+/g, '-')}-${i}.jsonl`);
      const t = detect(v.checkout, quickInput, output, 1, v.extra(i));
      const line = readLines(output)[0];
      (out[v.name] ??= []).push({ ...t, status: line.status, stagesMs: line.stages_ms, tokens: line.tokens });
      console.error(`quickstart ${v.name} #${i + 1}: ${fmt(t.wallSeconds)} s (${String(line.status)})`);
    }
  }
  const range = (xs: number[], d = 1): string => `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}-${fmt(Math.max(...xs), d)})`;
  console.log('| variant | runs | wall s median (min-max) | peak RSS MB | fixed reports s | synthesis s | prompt / evaluated / completion tokens | status |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, rs] of Object.entries(out)) {
    const stage = (k: string): number[] => rs.map((r) => Number((r.stagesMs as Record<string, number> | undefined)?.[k] ?? NaN) / 1000).filter(Number.isFinite);
    const tok = (k: string): number[] => rs.map((r) => Number((r.tokens as Record<string, number> | undefined)?.[k] ?? NaN)).filter(Number.isFinite);
    const tokens = ['prompt', 'evaluated', 'completion'].map((k) => (tok(k).length > 0 ? fmt(median(tok(k)), 0) : '-')).join(' / ');
    console.log(`| ${name} | ${rs.length} | ${range(rs.map((r) => r.wallSeconds as number))} | ${fmt(Math.max(...rs.map((r) => r.peakRssMb as number)), 0)} | ${stage('fixed_reports').length > 0 ? range(stage('fixed_reports')) : '-'} | ${stage('synthesis').length > 0 ? range(stage('synthesis')) : '-'} | ${tokens} | ${[...new Set(rs.map((r) => String(r.status)))].join(', ')} |`);
  }
  return out;
}

/** GNU time's figures written next to an output: wall seconds and peak RSS. */
function readTiming(output: string): { wallSeconds: number; peakRssMb: number } {
  const [wall, rssKb] = readFileSync(`${output}.time`, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wallSeconds: wall, peakRssMb: rssKb / 1024 };
}

/** The runs an earlier, possibly interrupted, run left in `dir` (finished outputs with their timing). */
function finishedRuns(dir: string, programs: string[], passes: number): { runs: Run[]; quickRuns: QuickRun[] } {
  const runs: Run[] = [];
  const quickRuns: QuickRun[] = [];
  for (let pass = 0; pass < passes; pass++) {
    for (const program of programs) {
      const output = join(dir, `out-${program}-${pass}.jsonl`);
      if (existsSync(`${output}.time`)) runs.push({ program, pass, ...readTiming(output), lines: readLines(output) });
      const quick = join(dir, `quick-${program}-${pass}.jsonl`);
      if (existsSync(`${quick}.time`)) quickRuns.push({ program, ...readTiming(quick), status: readLines(quick)[0].status });
    }
  }
  return { runs, quickRuns };
}

const readLines = (file: string): Array<Record<string, unknown>> => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** Quality and cost of one output line against the clip's labels. */
function judgeLine(line: Record<string, unknown>, clip: Clip, promptText: string): Record<string, unknown> {
  const rounds = (line.omni_detective_trajectory ?? []) as DetectiveRound[];
  const caption = typeof line.caption === 'string' ? line.caption : '';
  const transcript = factSheet(rounds, { hasAudio: true, hasVideo: false }).transcript;
  const capWords = new Set(words(caption));
  const synthesis = (line.synthesis ?? {}) as { source?: string; first_attempt?: unknown; rejected_caption?: string };
  const tokens = (line.tokens ?? {}) as { prompt?: number; completion?: number; evaluated?: number };
  return {
    id: clip.id,
    status: line.status,
    source: synthesis.source,
    revised: synthesis.first_attempt !== undefined,
    llmCalls: line.llm_calls,
    promptTokens: tokens.prompt,
    evaluatedTokens: tokens.evaluated,
    completionTokens: tokens.completion,
    seconds: line.seconds,
    stagesMs: line.stages_ms,
    transcriptCarried: transcript === undefined ? null : wordRecall(transcript, caption),
    screenWordsCarried: clip.screenWords === undefined ? null : clip.screenWords.filter((w) => capWords.has(w)).length / clip.screenWords.length,
    echo: echoShare(synthesis.source === 'llm' ? caption : synthesis.rejected_caption ?? '', promptText) > 0.2,
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]): number => percentile(xs, 50);
const fmt = (x: number, d = 1): string => x.toFixed(d);

function summarize(runs: Run[], clips: Clip[], promptText: string): Record<string, unknown> {
  const judged = runs.flatMap((r) => r.lines.map((l) => judgeLine(l, clips.find((c) => c.id === l.id)!, promptText)));
  const per = (k: string): number[] => judged.map((j) => Number(j[k] ?? NaN)).filter((x) => Number.isFinite(x));
  return {
    passes: runs.length,
    wallSeconds: runs.map((r) => r.wallSeconds),
    clipsPerHour: runs.map((r) => (clips.length / r.wallSeconds) * 3600),
    peakRssMb: runs.map((r) => r.peakRssMb),
    llmCallsPerClip: sum(per('llmCalls')) / judged.length,
    promptTokensPerClip: sum(per('promptTokens')) / judged.length,
    evaluatedTokensPerClip: per('evaluatedTokens').length > 0 ? sum(per('evaluatedTokens')) / per('evaluatedTokens').length : null,
    completionTokensPerClip: sum(per('completionTokens')) / judged.length,
    degraded: judged.filter((j) => j.status === 'degraded').length / runs.length,
    revised: judged.filter((j) => j.revised === true).length / runs.length,
    okFirstTime: judged.filter((j) => j.status === 'ok' && j.source === 'llm' && j.revised !== true).length / runs.length,
    echo: judged.filter((j) => j.echo === true).length,
    transcriptCarriedMin: Math.min(...per('transcriptCarried')),
    screenWordsCarriedMin: per('screenWordsCarried').length > 0 ? Math.min(...per('screenWordsCarried')) : null,
    clips: judged,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { baseline: { type: 'string' }, passes: { type: 'string' }, workers: { type: 'string' }, clips: { type: 'string' }, json: { type: 'string' }, summarize: { type: 'string' }, quickstart: { type: 'string' } } });
  const passes = Number(values.passes ?? 1);
  const workers = Number(values.workers ?? 1);
  const dir = mkdtempSync(join(tmpdir(), 'bench-throughput-'));
  let clips = await assemble(dir);
  if (values.clips !== undefined) clips = clips.filter((c) => values.clips!.split(',').includes(c.id));
  const input = join(dir, 'clips.jsonl');
  writeFileSync(input, clips.map((c) => JSON.stringify({ id: c.id, path: c.path })).join('\n') + '\n');
  const quick = clips.find((c) => c.id === 'speech-1');
  const quickInput = join(dir, 'quickstart.jsonl');
  if (quick !== undefined) writeFileSync(quickInput, JSON.stringify({ id: 'librivox-0870', path: quick.path }) + '\n');
  if (values.quickstart !== undefined) {
    if (quick === undefined) throw new Error('the quickstart clip (speech-1) is not in the set');
    const q = quickstartBench(Number(values.quickstart), quickInput, dir, values.baseline);
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(q, null, 2));
    return;
  }

  const programs: Array<[string, string]> = [['this', packageRoot()]];
  if (values.baseline !== undefined) programs.push(['baseline', resolve(values.baseline)]);
  const reused = values.summarize === undefined ? undefined : finishedRuns(resolve(values.summarize), programs.map(([p]) => p), passes);
  const runs: Run[] = reused?.runs ?? [];
  const quickRuns: QuickRun[] = reused?.quickRuns ?? [];
  const passesRun = reused === undefined ? passes : Math.max(0, ...runs.map((r) => r.pass + 1));
  for (let pass = 0; reused === undefined && pass < passes; pass++) {
    const order = pass % 2 === 0 ? programs : [...programs].reverse();
    for (const [program, checkout] of order) {
      const output = join(dir, `out-${program}-${pass}.jsonl`);
      const t = detect(checkout, input, output, workers);
      runs.push({ program, pass, ...t, lines: readLines(output) });
      console.error(`pass ${pass + 1} ${program}: ${fmt(t.wallSeconds)} s, ${fmt((clips.length / t.wallSeconds) * 3600)} clips/h, peak RSS ${fmt(t.peakRssMb, 0)} MB`);
    }
    if (quick !== undefined) {
      for (const [program, checkout] of order) {
        const output = join(dir, `quick-${program}-${pass}.jsonl`);
        const t = detect(checkout, quickInput, output, 1);
        quickRuns.push({ program, ...t, status: readLines(output)[0].status });
        console.error(`quickstart ${program}: ${fmt(t.wallSeconds)} s`);
      }
    }
  }
  const prompts = loadDetectivePrompts();
  const promptText = [prompts.agent.text, prompts.round.text, prompts.reask.text, prompts.synthesis.text].join('\n');
  const result: Record<string, unknown> = {};
  for (const [program] of programs) {
    result[program] = { ...summarize(runs.filter((r) => r.program === program), clips, promptText), quickstartSeconds: quickRuns.filter((q) => q.program === program).map((q) => q.wallSeconds) };
  }
  if (values.baseline !== undefined) {
    // ratio per pass: clips per hour of this checkout over the baseline's in the same pass
    // (a pass an interrupted run left with one program only has no ratio)
    result.ratioClipsPerHour = Array.from({ length: passesRun }, (_, p) => {
      const a = runs.find((r) => r.program === 'this' && r.pass === p);
      const b = runs.find((r) => r.program === 'baseline' && r.pass === p);
      return a === undefined || b === undefined ? [] : [b.wallSeconds / a.wallSeconds];
    }).flat();
  }
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
  console.log('| program | clips/h (median) | wall s (median) | peak RSS MB | LLM calls/clip | prompt tokens/clip | evaluated tokens/clip | completion tokens/clip | ok first time | revised | degraded | echo | min transcript carried | min screen words carried | quickstart s (median) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [program] of programs) {
    const s = result[program] as Record<string, unknown> & { clipsPerHour: number[]; wallSeconds: number[]; peakRssMb: number[]; quickstartSeconds: number[] };
    const n = (k: string, d = 1): string => (typeof s[k] === 'number' ? fmt(s[k] as number, d) : '-');
    console.log(`| ${program} | ${fmt(median(s.clipsPerHour))} | ${fmt(median(s.wallSeconds))} | ${fmt(Math.max(...s.peakRssMb), 0)} | ${n('llmCallsPerClip', 2)} | ${n('promptTokensPerClip', 0)} | ${n('evaluatedTokensPerClip', 0)} | ${n('completionTokensPerClip', 0)} | ${n('okFirstTime', 0)}/${clips.length} | ${n('revised', 0)} | ${n('degraded', 0)} | ${s.echo} | ${n('transcriptCarriedMin', 2)} | ${n('screenWordsCarriedMin', 2)} | ${s.quickstartSeconds.length > 0 ? fmt(median(s.quickstartSeconds)) : '-'} |`);
  }
  if (result.ratioClipsPerHour !== undefined) console.log(`\nclips/h ratio this/baseline per pass: ${(result.ratioClipsPerHour as number[]).map((r) => fmt(r, 2)).join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
