/**
 * Crash-safe JSONL output: whole lines appended with one write each; on resume a truncated last
 * line (no trailing newline, e.g. after kill -9) is cut off and the ids already written skipped.
 */
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Ids already in `file`; truncates a partial last line in place. */
export function recoverOutput(file: string): Set<string> {
  const done = new Set<string>();
  if (!existsSync(file)) return done;
  const buf = readFileSync(file);
  const lastNl = buf.lastIndexOf(0x0a);
  const keep = lastNl + 1;
  if (keep < buf.length) {
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, keep);
    } finally {
      closeSync(fd);
    }
  }
  for (const line of buf.subarray(0, keep).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as { id?: unknown };
      if (typeof v.id === 'string') done.add(v.id);
    } catch {
      // a corrupt complete line is left as is and its clip is redone
    }
  }
  return done;
}

export class JsonlAppender {
  private readonly fd: number;
  constructor(file: string) {
    this.fd = openSync(file, 'a');
  }
  /** One write(2) per line, so a crash never leaves half of a line followed by another line. */
  append(value: unknown): void {
    const bytes = Buffer.from(JSON.stringify(value) + '\n');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off);
  }
  dispose(): void {
    closeSync(this.fd);
  }
}
