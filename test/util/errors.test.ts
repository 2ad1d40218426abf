import { ERROR_CODES, OmnicapError, invalidParameterError, toOmnicapError } from '../../src/errors';
import { combineSignals, throwIfAborted } from '../../src/util/abort';
import { aborted } from '../wait';

describe('typed errors', () => {
  test('OmnicapError carries code, HTTP status and JSON without stack', () => {
    const e = new OmnicapError('MEDIA_NOT_FOUND', 'no such file: a.wav', { details: { path: 'a.wav' } });
    expect(e.code).toBe('MEDIA_NOT_FOUND');
    expect(e.status).toBe(ERROR_CODES.MEDIA_NOT_FOUND);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'MEDIA_NOT_FOUND', message: 'no such file: a.wav', details: { path: 'a.wav' } });
  });

  test('invalidParameterError says what was expected and what came', () => {
    expect(invalidParameterError('temperature', 'a number between 0 and 2', 'hot').message).toBe(
      'Expected a number between 0 and 2 for temperature but received string "hot"',
    );
    expect(invalidParameterError('samples', 'a Float32Array', new Int16Array(3)).message).toContain('Int16Array of length 3');
    expect(invalidParameterError('x', 'an object', null).code).toBe('INVALID_ARGUMENT');
  });

  test('toOmnicapError keeps typed errors and wraps others', () => {
    const typed = new OmnicapError('QUEUE_FULL', 'full');
    expect(toOmnicapError(typed)).toBe(typed);
    const wrapped = toOmnicapError(new Error('boom'), 'MODEL_RUN_FAILED');
    expect(wrapped.code).toBe('MODEL_RUN_FAILED');
    expect(wrapped.message).toBe('boom');
  });
});

describe('abort contract', () => {
  test('throwIfAborted maps aborts and timeouts to typed errors', async () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const c = new AbortController();
    expect(() => throwIfAborted(c.signal)).not.toThrow();
    c.abort();
    expect(() => throwIfAborted(c.signal)).toThrow(expect.objectContaining({ code: 'ABORTED' }));
    const t = AbortSignal.timeout(1);
    await aborted(t, 'the 1 ms timeout signal');
    expect(() => throwIfAborted(t)).toThrow(expect.objectContaining({ code: 'TIMEOUT' }));
  });

  test('combineSignals aborts when any input aborts or the timeout fires', async () => {
    expect(combineSignals([undefined])).toBeUndefined();
    const a = new AbortController();
    const s = combineSignals([a.signal, undefined], 10_000);
    expect(s?.aborted).toBe(false);
    a.abort();
    expect(s?.aborted).toBe(true);
    const timed = combineSignals([], 5);
    if (timed === undefined) throw new Error('combineSignals with a timeout gave no signal');
    await aborted(timed, 'the combined 5 ms timeout');
    expect(timed.aborted).toBe(true);
  });
});
