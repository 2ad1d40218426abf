import { OmnicapError } from '../../errors';
import { parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap queue <status|cancel|obliterate> --queue redis://HOST:PORT/DB [options]

  omnicap queue status --queue URL [--queue-name NAME] [--json]
    The run the queue holds (input, clips, models, observers, options), job counts (done, failed,
    active, waiting, retrying), clips/min over the last full minutes (BullMQ metrics recorded by
    the workers), ETA, the sink (who writes the output) and the number of connected workers.

  omnicap queue cancel --queue URL [--queue-name NAME] (--id CLIP_ID ... | --all)
    Cancels clips: a running clip is aborted through its AbortSignal on its worker, a waiting or
    retrying one when a worker takes it; each gets an error line with code QUEUE_JOB_CANCELLED.

  omnicap queue obliterate --queue URL [--queue-name NAME] [--force]
    Removes every job and the run manifest, so the queue can take another run. Refused while jobs
    are running unless --force. The output file is not touched.
`;

const options = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  json: { type: 'boolean' },
  id: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

export const command: CliCommand = {
  name: 'queue',
  summary: 'status, cancel and obliterate of a detect queue (BullMQ on Redis)',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values: v, positionals } = parseCommandArgs(argv, options);
    const [sub, ...extra] = positionals;
    if (sub === undefined) throw new OmnicapError('INVALID_ARGUMENT', 'a sub-command is required: status, cancel or obliterate');
    if (extra.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(extra[0])}`);
    if (v.queue === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--queue is required');
    const q = await import('../../detective/queue');
    const loc = q.parseQueueUrl(v.queue);
    const name = v['queue-name'] ?? 'omnicap';
    if (sub === 'status') {
      const s = await q.queueStatus(loc, name);
      if (v.json === true) io.stdout.write(`${JSON.stringify(s)}\n`);
      else {
        io.stdout.write(`${q.formatQueueProgress(s)}\n`);
        io.stdout.write(s.run === null ? 'run: none\n' : `run: ${s.run.input.clips} clips from ${s.run.input.path}, LLM ${s.run.llm.model}, observers ${s.run.observers.names.join(',')}, prompts ${s.run.options.promptVersion}, created ${s.run.createdAt}\n`);
        io.stdout.write(`sink: ${s.sink === null ? 'none' : `pid ${s.sink.pid} on ${s.sink.host} -> ${s.sink.output}`}; workers connected: ${s.workers}\n`);
      }
      return 0;
    }
    if (sub === 'cancel') {
      if ((v.all === true) === (v.id !== undefined)) throw new OmnicapError('INVALID_ARGUMENT', 'cancel needs --id CLIP_ID (repeatable) or --all');
      const r = await q.cancelClips(loc, name, v.all === true ? 'all' : (v.id ?? []));
      io.stdout.write(`cancelled ${r.marked} clips${r.notFound.length > 0 ? `; not in the queue: ${r.notFound.join(', ')}` : ''}\n`);
      return r.notFound.length > 0 ? 1 : 0;
    }
    if (sub === 'obliterate') {
      await q.obliterateRun(loc, name, v.force === true);
      io.stdout.write(`queue ${name}: every job and the run manifest removed\n`);
      return 0;
    }
    throw new OmnicapError('INVALID_ARGUMENT', `unknown sub-command ${JSON.stringify(sub)}: status, cancel or obliterate`);
  },
};
