/**
 * Hostile-but-plausible values shared by the property tests: the numbers, strings and JSON shapes
 * an attacker or a broken client sends (NaN/Infinity/negatives, huge or non-decimal numbers,
 * unicode and lone surrogates, prototype-pollution keys, nesting deep enough to overflow a
 * recursive walker), mixed with ordinary values so the valid paths are exercised too.
 */
import fc from 'fast-check';

/** Depth at which V8's recursive JSON.stringify overflows the stack in a jest worker (well above it). */
export const STACK_BREAKING_DEPTH = 20_000;

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, 0, 0.5, 1, 2, 30, 1e-300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, Number.MAX_VALUE, Number.MIN_VALUE),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double(),
);

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '\u0000', '\n', ...PROTO_KEYS, 'NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '0x10', '0b11', '1_000', '-0', ' 1 ', '1.', '.5', '+3', '\uD800', '\uDFFF\uD800', '🎵'.repeat(3), 'e\u0301', '\u202Etxt.exe', 'true', 'TRUE', 'null', '[object Object]'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('A', 'z', '0', '+', '/', '-', '_', '=', ' ', '\n', '%', ':', ';', ','), maxLength: 40 }),
);

/** An array or object nested `depth` levels deep (built iteratively: the generator itself never recurses). */
export function nested(depth: number, kind: 'array' | 'object', leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** The JSON text of {@link nested}, without ever calling JSON.stringify on the deep value. */
export function nestedJson(depth: number, kind: 'array' | 'object', leaf = '1'): string {
  return kind === 'array' ? '['.repeat(depth) + leaf + ']'.repeat(depth) : '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

export const deepValue: fc.Arbitrary<unknown> = fc
  .record({ depth: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(STACK_BREAKING_DEPTH)), kind: fc.constantFrom<'array' | 'object'>('array', 'object') })
  .map(({ depth, kind }) => nested(depth, kind));

/** An object parsed from JSON text with own prototype-pollution keys (as body-parser / JSON.parse produce them). */
export const protoKeyObject: fc.Arbitrary<Record<string, unknown>> = fc
  .record({ key: fc.constantFrom(...PROTO_KEYS), inner: fc.jsonValue({ maxDepth: 2 }) })
  .map(({ key, inner }) => JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(inner)}, "polluted": true}`) as Record<string, unknown>);

/** Any of the above, or ordinary JSON. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  hostileString,
  fc.boolean(),
  fc.constantFrom(null, undefined, [], {}),
  deepValue,
  protoKeyObject,
  fc.jsonValue({ maxDepth: 3 }),
);

/** Replaces `value` at one key of `target` (a shallow copy), or adds the key. */
export function withKey(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
  return out;
}

/** True when no prototype in reach was polluted by a parse (checked after every hostile run). */
export function prototypesClean(): boolean {
  const probe: Record<string, unknown> = {};
  return probe.polluted === undefined && ({} as { a?: unknown }).a === undefined && Object.getPrototypeOf(probe) === Object.prototype;
}
