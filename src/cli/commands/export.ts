import { OmnicapError } from '../../errors';
import { parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap export --input annotations.jsonl --format F --output train.jsonl [options]

Turns Omni-Detective annotations (omnicap detect output, omnicap or reference format) into training
data for captioner fine-tuning, one example per clip: the user turn is the media tag and an
instruction, the assistant turn is the caption.

Formats:
  ms-swift      {"messages": [{"role": "user", "content": "<audio>..."}, {"role": "assistant",
                "content": CAPTION}], "audios": [PATH]} ("<video>" + "videos" for clips with video)
  llamafactory  the same records (LLaMA-Factory "sharegpt" formatting, role/content tags) and a
                dataset_info.json entry next to the output declaring the columns and tags
  sharegpt      {"id", "conversations": [{"from": "human", "value": "<audio>..."}, {"from": "gpt",
                "value": CAPTION}], "audios": [PATH]}

Every line is checked against the annotation schema (docs/detective.md): a line that is not JSON or
not an annotation line of either format is printed on stderr with its line number and error code,
and the other lines are exported; the exit code is then 1. Error lines never become examples (they
have no caption); degraded lines (template caption, a failed check) are skipped unless
--include-degraded; a torn last line (a detect run still writing) is skipped. Each skip is counted
in the summary.

With --reviewed, only clips a reviewer accepted or edited in \`omnicap review\` are exported (the
latest decision per clip in INPUT.reviews.jsonl); an edited caption replaces the annotation's.
Rejected and unreviewed clips are skipped; a reviewed degraded clip is exported as decided.

Options:
  --input PATH          annotations JSONL (omnicap detect --output)
  --output PATH         training JSONL (replaced atomically)
  --format F            ms-swift, llamafactory or sharegpt
  --paths MODE          relative (default: to --base-dir) or absolute media paths
  --base-dir DIR        folder relative paths start from (default: the output's folder, which is
                        LLaMA-Factory's dataset_dir)
  --media-root DIR      resolves relative media paths found in the annotations (default: cwd)
  --include-degraded    keep degraded lines too
  --reviewed            accepted and edited clips only, from INPUT.reviews.jsonl (omnicap review)
  --prompt TEXT         instruction for audio clips (default "Describe this audio clip in detail.")
  --video-prompt TEXT   instruction for clips with video
  --system TEXT         a system turn in every example
  --dataset-name NAME   the dataset_info.json key (llamafactory; default: the output file name)
`;

const options = {
  input: { type: 'string' },
  output: { type: 'string' },
  format: { type: 'string' },
  paths: { type: 'string' },
  'base-dir': { type: 'string' },
  'media-root': { type: 'string' },
  'include-degraded': { type: 'boolean' },
  reviewed: { type: 'boolean' },
  prompt: { type: 'string' },
  'video-prompt': { type: 'string' },
  system: { type: 'string' },
  'dataset-name': { type: 'string' },
} as const;

export const command: CliCommand = {
  name: 'export',
  summary: 'annotations -> captioner fine-tuning data (ms-swift, LLaMA-Factory, ShareGPT)',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values: v, positionals } = parseCommandArgs(argv, options);
    if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(positionals[0])}`);
    if (v.input === undefined || v.output === undefined || v.format === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--input, --output and --format are required');
    const { exportTrainingData, EXPORT_FORMATS } = await import('../../export');
    const format = EXPORT_FORMATS.find((f) => f === v.format);
    if (format === undefined) throw new OmnicapError('INVALID_ARGUMENT', `--format expects ${EXPORT_FORMATS.join(', ')} but received ${JSON.stringify(v.format)}`);
    const paths = v.paths ?? 'relative';
    if (paths !== 'relative' && paths !== 'absolute') throw new OmnicapError('INVALID_ARGUMENT', `--paths expects relative or absolute but received ${JSON.stringify(paths)}`);
    const prompts: { audio?: string; video?: string; system?: string } = {};
    if (v.prompt !== undefined) prompts.audio = v.prompt;
    if (v['video-prompt'] !== undefined) prompts.video = v['video-prompt'];
    if (v.system !== undefined) prompts.system = v.system;
    const s = await exportTrainingData({
      input: v.input,
      output: v.output,
      format,
      paths,
      baseDir: v['base-dir'],
      mediaRoot: v['media-root'],
      includeDegraded: v['include-degraded'] === true,
      reviewed: v.reviewed === true,
      prompts,
      datasetName: v['dataset-name'],
    });
    for (const r of s.rejected) io.stderr.write(`${v.input}: ${r.code}: ${r.message}\n`);
    const skipped = Object.entries(s.skipped).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
    const rejected = s.rejected.length > 0 ? `; ${s.rejected.length} lines rejected (not exported)` : '';
    io.stderr.write(`export: ${s.written} ${format} examples to ${s.output}${s.degradedIncluded > 0 ? ` (${s.degradedIncluded} degraded)` : ''}; skipped: ${skipped}${rejected}${s.datasetInfo !== undefined ? `; dataset entry in ${s.datasetInfo}` : ''}\n`);
    return s.rejected.length > 0 ? 1 : 0;
  },
};
