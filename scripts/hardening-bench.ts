/**
 * Bounded loopback benchmark of the server-hardening targets (issue 14, docs/benchmarks.md
 * "Server hardening"). Starts `omnicap serve` (dist CLI, tiny model) as a child process per
 * scenario so its RSS is the server's alone (sampled from /proc every 20 ms), on 127.0.0.1:
 *
 *   race     a swapper process flips root/target.wav between a hard link to a file inside the
 *            root and a symlink to a file outside it; 4 clients request it; escapes = responses
 *            whose audio_seconds is the outside clip's
 *   long     64 simultaneous path requests for a 10-minute mp3 (peak server RSS)
 *   uploads  40 simultaneous multipart uploads of exactly --max-upload-mb (peak server RSS)
 *   flood    successful req/s at 16 vs 64 keep-alive clients (lean raw-socket HTTP/1.1, 20 ms
 *            back-off after a refusal), alternated 16/64/16/64 in one run (ratio), once per
 *            --refusal-hold-ms value (server flag; 0 = no hold, the baseline)
 *   flood-inline  the same with a 183 KB inline base64 body
 *   slow     20 clients trickling a body at a byte per 500 ms against --body-timeout-ms 2000:
 *            when is each cut, as a ratio of the configured timeout
 *
 *   node dist/scripts/hardening-bench.js [--scenarios race,long,uploads,flood,slow] [--race-seconds 30]
 *        [--flood-seconds 8] [--refusal-hold-ms 250,0] [--rss-bound-mb 600]
 *
 * Needs `npm run build` first. Every loop is bounded by a deadline or a count.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveBinary } from '../src/media';
import { packageRoot } from '../src/util/paths';
import { runLoad } from './load-test';

const ALSA_FRONT = '/usr/share/sounds/alsa/Front_Center.wav'; // 1.43 s
const SPEECH_3S = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav'; // 2.99 s

interface Served {
  url: string;
  pid: number;
  /** Peak VmRSS (MiB) since the last reset, sampled every 20 ms. */
  peakMiB(): number;
  resetPeak(): void;
  rssMiB(): number;
  stop(): Promise<void>;
}

function vmRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

async function serve(args: string[]): Promise<Served> {
  const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  const child: ChildProcess = spawn(process.execPath, [cli, 'serve', '--port', '0', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const deadline = Date.now() + 120_000;
  while (!/ready, model/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start: ${err.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1] as string;
  const pid = child.pid as number;
  let peak = 0;
  const timer = setInterval(() => {
    if (child.exitCode === null) peak = Math.max(peak, vmRssMiB(pid));
  }, 20);
  return {
    url,
    pid,
    peakMiB: () => peak,
    resetPeak: () => (peak = vmRssMiB(pid)),
    rssMiB: () => vmRssMiB(pid),
    stop: async () => {
      clearInterval(timer);
      child.kill('SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    },
  };
}

const post = (url: string, body: unknown, timeoutMs = 300_000): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });

function tally(statuses: Array<number | string>): Record<string, number> {
  const t: Record<string, number> = {};
  for (const s of statuses) t[String(s)] = (t[String(s)] ?? 0) + 1;
  return t;
}

async function race(seconds: number): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'omnicap-bench-root-'));
  const outside = mkdtempSync(join(tmpdir(), 'omnicap-bench-outside-'));
  const inside = join(root, 'inside.wav');
  const secret = join(outside, 'secret.wav');
  const target = join(root, 'target.wav');
  copyFileSync(ALSA_FRONT, inside);
  copyFileSync(SPEECH_3S, secret);
  linkSync(inside, target);
  const server = await serve(['--media-root', root, '--max-queue', '64', '--concurrency', '2']);
  const swapper = spawn(process.execPath, ['-e', `
    const fs = require('fs');
    const [inside, secret, target, until] = [${JSON.stringify(inside)}, ${JSON.stringify(secret)}, ${JSON.stringify(target)}, Date.now() + ${seconds * 1000 + 500}];
    for (let i = 0; Date.now() < until; i++) {
      const tmp = target + '.' + (i % 2 ? 'l' : 's');
      try { fs.rmSync(tmp, { force: true }); if (i % 2) fs.linkSync(inside, tmp); else fs.symlinkSync(secret, tmp); fs.renameSync(tmp, target); } catch {}
    }`], { stdio: 'ignore' });
  const counts = { requests: 0, inside: 0, escapes: 0, forbidden: 0, not_found: 0, other: 0 };
  const until = Date.now() + seconds * 1000;
  const client = async (): Promise<void> => {
    while (Date.now() < until) {
      const res = await post(`${server.url}/v1/captions`, { path: 'target.wav', max_tokens: 1 });
      const body = (await res.json()) as { audio_seconds?: number; error?: { code: string } };
      counts.requests += 1;
      if (res.status === 200) {
        if (Math.abs((body.audio_seconds ?? 0) - 1.43) < 0.05) counts.inside += 1;
        else counts.escapes += 1;
      } else if (body.error?.code === 'FORBIDDEN_PATH') counts.forbidden += 1;
      else if (body.error?.code === 'MEDIA_NOT_FOUND') counts.not_found += 1;
      else counts.other += 1;
    }
  };
  try {
    await Promise.all([client(), client(), client(), client()]);
  } finally {
    await new Promise<void>((r) => (swapper.exitCode !== null ? r() : swapper.once('exit', () => r())));
    await server.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
  return { seconds, ...counts };
}

async function long(rssBound: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'omnicap-bench-long-'));
  const clip = join(dir, 'ten-minutes.mp3');
  const r = spawnSync(resolveBinary('ffmpeg', {}), ['-nostdin', '-loglevel', 'error', '-y', '-stream_loop', '250', '-i', SPEECH_3S, '-t', '600', '-ac', '1', '-ar', '16000', '-c:a', 'libmp3lame', '-b:a', '32k', clip]);
  if (r.status !== 0) throw new Error(`ffmpeg could not make the 10-minute clip: ${r.stderr.toString().slice(-300)}`);
  const server = await serve(['--media-root', dir, '--timeout-ms', '600000']);
  try {
    await (await post(`${server.url}/v1/captions`, { path: 'ten-minutes.mp3', max_tokens: 1 })).text(); // warm-up
    const before = server.rssMiB();
    server.resetPeak();
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: 64 }, () => post(`${server.url}/v1/captions`, { path: 'ten-minutes.mp3', max_tokens: 1 }).then(async (res) => (await res.text(), res.status), () => 'network')));
    return { requests: 64, statuses: tally(statuses), wall_s: (performance.now() - t0) / 1000, rss_before_mib: before, peak_rss_mib: server.peakMiB(), bound_mib: rssBound };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A 16 kHz mono 16-bit WAV of `seconds` of a real clip (looped), padded with a JUNK chunk to exactly `bytes`. */
