/**
 * The real embedded path through the queue: `omnicap detect --queue` + one `omnicap worker` process
 * with the embedded local LLM (Qwen2.5-Coder-1.5B-Instruct GGUF) and the real observers (signal,
 * Silero VAD, Whisper ASR) on two LibriVox clips, real redis-server. Content, not keys: each final
 * caption carries words actually spoken in its clip. Slow (about a minute per clip on 2 cores).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { words } from '../../src/detective';
import { defaultLocalModelPath } from '../../src/llm/local';
import { clip } from '../media/helpers';
import { CLI, expectOneLinePerClip } from './helpers';
import { RedisServer } from './redis';

const CLIPS = [clip('librivox-0880'), clip('librivox-0930')];

describe('queue with the embedded LLM and real observers', () => {
  it('annotates two spoken clips through Redis; the captions carry the spoken words', async () => {
    expect(existsSync(defaultLocalModelPath())).toBe(true); // scripts/setup-models.sh
    const redis = await RedisServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'omnicap-queue-llm-'));
    mkdirSync(join(dir, 'clips'));
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, CLIPS.map((c) => JSON.stringify({ id: c.id, path: c.path })).join('\n') + '\n');
    const out = join(dir, 'out.jsonl');
    const run = (args: string[]): { done: Promise<number | null>; text: () => string; kill: () => void } => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMNICAP_EXIT_WITH_PARENT: '0' } });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      return { done: new Promise((r) => child.on('exit', (c) => r(c))), text: () => text, kill: () => child.kill('SIGTERM') };
    };
    const worker = run(['worker', '--queue', redis.url(), '--queue-name', 'real', '--concurrency', '1']);
    try {
      const producer = run(['detect', '--queue', redis.url(), '--queue-name', 'real', '--input', input, '--output', out, '--observers', 'signal,vad,asr', '--rounds', '4', '--max-caption-tokens', '256', '--progress', 'none']);
      const code = await producer.done;
      expect({ code, log: code === 0 ? '' : producer.text() + worker.text() }).toEqual({ code: 0, log: '' });
      const lines = expectOneLinePerClip(out, CLIPS.map((c) => c.id)) as Array<{ id: string; status: string; caption: string; models: { detective: string }; omni_detective_trajectory: Array<{ tool?: string; status: string }> }>;
      for (const l of lines) {
        const c = CLIPS.find((x) => x.id === l.id)!;
        expect(['ok', 'degraded']).toContain(l.status);
        expect(l.models.detective).toBe('qwen2.5-coder-1.5b-instruct-q4_k_m');
        expect(l.omni_detective_trajectory.some((t) => t.tool === 'asr' && t.status === 'ok')).toBe(true);
        const spoken = c.transcript!.split(' ').filter((w) => w.length > 2);
        const found = spoken.filter((w) => words(l.caption.toLowerCase()).includes(w));
        expect({ id: l.id, found: found.length >= Math.ceil(spoken.length * 0.6), caption: l.caption }).toMatchObject({ id: l.id, found: true });
      }
    } finally {
      worker.kill();
      await worker.done;
      await redis.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
