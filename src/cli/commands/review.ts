import { userInfo } from 'node:os';
import { OmnicapError } from '../../errors';
import { createLogger, resolveLogLevel } from '../../util/log';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap review --input FILE [--media-root DIR] [options]

Opens a review page in the browser (a small HTTP server on loopback) for one of two inputs:

  annotations (omnicap detect output, either format): a list with filters (status, degraded
    reason, decision, text search) and per clip the media (audio with its waveform, or video), the
    caption with its claim-level provenance (click a sentence: its evidence rounds are highlighted
    and the media seeks to the first evidence time; sentences without evidence are flagged), the
    rounds, and the decision: accept, edit the caption, or reject with a note (keys a, e, r).
    Lines that cannot be read are listed with their line numbers. Decisions are appended (fsync)
    to FILE.reviews.jsonl; the latest per clip counts; \`omnicap export --reviewed\` then exports
    accepted and edited captions only.
  cloze sets (omnicap cloze build output, or the released Omni-Cloze layout): per blank accept,
    edit the answer and distractors, or reject with a note; decisions go to FILE.reviews.jsonl;
    the "Write verified set" button writes accepted and edited blanks in the released Omni-Cloze
    layout to --verified-output.

Media is served only from inside --media-root (relative media paths are resolved against it);
other paths are refused (403 FORBIDDEN_PATH). See docs/review.md.

Options:
  --input FILE             annotations JSONL or cloze JSONL (which one is read from its lines)
  --kind K                 annotations or cloze (default: detected from the file)
  --media-root DIR         folder the clips' media files must be in (default: none, media refused)
  --port N                 port (default 8090; 0 = any free port)
  --host HOST              bind address (default 127.0.0.1)
  --reviewer NAME          recorded with each decision (default: the OS user name)
  --verified-output FILE   where the cloze verified set is written (default
                           FILE without .jsonl + .verified.jsonl)
  --log-level LEVEL        fatal, error, warn (default), info, debug, trace or silent
`;

const options = {
  input: { type: 'string' },
  kind: { type: 'string' },
  'media-root': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  reviewer: { type: 'string' },
  'verified-output': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export const command: CliCommand = {
  name: 'review',
  summary: 'review annotations (accept / edit / reject with provenance) or verify a cloze set in the browser',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values: v, positionals } = parseCommandArgs(argv, options);
    if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(positionals[0])}`);
    if (v.input === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--input is required');
    if (v.kind !== undefined && v.kind !== 'annotations' && v.kind !== 'cloze') throw new OmnicapError('INVALID_ARGUMENT', `--kind expects annotations or cloze but received ${JSON.stringify(v.kind)}`);
    const port = numberFlag('port', v.port, 8090, { integer: true, min: 0, max: 65535 });
    const { createReviewServer } = await import('../../server/review');
    const server = await createReviewServer({
      input: v.input,
      kind: v.kind,
      mediaRoot: v['media-root'],
      reviewer: v.reviewer ?? userInfo().username,
      verifiedOutput: v['verified-output'],
      logger: createLogger(io.stderr, resolveLogLevel(v['log-level'], process.env, 'warn')),
    });
    try {
      const address = await server.listen(port, v.host ?? '127.0.0.1');
      io.stdout.write(`omnicap review: ${server.kind} of ${v.input} at ${address.url} (decisions in ${v.input}.reviews.jsonl)\n`);
      if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      await server.close();
    }
    return 0;
  },
};
