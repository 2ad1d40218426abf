/** The core budget shared by a process's observers and its local LLM: never oversubscribed, fair, abortable. */
import { CpuGate, createToolbox, gateChatModel, runDetective } from '../../src/detective';
import type { Observer } from '../../src/observers';
import type { ChatModel } from '../../src/llm/types';
import { SPEECH } from './media';

/** A promise with its resolver, to hold work open until the test lets it go. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CpuGate', () => {
  it('never runs more than its cores at once, and serves waiters first come, first served', async () => {
    const gate = new CpuGate(2);
    const order: string[] = [];
    let peak = 0;
    const holds = new Map<string, ReturnType<typeof deferred>>();
    const job = (name: string, units: number): Promise<void> =>
      gate.run(units, async () => {
        order.push(name);
        peak = Math.max(peak, gate.busy);
        const d = deferred();
        holds.set(name, d);
        await d.promise;
      });
    const a = job('a', 1);
    const b = job('b', 2); // waits for a
    const c = job('c', 1); // would fit beside a, but b came first
    await Promise.resolve();
    expect(order).toEqual(['a']);
    holds.get('a')!.resolve();
    await a;
    await new Promise<void>((r) => setImmediate(r));
    expect(order).toEqual(['a', 'b']);
    holds.get('b')!.resolve();
    await b;
    await new Promise<void>((r) => setImmediate(r));
    expect(order).toEqual(['a', 'b', 'c']);
    holds.get('c')!.resolve();
    await c;
    expect(peak).toBe(2);
    expect(gate.busy).toBe(0);
  });

  it('asks for more cores than it has: runs with all of them; a waiter aborted leaves the queue', async () => {
    const gate = new CpuGate(2);
    const hold = deferred();
    const big = gate.run(8, async () => {
      expect(gate.busy).toBe(2);
      await hold.promise;
    });
    const ac = new AbortController();
    const waiting = gate.run(1, async () => 'never', ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    hold.resolve();
    await big;
    expect(await gate.run(1, async () => gate.busy)).toBe(1);
    expect(() => new CpuGate(0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('a local LLM (threads known) holds its cores per call; a remote one is not gated', async () => {
    const gate = new CpuGate(2);
    let seen = -1;
    const local: ChatModel = { id: 'local', threads: 2, chat: async () => ((seen = gate.busy), { text: 'x', model: 'local' }), dispose: async () => undefined, [Symbol.asyncDispose]: async () => undefined };
    await gateChatModel(local, gate).chat([{ role: 'user', content: 'hi' }]);
    expect(seen).toBe(2);
    const remote: ChatModel = { id: 'remote', chat: async () => ({ text: 'y', model: 'remote' }), dispose: async () => undefined, [Symbol.asyncDispose]: async () => undefined };
    expect(gateChatModel(remote, gate)).toBe(remote);
  });

  it('observers gathered up front share the budget: two 2-thread observers on 2 cores run one after the other', async () => {
    const gate = new CpuGate(2);
    let running = 0;
    let peak = 0;
    const heavy = (name: string): Observer => ({
      name,
      modality: 'audio',
      threads: 2,
      description: 'keeps two cores busy',
      async observe() {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => setImmediate(r));
        running--;
        return { answer: `${name} done` };
      },
    });
    const tools = createToolbox({ observers: [heavy('one'), heavy('two')], cpu: gate });
    const llm: ChatModel = { id: 'scripted', chat: async () => ({ text: 'A clip.', model: 'scripted' }), dispose: async () => undefined, [Symbol.asyncDispose]: async () => undefined };
    const r = await runDetective({ id: 'x', path: SPEECH }, llm, tools, { observerConcurrency: 2, synthesis: 'template' });
    expect(r.rounds.map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(peak).toBe(1);
    await tools.dispose();
  });
});
