import { writeFile } from 'node:fs/promises';
import { OmnicapError } from '../../errors';
import { createLlm, llmChoiceFromFlags, resolveApiKey, type ChatModel, type LlmChoice } from '../../llm';
import {
  baselineCheck,
  judgeAgreement,
  latestRecords,
  parseJsonlLines,
  parseJudgedLine,
  permutationCheck,
  renderHtmlReport,
  runClozeBuild,
  runClozeEval,
  scoreEvalOutput,
  scoreJudged,
  formatScoreLine,
  RunProgress,
  type OkClip,
  type ParsedJudged,
  type RejectedLine,
  type RobustnessSection,
} from '../../cloze';
import { LLM_LIMITS, describeRange } from '../../schema/limits';
import { readInputText } from '../../util/jsonl';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap cloze <eval|score|build> [options]

  omnicap cloze eval --input preds.jsonl --output judged.jsonl (--judge-url URL --judge-model M [--judge-key K] | --judge local [--judge-gguf F])
      [--caption-field predicted_caption] [--concurrency N] [--cache-dir DIR]
      [--baseline] [--permute-seed S] [--retry-failed] [--prompt-version v2] [--max-reasks 2] [--seed S] [--temperature T]
      [--no-grounding] [--no-grounding-reask] [--invalid-as-e] [--timeout-ms 120000] [--no-progress]
    Reads this project's layout or the released Omni-Cloze layout (uuid, cloze: {passage, blanks:
    [{answer, answer_key, distractors, answer_index, required_modality}]}, metadata.subcategory).
    Judges each clip's caption with one judge call per blank (the caption in the system message, the
    same for every blank of a clip; then the blank's sentence and options A-E; the reply is
    {"evidence": caption words, "answer": letter}), through an OpenAI-compatible endpoint, or with
    --judge local in-process with the embedded instruct model (Qwen2.5-Coder-1.5B-Instruct GGUF,
    node-llama-cpp, grammar-constrained; --judge-gguf picks another GGUF file).
    Evidence grounding: a letter A-D counts only when its quote is a contiguous span of the caption
    (normalised) that supports that option over the others (its distinctive words, numbers with their
    unit, or a stated synonym). A refused blank is asked once more, afresh, for the letter first and
    then the caption's words (--no-grounding-reask: not); still refused, it counts as E (not given)
    and the record keeps the judge's letter (ungroundedChoice) and the reason (groundingReason).
    --no-grounding scores raw letters.
    --baseline judges an empty caption without grounding: the judge's prior, i.e. what the passage and
    options alone let it guess (with grounding every answer would be E by construction).
    --permute-seed shuffles options A-D per blank. Resumable: clip ids already in --output are skipped
    (--retry-failed re-judges failed ones). --invalid-as-e follows the VLMEvalKit port: a judge reply
    still invalid after the re-asks counts as "E" for every blank instead of a failed clip.
    Progress on stderr (clips and blanks done, s per blank, ETA; --no-progress: none), then a score
    line; stdout: a JSON summary with the score. Exit code 1 when input lines had errors (each is printed).

  omnicap cloze score --input judged.jsonl [--json out.json] [--html report.html]
      [--bootstrap 1000] [--seed S] [--baseline-input F] [--permuted-input F] [--second-judge F]
    Reads cloze eval output or the VLMEvalKit port's judged rows (cloze + cloze_prediction "A: text").
    Accuracy, not-given (omission) and wrong-option (hallucination) rates and (correct-wrong)/total,
    overall and per modality, domain and sub-category with per-clip bootstrap 95% CIs; the precision
    of A-D answers, and where blanks have the answer E (details the caption lacks), E on those.
    --baseline-input (no-caption run), --permuted-input (option-permuted run) and --second-judge
    (another judge's run) add robustness checks to the JSON and HTML reports. Unreadable lines are
    counted and listed in both reports (rejectedLines); the exit code is then 1.

  omnicap cloze build --input refs.jsonl --output bench.jsonl (--llm-url URL --llm-model M [--llm-api-key K] | --llm local)
      [--judge-url URL --judge-model M [--judge-key K] | --judge local] [--max-blanks 8] [--seed S]
    Make a benchmark from reference captions ({id, caption, domain?, category?} per line): the LLM
    proposes blanks and distractors; code gates drop bad blanks; prints per-gate drop counts.

  API keys: --llm-api-key, else $OMNICAP_LLM_API_KEY (the builder LLM); --judge-key, else
  $OMNICAP_JUDGE_KEY (the judge). A local model (--llm local, --judge local) takes no key.
  LLM options take the server's ranges: --seed ${describeRange(LLM_LIMITS.seed)}, --temperature
  ${describeRange(LLM_LIMITS.temperature)} (default 0), --timeout-ms (per request to an endpoint)
  ${describeRange(LLM_LIMITS.timeoutMs)}.
  A --judge-gguf model is recorded under its file name without .gguf.
`;

const evalOptions = {
  input: { type: 'string' }, output: { type: 'string' }, judge: { type: 'string' }, 'judge-gguf': { type: 'string' }, 'judge-url': { type: 'string' }, 'judge-model': { type: 'string' },
  'judge-key': { type: 'string' }, 'caption-field': { type: 'string' }, 'retry-failed': { type: 'boolean' }, concurrency: { type: 'string' }, 'cache-dir': { type: 'string' },
  baseline: { type: 'boolean' }, 'permute-seed': { type: 'string' }, 'prompt-version': { type: 'string' }, 'max-reasks': { type: 'string' }, 'no-grounding': { type: 'boolean' },
  seed: { type: 'string' }, temperature: { type: 'string' }, 'timeout-ms': { type: 'string' }, 'invalid-as-e': { type: 'boolean' }, 'no-progress': { type: 'boolean' },
  'no-grounding-reask': { type: 'boolean' },
} as const;
const scoreOptions = {
  input: { type: 'string' }, json: { type: 'string' }, html: { type: 'string' }, bootstrap: { type: 'string' }, seed: { type: 'string' },
  'baseline-input': { type: 'string' }, 'permuted-input': { type: 'string' }, 'second-judge': { type: 'string' },
} as const;

const need = (v: string | undefined, name: string): string => {
  if (v === undefined || v === '') throw new OmnicapError('INVALID_ARGUMENT', `--${name} is required; see omnicap cloze --help`);
  return v;
};

interface JudgeFlags {
  judge?: string;
  'judge-gguf'?: string;
  'judge-url'?: string;
  'judge-model'?: string;
  'judge-key'?: string;
  'timeout-ms'?: string;
}

const JUDGE_NAMES = { llm: '--judge', url: '--judge-url', model: '--judge-model', apiKey: '--judge-key' };

/** --judge local [--judge-gguf F] (in-process GGUF) or --judge-url/--judge-model (OpenAI-compatible); undefined when none is given. */
function judgeChoice(v: JudgeFlags): LlmChoice | undefined {
  const gguf = v['judge-gguf'];
  if (gguf !== undefined && v.judge !== 'local') throw new OmnicapError('INVALID_ARGUMENT', '--judge-gguf needs --judge local');
  return llmChoiceFromFlags(
    { llm: gguf ?? v.judge, url: v['judge-url'], model: v['judge-model'], apiKey: v['judge-key'] },
    { names: gguf !== undefined ? { ...JUDGE_NAMES, llm: '--judge-gguf' } : JUDGE_NAMES, ggufFiles: gguf !== undefined, defaultLocal: false },
  );
}

function makeJudge(choice: LlmChoice, v: JudgeFlags): Promise<ChatModel> {
  return createLlm(choice, { apiKey: resolveApiKey(v['judge-key'], 'judge'), timeoutMs: numberFlag('timeout-ms', v['timeout-ms'], 120000, LLM_LIMITS.timeoutMs) });
}

async function runEval(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs(argv, evalOptions);
  if (v.baseline === true && v['permute-seed'] !== undefined) throw new OmnicapError('INVALID_ARGUMENT', '--baseline and --permute-seed are exclusive');
  if (v.baseline === true && v['no-grounding'] === true) throw new OmnicapError('INVALID_ARGUMENT', '--baseline is always ungrounded; drop --no-grounding');
  const choice = judgeChoice(v);
  if (choice === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--judge-url and --judge-model (or --judge local) are required; see omnicap cloze --help');
  const input = need(v.input, 'input');
  const output = need(v.output, 'output');
  const variant = v.baseline === true ? 'baseline' : v['permute-seed'] !== undefined ? 'permuted' : 'caption';
  await using judge = await makeJudge(choice, v);
  let progress: RunProgress | undefined;
  const blanksSeen = new Map<string, number>();
  try {
    const s = await runClozeEval({
      input, output, judge,
      captionField: v['caption-field'], concurrency: numberFlag('concurrency', v.concurrency, 4, { integer: true, min: 1, max: 256 }),
      cacheDir: v['cache-dir'], promptVersion: v['prompt-version'], retryFailed: v['retry-failed'] === true, invalidAsE: v['invalid-as-e'] === true,
      variant,
      permuteSeed: v['permute-seed'] !== undefined ? numberFlag('permute-seed', v['permute-seed'], 0, { integer: true }) : undefined,
      maxReasks: numberFlag('max-reasks', v['max-reasks'], 2, { integer: true, min: 0, max: 10 }),
      seed: v.seed !== undefined ? numberFlag('seed', v.seed, 0, LLM_LIMITS.seed) : undefined,
      temperature: numberFlag('temperature', v.temperature, 0, LLM_LIMITS.temperature),
      grounding: v['no-grounding'] !== true,
      groundingReask: v['no-grounding-reask'] !== true,
      signal: io.signal,
      onStart: (t) => {
        if (v['no-progress'] !== true) progress = new RunProgress(io.stderr, { label: 'cloze eval', items: 'clips', units: 'blanks', totalItems: t.clips, totalUnits: t.blanks });
        if (t.skipped > 0) io.stderr.write(`cloze eval: ${t.skipped} clips already in ${output} (skipped)\n`);
      },
      onBlank: (b) => {
        blanksSeen.set(b.clipId, (blanksSeen.get(b.clipId) ?? 0) + 1);
        progress?.unit(`clip ${b.clipId}, blank ${b.index + 1}/${b.count}`);
      },
      onClip: (r) => {
        const count = r.status === 'ok' ? r.blanks.length : r.blankCount;
        progress?.item(`clip ${r.id} ${r.status}`, r.status === 'failed', Math.max(0, count - (blanksSeen.get(r.id) ?? 0)));
      },
    });
    progress?.end();
    for (const e of s.inputErrors) io.stderr.write(`${e.code}: ${e.message}\n`);
    const score = await scoreEvalOutput(output, variant);
    const what = variant === 'baseline' ? "the judge's prior with an empty caption (ungrounded)" : variant;
    io.stderr.write(`cloze eval: score of ${what}: clips ${score.clips} (failed ${score.failedClips}), ${formatScoreLine(score.overall)}\n`);
    const o = score.overall;
    io.stdout.write(`${JSON.stringify({ total: s.total, judged: s.judged, skipped: s.skipped, failed: s.failed, inputErrors: s.inputErrors.length, droppedPartialLine: s.droppedPartialLine, score: { variant, clips: score.clips, blanks: o.blanks, accuracy: o.accuracy, notGivenRate: o.notGivenRate, wrongRate: o.wrongRate, precision: o.precision, absentERate: o.absentERate } })}\n`);
    return s.inputErrors.length > 0 ? 1 : 0;
  } finally {
    progress?.end();
  }
}

async function loadJudged(file: string, io: CliIo, rejected: RejectedLine[]): Promise<ParsedJudged[]> {
  const text = await readInputText(file, 'judged file');
  const recs: ParsedJudged[] = [];
  for (const r of parseJsonlLines(text, parseJudgedLine)) {
    if (r.ok) recs.push(r.value);
    else {
      rejected.push({ file, line: r.line, code: r.error.code, message: r.error.message });
      io.stderr.write(`${file}: ${r.error.code}: ${r.error.message}\n`);
    }
  }
  return recs;
}
const okClips = (rs: ParsedJudged[]): OkClip[] => latestRecords(rs).flatMap((r) => (r.status === 'ok' ? [r.clip] : []));

async function runScore(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs(argv, scoreOptions);
  const rejected: RejectedLine[] = [];
  const recs = await loadJudged(need(v.input, 'input'), io, rejected);
  const report = scoreJudged(recs, { bootstrap: numberFlag('bootstrap', v.bootstrap, 1000, { integer: true, min: 0, max: 1_000_000 }), seed: numberFlag('seed', v.seed, 0, { integer: true }) });
  const rob: RobustnessSection = {};
  if (v['baseline-input'] !== undefined) rob.baseline = baselineCheck(okClips(await loadJudged(v['baseline-input'], io, rejected)));
  if (v['permuted-input'] !== undefined) rob.permutation = permutationCheck(okClips(recs), okClips(await loadJudged(v['permuted-input'], io, rejected)));
  if (v['second-judge'] !== undefined) rob.agreement = judgeAgreement(okClips(recs), okClips(await loadJudged(v['second-judge'], io, rejected)));
  const full = { ...report, rejectedLines: { count: rejected.length, lines: rejected }, robustness: rob };
  if (v.json !== undefined) await writeFile(v.json, JSON.stringify(full, null, 2));
  if (v.html !== undefined) await writeFile(v.html, renderHtmlReport(report, rob, rejected));
  const o = report.overall;
  io.stdout.write(`clips ${report.clips} (failed ${report.failedClips}, rejected lines ${rejected.length}), ${formatScoreLine(report.overall)}\n`);
  return rejected.length > 0 ? 1 : 0;
}

const buildOptions = {
  input: { type: 'string' }, output: { type: 'string' }, llm: { type: 'string' }, 'llm-url': { type: 'string' }, 'llm-model': { type: 'string' }, 'llm-api-key': { type: 'string' },
  judge: { type: 'string' }, 'judge-gguf': { type: 'string' }, 'judge-url': { type: 'string' }, 'judge-model': { type: 'string' }, 'judge-key': { type: 'string' }, 'max-blanks': { type: 'string' }, seed: { type: 'string' },
} as const;

async function runBuild(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs(argv, buildOptions);
  const llmChoice = llmChoiceFromFlags({ llm: v.llm, url: v['llm-url'], model: v['llm-model'], apiKey: v['llm-api-key'] }, { defaultLocal: false });
  if (llmChoice === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--llm-url and --llm-model (or --llm local) are required; see omnicap cloze --help');
  const judgeWanted = judgeChoice(v);
  const input = need(v.input, 'input');
  const output = need(v.output, 'output');
  await using llm = await createLlm(llmChoice, { apiKey: resolveApiKey(v['llm-api-key'], 'llm') });
  await using judge = judgeWanted !== undefined ? await makeJudge(judgeWanted, v) : undefined;
  const s = await runClozeBuild({
    input, output, llm, judge,
    maxBlanks: numberFlag('max-blanks', v['max-blanks'], 8, { integer: true, min: 1, max: 64 }),
    seed: v.seed !== undefined ? numberFlag('seed', v.seed, 0, LLM_LIMITS.seed) : undefined,
    signal: io.signal,
  });
  for (const e of s.inputErrors) io.stderr.write(`INVALID_ARGUMENT: ${e.message}\n`);
  io.stdout.write(`${JSON.stringify(s)}\n`);
  return s.inputErrors.length > 0 ? 1 : 0;
}

export const command: CliCommand = {
  name: 'cloze',
  summary: 'Omni-Cloze benchmark: judge captions (eval), score judged files (score), make a benchmark (build)',
  usage,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'eval') return runEval(rest, io);
    if (sub === 'score') return runScore(rest, io);
    if (sub === 'build') return runBuild(rest, io);
    throw new OmnicapError('INVALID_ARGUMENT', `cloze expects a sub-command eval, score or build but received ${JSON.stringify(sub ?? '')}; see omnicap cloze --help`);
  },
};
