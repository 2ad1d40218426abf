/**
 * `omnicap detect` stopped with SIGINT in the middle of a clip, as a real process with the embedded
 * LLM and the real observers: it stops with ABORTED, writes no line for the unfinished clip, and
 * leaves no process behind (the local model's worker, the Whisper worker, ffmpeg): every process it
 * had started is gone once it has exited.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';
import { SPEECH } from '../detective/media';
import { nextEvent, until } from '../wait';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** pid → [parent pid, command line] of every live process, read from /proc. */
function processes(): Map<number, [number, string]> {
  const out = new Map<number, [number, string]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') out.set(Number(name), [Number(ppid), readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ')]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // it ended while we looked
    }
  }
  return out;
}

/** The live descendants of `root` (pid → command line). */
function descendants(root: number): Map<number, string> {
  const all = processes();
  const found = new Map<number, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, [ppid, cmd]] of all) {
      if (!found.has(pid) && (ppid === root || found.has(ppid))) {
        found.set(pid, cmd);
        grew = true;
      }
    }
  }
  return found;
}

test('SIGINT mid-clip: ABORTED, no line for the clip, no process left behind', async () => {
  expect(existsSync(SPEECH)).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'detect-abort-'));
  const input = join(dir, 'clips.jsonl');
  const output = join(dir, 'out.jsonl');
  writeFileSync(input, `${JSON.stringify({ id: 'speech', path: SPEECH })}\n`);
  const child = spawn(process.execPath, [CLI, 'detect', '--input', input, '--output', output, '--llm-state', 'off', '--no-progress'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, OMNICAP_EXIT_WITH_PARENT: '0' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = nextEvent(child, 'exit', 'detect to exit', 120_000);
  // every process detect started while it ran; the clip is in the middle of its work once the local
  // model's worker and the Whisper worker both run
  const seen = new Map<number, string>();
  const tick = new EventEmitter();
  const ticker = setInterval(() => tick.emit('tick'), 50);
  try {
    await until(
      () => {
        for (const [pid, cmd] of descendants(child.pid!)) seen.set(pid, cmd);
        const cmds = [...seen.values()];
        return child.exitCode !== null || (cmds.some((c) => c.includes('local-worker.mjs')) && cmds.some((c) => c.includes('whisper_worker.py')));
      },
      [[tick, 'tick'], [child, 'exit']],
      'the LLM worker and the Whisper worker to start',
      120_000,
    );
    if (child.exitCode !== null) throw new Error(`detect exited before the clip's work began (${child.exitCode}): ${stderr}`);
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(1);
    expect(stderr).toMatch(/error ABORTED/);
    for (const [pid] of descendants(child.pid!)) seen.set(pid, 'late');
    // once detect has exited, nothing it started is alive (a leaked worker would have been reparented)
    await until(() => [...seen.keys()].every((pid) => !processes().has(pid)), [[tick, 'tick']], 'the processes detect started to end', 10_000);
  } finally {
    clearInterval(ticker);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  expect(existsSync(output) ? readFileSync(output, 'utf8').trim() : '').toBe('');
}, 300_000);