function wavOfSize(seconds: number, bytes: number): Buffer {
  const src = readFileSync(SPEECH_3S).subarray(44);
  const data = Buffer.alloc(seconds * 32000);
  for (let at = 0; at < data.length; at += src.length) src.copy(data, at, 0, Math.min(src.length, data.length - at));
  const junk = bytes - 44 - 8 - data.length;
  if (junk < 0) throw new Error('the upload size is smaller than the audio');
  const h = Buffer.alloc(36);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(bytes - 8, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  const junkHead = Buffer.alloc(8);
  junkHead.write('JUNK', 0, 'latin1');
  junkHead.writeUInt32LE(junk, 4);
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'latin1');
  dataHead.writeUInt32LE(data.length, 4);
  return Buffer.concat([h, junkHead, Buffer.alloc(junk), dataHead, data]);
}

async function uploads(rssBound: number): Promise<Record<string, unknown>> {
  const mb = 20;
  const server = await serve(['--max-upload-mb', String(mb), '--timeout-ms', '600000']);
  const blob = new Blob([wavOfSize(600, mb * 1024 * 1024)]);
  const send = (): Promise<number | string> => {
    const fd = new FormData();
    fd.append('file', blob, 'max.wav');
    fd.append('max_tokens', '1');
    return fetch(`${server.url}/v1/captions`, { method: 'POST', body: fd, signal: AbortSignal.timeout(300_000) }).then(async (res) => (await res.text(), res.status), () => 'network');
  };
  try {
    await send(); // warm-up
    const before = server.rssMiB();
    server.resetPeak();
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: 40 }, send));
    return { requests: 40, upload_mib: mb, statuses: tally(statuses), wall_s: (performance.now() - t0) / 1000, rss_before_mib: before, peak_rss_mib: server.peakMiB(), bound_mib: rssBound };
  } finally {
    await server.stop();
  }
}

/**
 * One lean keep-alive HTTP/1.1 client: writes a prebuilt request, reads the status line, headers and
 * a Content-Length body, repeats until the deadline (a 429/503 backs off 20 ms). Far cheaper per
 * request than fetch, so on this shared box the server, not the load generator, is what is measured.
 */
async function leanClient(port: number, request: Buffer, deadline: number, out: { ok: number; refused: number; other: number; latencies: number[] }): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  let closed = false;
  socket.on('data', (b: Buffer) => {
    buf = buf.length === 0 ? b : Buffer.concat([buf, b]);
    wake?.();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const response = async (): Promise<number> => {
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = buf.subarray(0, end).toString('latin1');
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length >= end + 4 + length) {
          buf = buf.subarray(end + 4 + length);
          return Number(head.slice(9, 12));
        }
      }
      if (closed) return 0;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  };
  try {
    while (Date.now() < deadline && !closed) {
      const t0 = performance.now();
      socket.write(request);
      const status = await response();
      if (status === 200) {
        out.ok += 1;
        out.latencies.push(performance.now() - t0);
      } else if (status === 429 || status === 503) {
        out.refused += 1;
        await new Promise((r) => setTimeout(r, 20));
      } else {
        out.other += 1;
        break;
      }
    }
  } finally {
    socket.destroy();
  }
}

