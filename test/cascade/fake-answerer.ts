/**
 * Scripted deterministic answerer (tests only), speaking the cascade prompt: reads the description
 * and the lettered choices from the user message and picks the choice sharing the largest share of
 * its content words with the description (words right after "no", "not" or "without" do not count;
 * ties go to more shared words; still tied or no overlap: a pick by a hash of the question, a guess).
 * Results depend on the real caption content, so truth captions score high and empty ones near chance.
 */
import express from 'express';
import { OmnicapError, disposedError } from '../../src/errors';
import { throwIfAborted } from '../../src/util/abort';
import { hashString } from '../../src/cloze/prompt';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';
import { listenLoopback } from '../loopback';

const STOP = new Set('a an the of in on at to with and or is are it its this that from for by as no not about one'.split(' '));
const NEGATION = new Set(['no', 'not', 'without']);
const words = (s: string): string[] => (s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOP.has(w));

export function fakeAnswer(user: string): string {
  const desc = /<<<\n([\s\S]*?)\n>>>/.exec(user)?.[1] ?? '';
  const question = /Question: (.*)/.exec(user)?.[1] ?? '';
  const choices = [...user.matchAll(/^([A-Z])\. (.+)$/gm)].map((m) => ({ letter: m[1], words: words(m[2]) }));
  const all = (desc === '(empty description)' ? '' : desc).toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const have = new Set(all.filter((w, i) => !STOP.has(w) && !all.slice(Math.max(0, i - 2), i).some((p) => NEGATION.has(p))));
  const scored = choices.map((c) => {
    const shared = c.words.filter((w) => have.has(w)).length;
    return { ...c, shared, score: shared / Math.max(1, c.words.length) };
  });
  const best = Math.max(...scored.map((c) => c.score));
  const most = Math.max(...scored.filter((c) => c.score === best).map((c) => c.shared));
  const top = scored.filter((c) => c.score === best && c.shared === most);
  const pick = best > 0 && top.length === 1 ? top[0] : scored[hashString(question + choices.map((c) => c.letter).join('')) % scored.length];
  return JSON.stringify({ answer: pick.letter });
}

export class FakeAnswerer implements ChatModel {
  readonly id: string;
  calls = 0;
  readonly seen: ChatMessage[][] = [];
  private disposed = false;
  constructor(private readonly script: { garbageFirst?: number; failAlways?: boolean; id?: string } = {}) {
    this.id = script.id ?? 'fake-answerer';
  }

  async chat(messages: ChatMessage[], options: ChatOptions = {}): Promise<ChatResult> {
    throwIfAborted(options.signal);
    if (this.disposed) throw disposedError('the fake answerer');
    this.calls++;
    this.seen.push(messages.map((m) => ({ ...m })));
    if (this.script.failAlways === true) throw new OmnicapError('UPSTREAM_ERROR', 'answerer down');
    if (this.calls <= (this.script.garbageFirst ?? 0)) return { text: 'I think it is the second one.', model: this.id };
    return { text: fakeAnswer(messages[1].content), model: this.id };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

export interface FakeServer {
  url: string;
  hits: () => number;
  bodies: Array<{ messages: ChatMessage[]; response_format?: unknown; seed?: number }>;
  close: () => Promise<void>;
}

/**
 * The same answerer behind an OpenAI-compatible endpoint on loopback. `failFor(question)` makes
 * every request whose prompt contains that text fail with HTTP 500; `delayMs` slows each answer.
 */
export async function startFakeServer(o: { failFor?: string; delayMs?: number; model?: string } = {}): Promise<FakeServer> {
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  const bodies: FakeServer['bodies'] = [];
  let hits = 0;
  app.post('/v1/chat/completions', (req, res) => {
    hits++;
    const body = req.body as FakeServer['bodies'][number];
    bodies.push(body);
    const user = body.messages[body.messages.length - 1].content;
    const first = body.messages[1].content;
    if (o.failFor !== undefined && first.includes(o.failFor)) return void res.status(500).send('internal error');
    const reply = (): void => void res.json({ model: o.model ?? 'loopback-answerer', choices: [{ message: { role: 'assistant', content: fakeAnswer(body.messages.length > 2 ? first : user) }, finish_reason: 'stop' }] });
    if (o.delayMs !== undefined) setTimeout(reply, o.delayMs);
    else reply();
  });
  const endpoint = await listenLoopback(app);
  return { url: endpoint.url, hits: () => hits, bodies, close: endpoint.close };
}
