/** The server's loadable-resource helper: loading -> ready | failed, disposed, readiness of several. */
import { OmnicapError } from '../../src/errors';
import { Loadable, readinessOf } from '../../src/server/loadable';

interface Thing {
  id: string;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('Loadable', () => {
  it('a loader: loading until it resolves, then ready; load() starts it once', async () => {
    const gate = deferred<Thing>();
    let calls = 0;
    const ready: Array<[string, number]> = [];
    const r = new Loadable<Thing>({ name: 'the model', source: () => (calls++, gate.promise), onReady: (v, ms) => ready.push([v.id, ms]) });
    expect(r.lazy).toBe(true);
    expect(r.state).toEqual({ state: 'loading' });
    expect(calls).toBe(0);
    expect(() => r.require()).toThrow(expect.objectContaining({ code: 'NOT_READY', message: 'the model is still loading; retry shortly (see /readyz)' }));
    const a = r.load();
    const b = r.load();
    expect(a).toBe(b);
    expect(calls).toBe(1);
    gate.resolve({ id: 'm1' });
    expect(await a).toEqual({ id: 'm1' });
    expect(r.state).toEqual({ state: 'ready', value: { id: 'm1' } });
    expect(r.require()).toEqual({ id: 'm1' });
    expect(r.value).toEqual({ id: 'm1' });
    expect(r.notReadyError()).toBeUndefined();
    expect(ready).toHaveLength(1);
    expect(ready[0][0]).toBe('m1');
  });

  it('a failed load is typed, reported once, and answers NOT_READY naming the code', async () => {
    const failures: string[] = [];
    const r = new Loadable<Thing>({ name: 'the text LLM', source: () => Promise.reject(new OmnicapError('MODEL_NOT_FOUND', 'no such file')), onFailed: (e) => failures.push(e.code) });
    await expect(r.load()).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(r.state).toMatchObject({ state: 'failed', error: { code: 'MODEL_NOT_FOUND' } });
    expect(failures).toEqual(['MODEL_NOT_FOUND']);
    expect(() => r.require()).toThrow(expect.objectContaining({ code: 'NOT_READY', message: 'the text LLM failed to load (MODEL_NOT_FOUND); see the server log' }));
    // an untyped failure becomes a typed one
    const u = new Loadable<Thing>({ name: 'x', source: () => Promise.reject(new Error('boom')) });
    await expect(u.load()).rejects.toBeInstanceOf(OmnicapError);
  });

  it('dispose releases an owned value once; a value that arrives after dispose is released and load() fails', async () => {
    const released: string[] = [];
    const owned = new Loadable<Thing>({ name: 'the model', source: { id: 'given' }, release: (v) => void released.push(v.id) });
    expect(owned.lazy).toBe(false);
    await owned.load();
    await owned.dispose();
    await owned.dispose();
    expect(released).toEqual(['given']);
    expect(owned.state).toEqual({ state: 'disposed' });
    expect(() => owned.require()).toThrow(expect.objectContaining({ code: 'NOT_READY', message: 'the server is shutting down' }));

    const gate = deferred<Thing>();
    const late = new Loadable<Thing>({ name: 'the model', source: () => gate.promise, release: (v) => void released.push(v.id) });
    const loading = late.load();
    await late.dispose();
    gate.resolve({ id: 'late' });
    await expect(loading).rejects.toMatchObject({ code: 'DISPOSED', message: 'the server was disposed; it was closed while the model was loading' });
    expect(released).toEqual(['given', 'late']);
    expect(late.state).toEqual({ state: 'disposed' });

    const borrowed = new Loadable<Thing>({ name: 'the model', source: { id: 'caller-owned' } });
    await borrowed.load();
    await borrowed.dispose();
    expect(released).toEqual(['given', 'late']);
  });

  it('readinessOf: ready only when all are; otherwise the first one that is not, with its error', async () => {
    const gate = deferred<Thing>();
    const a = new Loadable<Thing>({ name: 'the model', source: { id: 'a' } });
    const b = new Loadable<Thing>({ name: 'the text LLM', source: () => gate.promise });
    expect(readinessOf([a, b])).toMatchObject({ state: 'loading', error: { code: 'NOT_READY', message: expect.stringMatching(/^the model is still loading/) } });
    await a.load();
    expect(readinessOf([a, undefined, b])).toMatchObject({ state: 'loading', error: { message: expect.stringMatching(/^the text LLM is still loading/) } });
    const loading = b.load();
    gate.reject(new OmnicapError('MODEL_INVALID', 'bad'));
    await expect(loading).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    expect(readinessOf([a, b])).toMatchObject({ state: 'failed', error: { message: 'the text LLM failed to load (MODEL_INVALID); see the server log' } });
    expect(readinessOf([a, undefined])).toEqual({ state: 'ready' });
  });
});
