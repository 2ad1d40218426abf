/** Small TypeBox builders shared by the schemas of this folder. */
import { Type, type SchemaOptions, type Static, type TNull, type TOptional, type TSchema, type TUnion, type TUnsafe } from '@sinclair/typebox';
import type { NumberRange } from './limits';
import { UNSUPPORTED } from './validate';

/** A number (or integer) schema for a range of limits.ts. */
export function numberSchema(r: NumberRange, options: SchemaOptions = {}): TSchema {
  const keywords: SchemaOptions = {
    ...(r.min !== undefined ? { minimum: r.min } : {}),
    ...(r.above !== undefined ? { exclusiveMinimum: r.above } : {}),
    ...(r.max !== undefined ? { maximum: r.max } : {}),
    ...options,
  };
  return r.integer === true ? Type.Integer(keywords) : Type.Number(keywords);
}

/** A range-checked number whose static type is `number` (numberSchema, typed). */
export const rangedNumber = (r: NumberRange, options: SchemaOptions = {}): TUnsafe<number> => Type.Unsafe<number>(numberSchema(r, options));

/** An optional field where `null` means the same as absent (OpenAI clients send both). */
export const nullable = <T extends TSchema>(s: T, options: SchemaOptions = {}): TOptional<TUnion<[T, TNull]>> => Type.Optional(Type.Union([s, Type.Null()], options));

/** A string enum as one `enum` keyword (faster to check and clearer in errors than a union of consts). */
export const stringEnum = <const T extends readonly string[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** A union of objects told apart by `tag` (OpenAPI discriminator): errors name the branch's own field. */
export const taggedUnion = <T extends TSchema[]>(tag: string, branches: [...T], options: SchemaOptions = {}): TUnsafe<Static<TUnion<T>>> =>
  Type.Unsafe<Static<TUnion<T>>>({ type: 'object', oneOf: branches, discriminator: { propertyName: tag }, ...options });

/** A parameter omnicap does not implement: only its neutral values pass; anything else is 400 `why`. */
export const unsupported = <T extends TSchema[]>(why: string, neutral: [...T]): TOptional<TUnsafe<Static<TUnion<T>>>> =>
  Type.Optional(Type.Unsafe<Static<TUnion<T>>>(Type.Union(neutral, { [UNSUPPORTED]: why, description: `Not supported (${why}): accepted only at its neutral value.` })));
