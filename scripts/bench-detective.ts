/**
 * Quality benchmark of the offline Omni-Detective and the local Cloze judge (a benchmark, not a
 * timed test) on a small labelled set assembled from registry packages:
 *   - read speech with reference transcripts (Debian pocketsphinx-testdata, LibriVox)
 *   - the same speech band-limited to 8 kHz telephone quality (ffmpeg)
 *   - music (npm audio-lena), sound effects (Debian sound-theme-freedesktop, alsa-utils)
 *   - a 36 s screencast with known on-screen text that changes over time (rendered with sharp, the
 *     LibriVox speech as its audio)
 *   - music loops and sound effects of Scratch's library, a silent video rendered with ffmpeg
 * Per clip: status, ASR word error rate, share of the spoken words in the final caption, share of
 * the distinct on-screen words (>= 4 letters) in the caption, prompt echo, rounds per observer,
 * seconds and LLM tokens, the share of caption sentences with provenance; and per kind what the
 * caption states, right and wrong: the sound named (right / wrong / abstained, and what the
 * sound-event observer stated), speech stated where none was heard, the silent video's cuts,
 * colours and movement against the render. Then the judge on the hand-written 5-option cloze set
 * (test/fixtures/cloze/truth.jsonl): truth captions under the current rule (evidence grounding with
 * its re-ask) and empty captions (the baseline: no grounding, the judge's prior).
 *
 *   bash scripts/setup.sh && npm run bench:detective -- [--json out.json] [--skip-judge] [--clips id,id]
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runClozeEval } from '../src/cloze/eval';
import { createToolbox, defaultObservers, detectClip, echoShare, factSheet, loadDetectivePrompts, wordErrorRate, wordRecall, words } from '../src/detective';
import { assemble } from './bench-set';
import { assessCaption, type Assessment } from './bench-assess';
import type { DetectiveRound } from '../src/detective';
import { createLlm, DEFAULT_LOCAL_MODEL_ID } from '../src/llm';
import { packageRoot } from '../src/util/paths';

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(0)} %`);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'string' }, 'skip-judge': { type: 'boolean' }, clips: { type: 'string' } } });
  const dir = mkdtempSync(join(tmpdir(), 'bench-detective-'));
  mkdirSync(dir, { recursive: true });
  let clips = await assemble(dir);
  if (values.clips !== undefined) {
    const ids = values.clips.split(',');
    clips = clips.filter((c) => ids.includes(c.id)).sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id)); // in the order asked
  }
  const llm = await createLlm({ kind: 'local', model: DEFAULT_LOCAL_MODEL_ID });
  const toolbox = createToolbox({ observers: defaultObservers() });
  const prompts = loadDetectivePrompts();
  const promptText = [prompts.agent.text, prompts.round.text, prompts.reask.text, prompts.synthesis.text].join('\n');
  const rows: Array<Record<string, unknown>> = [];
  for (const c of clips) {
    const line = (await detectClip({ id: c.id, path: c.path }, llm, toolbox, { rounds: 10, seed: 0 })).record;
    const rounds = (line.omni_detective_trajectory ?? []) as DetectiveRound[];
    const caption = typeof line.caption === 'string' ? line.caption : '';
    const asrText = factSheet(rounds, { hasAudio: true, hasVideo: false }).transcript; // the confident transcript the caption must quote
    const perObserver: Record<string, number> = {};
    for (const r of rounds) if (r.status === 'ok' || r.status === 'observer_error') perObserver[r.tool] = (perObserver[r.tool] ?? 0) + 1;
    const capWords = new Set(words(caption));
    const synthesis = line.synthesis as { source?: string; rejected_caption?: string; first_attempt?: { caption: string; reasons: string[] } } | undefined;
    const llmCaption = synthesis?.source === 'llm' ? caption : synthesis?.rejected_caption ?? '';
    const row = {
      id: c.id,
      kind: c.kind,
      status: line.status,
      degraded: line.degraded_reasons,
      source: synthesis?.source,
      firstAttempt: synthesis?.first_attempt,
      rejectedCaption: synthesis?.rejected_caption,
      asrWer: c.transcript !== undefined ? (asrText === undefined ? 1 : wordErrorRate(c.transcript, asrText).wer) : null,
      captionSpokenRecall: c.transcript !== undefined ? wordRecall(c.transcript, caption) : null,
      screenWordsInCaption: c.screenWords !== undefined ? c.screenWords.filter((w) => capWords.has(w)).length / c.screenWords.length : null,
      echo: echoShare(llmCaption, promptText) > 0.2,
      rounds: perObserver,
      assessment: assessCaption(c, caption, rounds),
      provenance: supportedShare(line.provenance),
      seconds: line.seconds,
      tokens: line.tokens,
      caption,
    };
    rows.push(row);
    console.error(`${c.id}: ${JSON.stringify({ caption, assessment: row.assessment.notes, degraded: row.degraded, firstAttempt: row.firstAttempt?.reasons })}`);
    console.error(`${c.id}: ${row.status} (${row.source}) asr WER ${pct(row.asrWer as number | null)}, spoken words in caption ${pct(row.captionSpokenRecall)}, screen words ${pct(row.screenWordsInCaption)}, ${Number(line.seconds).toFixed(1)} s`);
  }
  await toolbox.dispose();

  let judge: Record<string, unknown> | undefined;
  if (values['skip-judge'] !== true) {
    const truth = join(packageRoot(), 'test', 'fixtures', 'cloze', 'truth.jsonl');
    const tally = async (variant: 'caption' | 'baseline'): Promise<Record<string, number>> => {
      const out = join(dir, `judged-${variant}.jsonl`);
      const t0 = Date.now();
      await runClozeEval({ input: truth, output: out, judge: llm, captionField: 'truth_caption', variant, concurrency: 1 });
        let n = 0, right = 0, e = 0, refused = 0, reasked = 0;
      for (const l of readFileSync(out, 'utf8').trim().split('\n')) {
        for (const b of (JSON.parse(l) as { blanks: Array<{ answer: string; predicted: string; ungroundedChoice?: string; firstReply?: unknown }> }).blanks) {
          n++;
          if (b.predicted === b.answer) right++;
          if (b.predicted === 'E') e++;
          if (b.ungroundedChoice !== undefined) refused++;
          if (b.firstReply !== undefined) reasked++;
        }
      }
      return { blanks: n, accuracy: right / n, notGiven: e / n, refused: refused / n, reasked: reasked / n, secondsPerBlank: (Date.now() - t0) / 1000 / n };
    };
    judge = { truth: await tally('caption'), empty: await tally('baseline') };
  }
  await llm.dispose?.();

  const result = { model: llm.id, prompts: prompts.agent.version, clips: rows, judge };
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(result, null, 2));
  console.log('| clip | kind | status (caption from) | ASR WER | spoken words in caption | on-screen words in caption | echo | sentences with provenance | rounds per observer | s | LLM tokens (prompt/completion) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const tokens = r.tokens as { prompt: number; completion: number } | undefined;
    console.log(`| ${r.id} | ${r.kind} | ${r.status} (${r.source ?? '-'}) | ${pct(r.asrWer as number | null)} | ${pct(r.captionSpokenRecall as number | null)} | ${pct(r.screenWordsInCaption as number | null)} | ${r.echo ? 'yes' : 'no'} | ${pct(r.provenance as number | null)} | ${Object.entries(r.rounds as Record<string, number>).map(([k, v]) => `${k} ${v}`).join(', ')} | ${Number(r.seconds).toFixed(1)} | ${tokens ? `${tokens.prompt}/${tokens.completion}` : '-'} |`);
  }
  console.log('\n| clip | kind | what the caption states, right and wrong |');
  console.log('|---|---|---|');
  for (const r of rows) console.log(`| ${r.id} | ${r.kind} | ${(r.assessment as Assessment).notes.join('; ')} |`);
  if (judge !== undefined) {
    const t = judge.truth as Record<string, number>;
    const e = judge.empty as Record<string, number>;
    console.log(`\njudge (${t.blanks} blanks): truth captions (grounded, re-ask on) accuracy ${pct(t.accuracy)}, E ${pct(t.notGiven)}, refused by grounding ${pct(t.refused)}, re-asked ${pct(t.reasked)}; empty caption (baseline, no grounding: the prior) accuracy ${pct(e.accuracy)}, E ${pct(e.notGiven)}; ${t.secondsPerBlank.toFixed(1)} / ${e.secondsPerBlank.toFixed(1)} s per blank`);
  }
}

/** Share of a record's caption sentences with at least one supporting observation. */
function supportedShare(p: unknown): number | null {
  if (!Array.isArray(p) || p.length === 0) return null;
  return p.filter((x) => (x as { supported?: unknown }).supported === true).length / p.length;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
