/** A real JSON-lines logger (src/util/log.ts) whose lines are collected, to assert what was logged. */
import { PassThrough } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../src/util/log';

export function collectingLogger(level: LogLevel = 'info'): { logger: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const stream = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  stream.on('data', (d: Buffer) => {
    const parts = (rest + d.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p !== '') lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  return { logger: createLogger(stream, level), lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}
