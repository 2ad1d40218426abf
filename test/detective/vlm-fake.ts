/**
 * A protocol fake of an OpenAI-compatible vision chat endpoint on loopback (POST
 * /v1/chat/completions), for the vision-model observer's tests: it records every request (headers,
 * the parsed body, when its connection closed) and answers as the test scripts it: an answer, an
 * HTTP error, a body that is not JSON, or no answer at all (held until the client gives up).
 * Also a rendered test video: three different sources concatenated, with hand-labelled cuts.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { resolveBinary } from '../../src/media';

export type Part = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } } | { type: 'video_url'; video_url: { url: string } };

export interface VlmBody {
  model: string;
  max_tokens?: number;
  messages: Array<{ role: string; content: string | Part[] }>;
}

export interface SeenRequest {
  path: string;
  auth?: string;
  body: VlmBody;
  /** Resolves when the client's connection for this request closes (answered or given up). */
  closed: Promise<void>;
}

/** How the fake answers: a status and body, or `hold` (never answers; the client must give up). */
export type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hold';

/** A chat completion whose message content is `text`. */
export function answer(text: string, extra: Record<string, unknown> = {}): Reply {
  return { status: 200, body: JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion', model: 'fake-vl', choices: [{ index: 0, message: { role: 'assistant', content: text, ...extra }, finish_reason: 'stop' }], usage: { prompt_tokens: 900, completion_tokens: 12 } }) };
}

export class FakeVlm {
  readonly requests: SeenRequest[] = [];
  /** The script: how to answer each request (default: one fixed answer). */
  reply: (req: SeenRequest) => Reply = () => answer('a red car drives past a tree');

  private constructor(private readonly server: Server, readonly base: string) {}

  static async start(): Promise<FakeVlm> {
    let fake: FakeVlm | undefined;
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen: SeenRequest = { path: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as VlmBody, closed };
        fake!.requests.push(seen);
        const r = fake!.reply(seen);
        if (r === 'hold') return;
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    fake = new FakeVlm(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
    return fake;
  }

  /** The user turn's parts of request `i`. */
  parts(i: number): Part[] {
    const user = this.requests[i].body.messages.find((m) => m.role === 'user');
    return Array.isArray(user?.content) ? user.content : [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Times of the frames named in the text parts ("Frame at 2.2 s"). */
export function frameTimes(parts: readonly Part[]): number[] {
  return parts.flatMap((p) => (p.type === 'text' ? [...p.text.matchAll(/Frame at (\d+(?:\.\d+)?) s/g)].map((m) => Number(m[1])) : []));
}

/** Bytes of a base64 data URL. */
export function dataUrlBytes(url: string, mime: string): Buffer {
  const prefix = `data:${mime};base64,`;
  if (!url.startsWith(prefix)) throw new Error(`not a ${mime} data URL: ${url.slice(0, 40)}`);
  return Buffer.from(url.slice(prefix.length), 'base64');
}

/**
 * 6 s at 1024x576, 25 fps, no audio: a test pattern 0-2 s, SMPTE bars 2-3.6 s, a Mandelbrot zoom
 * 3.6-6 s. Hand-labelled cuts at 2.0 and 3.6 s.
 */
export function makeThreeShotVideo(dir: string): { path: string; cuts: number[]; duration: number } {
  const path = join(dir, 'three-shots.mp4');
  const size = 's=1024x576:r=25';
  execFileSync(resolveBinary('ffmpeg'), [
    '-y', '-nostdin', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=${size}`, '-f', 'lavfi', '-i', `smptebars=${size}`, '-f', 'lavfi', '-i', `mandelbrot=${size}`,
    '-filter_complex', '[0:v]trim=end_frame=50,setpts=PTS-STARTPTS[a];[1:v]trim=end_frame=40,setpts=PTS-STARTPTS[b];[2:v]trim=end_frame=60,setpts=PTS-STARTPTS,format=yuv420p[c];[a][b][c]concat=n=3:v=1:a=0,format=yuv420p[v]',
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-an', path,
  ]);
  return { path, cuts: [2, 3.6], duration: 6 };
}
