/**
 * One set of ranges: at and around every bound of GENERATION_LIMITS, the server's request check,
 * the engine's option check and the `caption` command's flags accept and refuse the same values
 * (the CLI through the real command: a refused flag fails before the model loads; an accepted one
 * gets as far as loading the (missing) model).
 */
import { command as captionCommand } from '../../src/cli/commands/caption';
import { numberFlag } from '../../src/cli/args';
import { OmnicapError } from '../../src/errors';
import { CaptionsRequest, GENERATION_LIMITS, MAX_WINDOW_SECONDS, checkEngineOptions, inRange, type NumberRange } from '../../src/schema';
import { bodyChecker, generationParams } from '../../src/server/params';
import { captureIo } from '../cli/capture';
import { failure, probes } from './range-probes';

type Field = keyof typeof GENERATION_LIMITS;
const HTTP: Record<Field, string> = { maxNewTokens: 'max_tokens', temperature: 'temperature', topP: 'top_p', topK: 'top_k', seed: 'seed', windowSeconds: 'window_seconds', overlapSeconds: 'overlap_seconds' };
const FLAG: Record<Field, string> = { maxNewTokens: 'max-tokens', temperature: 'temperature', topP: 'top-p', topK: 'top-k', seed: 'seed', windowSeconds: 'window', overlapSeconds: 'overlap' };

const checkCaptionsBody = bodyChecker(CaptionsRequest);

function outcome(f: () => unknown): { ok: true } | { ok: false; code: string; parameter: unknown } {
  const err = failure(f);
  return err === undefined ? { ok: true } : { ok: false, code: err.code, parameter: err.details?.parameter };
}

async function cliOutcome(flag: string, value: number): Promise<'accepted' | 'refused'> {
  const e = await captionCommand.run(['/nonexistent/clip.wav', '--model', '/nonexistent/omnicap-model', `--${flag}=${value}`], captureIo()).then(
    () => undefined,
    (x: unknown) => x as OmnicapError,
  );
  if (e?.code === 'INVALID_ARGUMENT' && e.details?.parameter === `--${flag}`) return 'refused';
  expect(e?.code).toBe('MODEL_NOT_FOUND'); // past the flags, at the model load
  return 'accepted';
}

describe('GENERATION_LIMITS drive the server, the engine and the CLI alike', () => {
  for (const field of Object.keys(GENERATION_LIMITS) as Field[]) {
    test(`${field} / ${HTTP[field]} / --${FLAG[field]}`, async () => {
      const range: NumberRange = GENERATION_LIMITS[field];
      const rows: Array<{ value: number; expected: boolean; server: boolean; engine: boolean; cli: boolean }> = [];
      for (const value of probes(range)) {
        const server = outcome(() => generationParams(checkCaptionsBody({ data: 'x', [HTTP[field]]: value }, false)));
        const form = outcome(() => generationParams(checkCaptionsBody({ data: 'x', [HTTP[field]]: String(value) }, true)));
        const engine = outcome(() => checkEngineOptions({ [field]: value }));
        for (const o of [server, form, engine]) if (!o.ok) expect(o.code).toBe('INVALID_ARGUMENT');
        if (!server.ok) expect(server.parameter).toBe(HTTP[field]);
        if (!engine.ok) expect(engine.parameter).toBe(field);
        expect(form.ok).toBe(server.ok);
        rows.push({ value, expected: inRange(value, range), server: server.ok, engine: engine.ok, cli: (await cliOutcome(FLAG[field], value)) === 'accepted' });
      }
      for (const r of rows) expect(r).toEqual({ value: r.value, expected: r.expected, server: r.expected, engine: r.expected, cli: r.expected });
      expect(rows.some((r) => r.expected) && rows.some((r) => !r.expected)).toBe(true);
    });
  }

  test('the examples of the issue: top_p 0 and a 0.1 s window are refused everywhere', async () => {
    expect(await cliOutcome('top-p', 0)).toBe('refused');
    expect(await cliOutcome('window', 0.1)).toBe('refused');
    expect(outcome(() => checkEngineOptions({ topP: 0 }))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', parameter: 'topP' });
    expect(outcome(() => checkEngineOptions({ windowSeconds: 0.1 }))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', parameter: 'windowSeconds' });
    expect(outcome(() => checkCaptionsBody({ data: 'x', window_seconds: 0.1 }, false))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', parameter: 'window_seconds' });
  });

  test('windows advance by at least 1 s: window and overlap together, in each layer', async () => {
    expect(outcome(() => generationParams(checkCaptionsBody({ data: 'x', window_seconds: 2, overlap_seconds: 1.5 }, false)))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', parameter: 'overlap_seconds' });
    expect(outcome(() => checkEngineOptions({ windowSeconds: 2, overlapSeconds: 1.5 }))).toEqual({ ok: false, code: 'INVALID_ARGUMENT', parameter: 'overlapSeconds' });
    expect(outcome(() => checkEngineOptions({ windowSeconds: 2, overlapSeconds: 1 }))).toEqual({ ok: true });
    expect(outcome(() => checkEngineOptions({ overlapSeconds: MAX_WINDOW_SECONDS - 1 }))).toEqual({ ok: true });
    await expect(captionCommand.run(['/nonexistent/clip.wav', '--window', '2', '--overlap', '1.5'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: '--overlap' } });
  });

  test('numeric flags take plain decimal notation only, and say the range', () => {
    expect(numberFlag('top-k', '20', 0, GENERATION_LIMITS.topK)).toBe(20);
    expect(numberFlag('temperature', ' 0.7 ', 0, GENERATION_LIMITS.temperature)).toBe(0.7);
    for (const bad of ['0x10', 'Infinity', '1_0', '', ' ', '1e', 'NaN']) {
      expect(() => numberFlag('top-k', bad, 0, GENERATION_LIMITS.topK)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: `Expected an integer in [0, 1000000] for --top-k but received string ${JSON.stringify(bad)}` }));
    }
    // worded as the server words the same field (`Expected a number in (0, 1] for top_p but received number 0`)
    expect(() => numberFlag('top-p', '0', 1, GENERATION_LIMITS.topP)).toThrow('Expected a number in (0, 1] for --top-p but received number 0');
    const server = failure(() => checkCaptionsBody({ data: 'x', top_p: 0 }, false));
    expect(server?.message).toBe('Expected a number in (0, 1] for top_p but received number 0');
  });
});
