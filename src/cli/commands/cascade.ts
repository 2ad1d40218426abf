import { writeFile } from 'node:fs/promises';
import { OmnicapError } from '../../errors';
import { createLlm, llmChoiceFromFlags, resolveApiKey, type ChatModel, type LlmChoice } from '../../llm';
import {
  captionerProducer,
  detectiveProducer,
  parseCascadeLine,
  renderCascadeHtml,
  runCascadeEval,
  scoreCascade,
  type CaptionProducer,
  type CascadeLine,
  type CascadeRejectedLine,
  type CascadeVariant,
  type QaLayout,
} from '../../cascade';
import { RunProgress } from '../../cloze';
import { parseJsonlLines, readInputText } from '../../util/jsonl';
import { LLM_LIMITS } from '../../schema/limits';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap cascade <eval|score> [options]

The paper's cascade protocol: a captioner describes each clip, then a text-only LLM (the answerer)
answers the benchmark's multiple-choice question from the caption alone. See docs/cascade.md.

  omnicap cascade eval --input QA_FILE --captions CAPTIONS --output OUT.jsonl
      [--answerer local [--answerer-gguf F] | --answerer-url URL --answerer-model M [--answerer-key K]]
      [--layout auto|mmau|mmar|omnicap] [--seed N] [--permute K] [--baseline] [--workers N]
      [--max-reasks 2] [--timeout-ms 120000] [--captioner DIR | --detective] [--no-progress]
    QA_FILE: MMAU test-mini JSON (id, audio_id, question, choices, answer, task, category,
    sub-category, ...), MMAR-meta JSONL (id, audio_path, question, choices, answer, modality,
    category, sub-category, ...) or this project's JSONL (id, path | audio_path, question, choices,
    answer as text or letter, modality?, category?, sub-category?); media paths relative to the file;
    the layout is detected unless --layout names it. A line that cannot be read is printed with its
    line number and skipped (never scored).
    CAPTIONS (repeatable): an 'omnicap detect' output as is, or any JSONL with a caption and the
    clip's path / audio_path / file (relative to that file) or id. Questions whose clip has no caption
    are listed and excluded. --captioner DIR (the captioner engine) or --detective (the Omni-Detective
    with its default observers and the answerer LLM as detective) caption those clips on the fly,
    once per clip, cached in OUT.jsonl.captions.jsonl for later runs.
    One answerer call per question: the caption, the question and its lettered choices; the reply is
    grammar-constrained (local) or json_schema-constrained (endpoints) to one letter. Each line keeps
    the question's fields, the layout's prediction field (answer_prediction for MMAR,
    model_prediction for MMAU) and under "cascade" the prompt, model, seed, raw reply and outcome.
    --permute K asks K more times with seeded shuffles of the choices (agreement in the score).
    --baseline asks without any caption (what the answerer knows without listening); write it to
    the same OUT.jsonl to see it beside the captioned run in the score.
    An invalid reply is re-asked (--max-reasks); a call that still fails (after the transport's bounded
    retries for endpoints) is an error line, never an answer, and is asked again by the next run.
    The endpoint key: --answerer-key, else $OMNICAP_ANSWERER_KEY; the local model takes none.
    Resumable: questions already answered in OUT.jsonl are skipped; each line is one write + fsync.
    --workers N questions at once (for endpoints; the local model answers one at a time).
    Progress on stderr (questions, s per call, ETA), then an accuracy line; stdout: a JSON summary.
    Exit code 1 when QA lines were rejected or calls failed.

  omnicap cascade score --input OUT.jsonl [--json S.json] [--html R.html] [--bootstrap 1000] [--seed S]
    Accuracy overall and per modality, category and sub-category, each with a 95% bootstrap CI
    over questions and the chance level, under two named rules: plain choice match and MMAR's rule
    (every token of the answer in the prediction, no token unique to a wrong choice). The baseline
    (if OUT.jsonl holds one) is scored on the same questions and shown beside; with --permute runs,
    answer agreement across choice orders. --html writes a self-contained report (inline SVG).
    Error lines are counted and listed, never scored; unreadable lines are listed and make exit code 1.