async function flood(seconds: number, inline: boolean, holdMs: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'omnicap-bench-flood-'));
  copyFileSync(ALSA_FRONT, join(dir, 'front.wav'));
  const server = await serve(['--media-root', dir, '--refusal-hold-ms', String(holdMs)]);
  const port = Number(new URL(server.url).port);
  const media = inline ? { data: readFileSync(ALSA_FRONT).toString('base64') } : { path: 'front.wav' };
  const json = Buffer.from(JSON.stringify({ ...media, max_tokens: 2, seed: 1 }));
  const request = Buffer.concat([Buffer.from(`POST /v1/captions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n`), json]);
  try {
    await runLoad({ url: server.url, requests: 20, clients: 2, body: JSON.parse(json.toString()) as Record<string, unknown> }); // warm-up
    const rounds: Array<{ clients: number; ok: number; wall_s: number; ok_per_s: number; refused: number; other: number; p99_ok_ms: number; client_cpu_ms: number }> = [];
    for (const clients of [16, 64, 16, 64]) {
      const out = { ok: 0, refused: 0, other: 0, latencies: [] as number[] };
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: clients }, () => leanClient(port, request, Date.now() + seconds * 1000, out)));
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      out.latencies.sort((a, b) => a - b);
      rounds.push({ clients, ok: out.ok, wall_s: wall, ok_per_s: out.ok / wall, refused: out.refused, other: out.other, p99_ok_ms: out.latencies[Math.floor(out.latencies.length * 0.99)] ?? 0, client_cpu_ms: (cpu.user + cpu.system) / 1000 });
    }
    const rate = (c: number): number => {
      const rs = rounds.filter((r) => r.clients === c);
      return rs.reduce((a, r) => a + r.ok, 0) / rs.reduce((a, r) => a + r.wall_s, 0);
    };
    return { body: inline ? `base64 (${json.length} bytes)` : `path (${json.length} bytes)`, refusal_hold_ms: holdMs, rounds, ok_per_s_16: rate(16), ok_per_s_64: rate(64), ratio_64_to_16: rate(64) / rate(16) };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function slow(): Promise<Record<string, unknown>> {
  const bodyTimeoutMs = 2000;
  const server = await serve(['--body-timeout-ms', String(bodyTimeoutMs), '--timeout-ms', '10000']);
  const port = Number(new URL(server.url).port);
  const one = (): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('POST /v1/captions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
      const trickle = setInterval(() => socket.write(' '), 500);
      const giveUp = setTimeout(() => socket.destroy(), 30_000);
      socket.on('close', () => {
        clearInterval(trickle);
        clearTimeout(giveUp);
        resolve(performance.now() - t0);
      });
      socket.resume();
    });
  try {
    const cuts = (await Promise.all(Array.from({ length: 20 }, one))).sort((a, b) => a - b);
    return { clients: 20, body_timeout_ms: bodyTimeoutMs, cut_ms_min: cuts[0], cut_ms_max: cuts[cuts.length - 1], max_cut_over_timeout: cuts[cuts.length - 1] / bodyTimeoutMs };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string', default: 'race,long,uploads,slow,flood' },
      'race-seconds': { type: 'string', default: '30' },
      'flood-seconds': { type: 'string', default: '8' },
      'refusal-hold-ms': { type: 'string', default: '250' },
      'rss-bound-mb': { type: 'string', default: '600' },
    },
  });
  const bound = Number(values['rss-bound-mb']);
  const results: Record<string, unknown> = {};
  for (const name of (values.scenarios ?? '').split(',')) {
    const t0 = performance.now();
    if (name === 'race') results.race = await race(Number(values['race-seconds']));
    else if (name === 'long') results.long = await long(bound);
    else if (name === 'uploads') results.uploads = await uploads(bound);
    else if (name === 'flood' || name === 'flood-inline') {
      const holds = (values['refusal-hold-ms'] ?? '250').split(',').map(Number);
      const runs = [];
      for (const hold of holds) runs.push(await flood(Number(values['flood-seconds']), name === 'flood-inline', hold));
      results[name] = runs.length === 1 ? runs[0] : runs;
    }
    else if (name === 'slow') results.slow = await slow();
    else throw new Error(`unknown scenario ${name}`);
    process.stdout.write(`${name} (${((performance.now() - t0) / 1000).toFixed(1)} s): ${JSON.stringify(results[name])}\n`);
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`hardening-bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
