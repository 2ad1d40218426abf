/**
 * A small real OpenAI-compatible HTTP server on loopback with scripted but valid detective replies.
 * It is a fake model, used only to test the queue mechanics (retries, kills, restarts) fast; the
 * real embedded model runs through the queue in queue-llm.test.ts. Each round asks the next tool
 * of `tools` (then finishes); the synthesis reply is the clip's fact sheet as prose, so captions
 * hold the real observations (the signal measurements of the real clip).
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { until } from '../wait';

interface Body {
  messages: Array<{ role: string; content: string }>;
  response_format?: unknown;
  user?: string;
}

export interface FakeLlmOptions {
  tools?: string[];
  delayMs?: number;
}

export class FakeLlm {
  /** Requests by clip id (the `user` field the Detective sets to the clip's id). */
  readonly byClip = new Map<string, number>();
  calls = 0;
  served503 = 0;
  /** Requests whose client went away before an answer (an aborted clip). */
  aborted = 0;
  /** Answer the next N requests with HTTP 503 (an endpoint that is down). */
  fail503 = 0;
  /** Clip ids whose requests never get an answer (until the client gives up). */
  readonly hang = new Set<string>();
  delayMs: number;
  /** While set, replies wait here (hold() / release()): a job stays running until the test lets it go. */
  private held: Array<() => void> | undefined;
  /** Emits 'change' after every request counted and every aborted request. */
  readonly changes = new EventEmitter();
  private server: Server | undefined;
  url = '';

  /** Resolves once `cond` holds, re-checked at each request or abort (never on a timer). */
  until(cond: () => boolean, what: string): Promise<void> {
    return until(cond, [[this.changes, 'change']], what);
  }

  constructor(private readonly opts: FakeLlmOptions = {}) {
    this.delayMs = opts.delayMs ?? 0;
  }

  async start(): Promise<this> {
    const app = express();
    app.use(express.json({ limit: '4mb' }));
    app.post('/v1/chat/completions', (req, res) => {
      this.calls++;
      const body = req.body as Body;
      const all = body.messages.map((m) => m.content).join('\n');
      // the Detective tags each call with its clip's id (sent as `user`)
      const clip = body.user;
      if (clip !== undefined) this.byClip.set(clip, (this.byClip.get(clip) ?? 0) + 1);
      this.changes.emit('change');
      if (this.fail503 > 0) {
        this.fail503--;
        this.served503++;
        res.status(503).json({ error: { message: 'scripted outage' } });
        return;
      }
      if (clip !== undefined && this.hang.has(clip)) {
        // never answers; the client aborts
        res.on('close', () => {
          this.aborted++;
          this.changes.emit('change');
        });
        return;
      }
      let content: string;
      if (body.response_format === undefined) {
        const facts = /FACTS:\n([\s\S]*?)\n\n(?:Write the caption|Reply with the caption|An earlier caption)/.exec(all)?.[1] ?? '';
        content = `In this clip: ${facts.split('\n').join(' ')}`;
      } else {
        const asked = body.messages.filter((m) => m.role === 'assistant').length;
        const tools = this.opts.tools ?? ['signal'];
        content = asked < tools.length ? JSON.stringify({ tool: tools[asked], question: `What does ${tools[asked]} report about the clip?` }) : '{"tool":"finish","question":""}';
      }
      const reply = (): void => void res.json({ model: 'fake-detective', choices: [{ message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5 } });
      if (this.held !== undefined) {
        this.held.push(reply);
        res.on('close', () => {
          if (!res.writableFinished) {
            this.aborted++;
            this.changes.emit('change');
          }
        });
      } else if (this.delayMs > 0) setTimeout(reply, this.delayMs);
      else reply();
    });
    this.server = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  /** Replies wait from now on until release(). */
  hold(): void {
    this.held ??= [];
  }

  /** Sends the held replies (those whose client is still there) and answers at once again. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const reply of held) reply();
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