`;

const evalOptions = {
  input: { type: 'string' }, captions: { type: 'string', multiple: true }, output: { type: 'string' },
  answerer: { type: 'string' }, 'answerer-gguf': { type: 'string' }, 'answerer-url': { type: 'string' }, 'answerer-model': { type: 'string' }, 'answerer-key': { type: 'string' },
  layout: { type: 'string' }, seed: { type: 'string' }, permute: { type: 'string' }, baseline: { type: 'boolean' }, workers: { type: 'string' },
  'max-reasks': { type: 'string' }, 'timeout-ms': { type: 'string' },
  captioner: { type: 'string' }, detective: { type: 'boolean' }, 'no-progress': { type: 'boolean' },
} as const;
const scoreOptions = { input: { type: 'string' }, json: { type: 'string' }, html: { type: 'string' }, bootstrap: { type: 'string' }, seed: { type: 'string' } } as const;

type EvalFlags = ReturnType<typeof parseCommandArgs<typeof evalOptions>>['values'];

const need = (v: string | undefined, name: string): string => {
  if (v === undefined || v === '') throw new OmnicapError('INVALID_ARGUMENT', `--${name} is required; see omnicap cascade --help`);
  return v;
};

const ANSWERER_NAMES = { llm: '--answerer', url: '--answerer-url', model: '--answerer-model', apiKey: '--answerer-key' };

/** The answerer, through the project's LLM factory: the embedded local GGUF (default) or an OpenAI-compatible endpoint. */
function makeAnswerer(v: EvalFlags): Promise<ChatModel> {
  const gguf = v['answerer-gguf'];
  if (gguf !== undefined && v.answerer !== 'local') throw new OmnicapError('INVALID_ARGUMENT', '--answerer-gguf needs --answerer local');
  const choice = llmChoiceFromFlags(
    { llm: gguf ?? v.answerer, url: v['answerer-url'], model: v['answerer-model'], apiKey: v['answerer-key'] },
    { names: gguf !== undefined ? { ...ANSWERER_NAMES, llm: '--answerer-gguf' } : ANSWERER_NAMES, ggufFiles: gguf !== undefined },
  ) as LlmChoice;
  return createLlm(choice, { apiKey: resolveApiKey(v['answerer-key'], 'answerer'), timeoutMs: numberFlag('timeout-ms', v['timeout-ms'], 120_000, LLM_LIMITS.timeoutMs) });
}

async function makeProducer(v: EvalFlags, answerer: ChatModel, output: string, seed: number, io: CliIo): Promise<CaptionProducer | undefined> {
  if (v.captioner !== undefined && v.detective === true) throw new OmnicapError('INVALID_ARGUMENT', '--captioner and --detective are exclusive (the Detective can use a captioner observer: see omnicap detect)');
  if (v.captioner !== undefined) return captionerProducer(v.captioner, { seed, signal: io.signal });
  if (v.detective === true) return detectiveProducer(answerer, { cacheDir: `${output}.detective-cache`, seed });
  return undefined;
}

const LAYOUTS = ['auto', 'mmau', 'mmar', 'omnicap'];

async function runEval(argv: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(argv, evalOptions);
  if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(positionals[0])}`);
  const input = need(v.input, 'input');
  const output = need(v.output, 'output');
  const layout = (v.layout ?? 'auto') as QaLayout | 'auto';
  if (!LAYOUTS.includes(layout)) throw new OmnicapError('INVALID_ARGUMENT', `--layout expects ${LAYOUTS.join(', ')} but received ${JSON.stringify(v.layout)}`);
  const variant: CascadeVariant = v.baseline === true ? 'baseline' : 'caption';
  const captions = v.captions ?? [];
  if (variant === 'baseline' && (captions.length > 0 || v.captioner !== undefined || v.detective === true)) throw new OmnicapError('INVALID_ARGUMENT', '--baseline asks without captions: drop --captions / --captioner / --detective');
  if (variant === 'caption' && captions.length === 0 && v.captioner === undefined && v.detective !== true) throw new OmnicapError('INVALID_ARGUMENT', '--captions is required (or --captioner / --detective to caption clips on the fly, or --baseline)');
  const seed = numberFlag('seed', v.seed, 0, LLM_LIMITS.seed);
  const permute = numberFlag('permute', v.permute, 0, { integer: true, min: 0, max: 20 });
  const workers = numberFlag('workers', v.workers, 1, { integer: true, min: 1, max: 64 });
  const maxReasks = numberFlag('max-reasks', v['max-reasks'], 2, { integer: true, min: 0, max: 10 });
  const answerer = await makeAnswerer(v);
  let producer: CaptionProducer | undefined;
  let progress: RunProgress | undefined;
  try {
    producer = await makeProducer(v, answerer, output, seed, io);
    const s = await runCascadeEval({
      input, output, answerer, captions, layout, variant, permute, seed, workers, maxReasks, producer, signal: io.signal,
      onStart: (t) => {
        if (t.skipped > 0) io.stderr.write(`cascade eval: ${t.skipped} answers already in ${output} (skipped)\n`);
        if (v['no-progress'] !== true) progress = new RunProgress(io.stderr, { label: 'cascade eval', items: 'calls', units: 'calls', totalItems: t.calls, totalUnits: t.calls, intervalMs: 5000 });
      },
      onRecord: (r) => progress?.unit(`${r.cascade.id}${r.cascade.perm > 0 ? ` order ${r.cascade.perm}` : ''} ${r.cascade.status}`, r.cascade.status === 'error'),
      onCaption: (c) => io.stderr.write(`cascade eval: ${c.ok ? 'captioned' : 'no caption for'} ${c.media}${c.message !== undefined ? `: ${c.message}` : ''}\n`),
    });
    progress?.end();
    for (const e of s.inputErrors) io.stderr.write(`${input}: ${e.code}: ${e.message}\n`);
    for (const n of s.captionNotes) io.stderr.write(`${n.file}:${n.line}: ignored: ${n.message}\n`);
    for (const m of s.missingCaptions) io.stderr.write(`cascade eval: excluded ${m.id} (${m.media}): ${m.reason}\n`);
    const line = await accuracyLine(output, variant);
    io.stderr.write(`cascade eval: ${s.layout} layout, ${s.questions} questions, ${s.answered} answered, ${s.errors} failed calls, ${s.skipped} skipped, ${s.missingCaptions.length} without a caption, ${s.inputErrors.length} lines rejected; ${line}\n`);
    io.stdout.write(`${JSON.stringify({ layout: s.layout, questions: s.questions, answered: s.answered, errors: s.errors, skipped: s.skipped, missingCaptions: s.missingCaptions.length, inputErrors: s.inputErrors.length, producedCaptions: s.producedCaptions, droppedPartialLine: s.droppedPartialLine })}\n`);
    return s.inputErrors.length > 0 || s.errors > 0 ? 1 : 0;
  } finally {
    progress?.end();
    await producer?.dispose();
    await answerer.dispose();
  }
}

/** Accuracy of the variant just run, as in `cascade score` (plain choice match, no bootstrap). */
async function accuracyLine(output: string, variant: CascadeVariant): Promise<string> {
  const { lines } = await readCascadeLines(output);
  const r = scoreCascade(lines.filter((l) => l.variant === variant), { bootstrap: 0 })[variant];
  if (r === undefined) return 'nothing answered';
  const o = r.rules.choice.overall;
  return `${variant === 'baseline' ? 'no-caption baseline' : 'with captions'}: accuracy ${(o.accuracy * 100).toFixed(2)}% (${o.correct}/${o.questions}, chance ${(o.chance * 100).toFixed(1)}%, plain choice match; MMAR rule ${(r.rules.mmar.overall.accuracy * 100).toFixed(2)}%)`;
}

async function readCascadeLines(file: string): Promise<{ lines: CascadeLine[]; rejected: CascadeRejectedLine[] }> {
  const text = await readInputText(file, 'cascade output');
  const lines: CascadeLine[] = [];
  const rejected: CascadeRejectedLine[] = [];
  for (const r of parseJsonlLines(text, parseCascadeLine)) {
    if (r.ok) lines.push(r.value);
    else rejected.push({ line: r.line, code: r.error.code, message: r.error.message });
  }
  return { lines, rejected };
}

async function runScore(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs(argv, scoreOptions);
  const input = need(v.input, 'input');
  const { lines, rejected } = await readCascadeLines(input);
  for (const r of rejected) io.stderr.write(`${input}: ${r.code}: ${r.message}\n`);
  const report = scoreCascade(lines, { bootstrap: numberFlag('bootstrap', v.bootstrap, 1000, { integer: true, min: 0, max: 1_000_000 }), seed: numberFlag('seed', v.seed, 0, { integer: true }) });
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify({ input, ...report, rejectedLines: { count: rejected.length, lines: rejected } }, null, 2));
  if (v.html !== undefined) await writeFile(v.html, renderCascadeHtml(report, { input }, rejected));
  const fmt = (name: string, r: typeof report.caption): string => {
    if (r === undefined) return `${name}: none`;
    const c = r.rules.choice.overall;
    const m = r.rules.mmar.overall;
    const ci = c.ci !== undefined ? ` [${(c.ci.low * 100).toFixed(1)}, ${(c.ci.high * 100).toFixed(1)}]` : '';
    return `${name}: ${c.questions} questions (${r.errors} failed calls excluded), choice match ${(c.accuracy * 100).toFixed(2)}%${ci}, MMAR rule ${(m.accuracy * 100).toFixed(2)}%, chance ${(c.chance * 100).toFixed(1)}%`;
  };
  const perm = Object.entries(report.permutation).map(([k, p]) => `; ${k} agreement over ${p.permutations + 1} orders ${(p.agreement * 100).toFixed(1)}% (${p.questions} questions)`).join('');
  io.stdout.write(`${fmt('with captions', report.caption)}; ${fmt('no caption', report.baseline)}${perm}; rejected lines ${rejected.length}\n`);
  return rejected.length > 0 ? 1 : 0;
}

export const command: CliCommand = {
  name: 'cascade',
  summary: 'cascade QA (MMAU/MMAR): captions answer multiple-choice questions through a text-only LLM (eval), scored with CIs (score)',
  usage,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'eval') return runEval(rest, io);
    if (sub === 'score') return runScore(rest, io);
    throw new OmnicapError('INVALID_ARGUMENT', `cascade expects a sub-command eval or score but received ${JSON.stringify(sub ?? '')}; see omnicap cascade --help`);
  },
};
