/**
 * Validation with Ajv (JSON Schema 2020-12, OpenAPI discriminators) of the TypeBox schemas in this
 * folder. A failed check is one OmnicapError INVALID_ARGUMENT naming the field at fault
 * (`details.parameter`, e.g. `messages[0].content[1].input_audio.format`) with what was expected,
 * worded from the schema itself. Validators compile on first use, not at import.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { OmnicapError, invalidParameterError } from '../errors';
import { isRecord } from '../util/guards';
import { describeRange, parseDecimal } from './limits';

/** Schema annotation: the parameter is not implemented; only its neutral values validate. */
export const UNSUPPORTED = 'x-unsupported';

let shared: Ajv2020 | undefined;

function ajv(): Ajv2020 {
  shared ??= new Ajv2020({ discriminator: true, allErrors: false, verbose: true, strict: true, strictTypes: false, keywords: [UNSUPPORTED] });
  return shared;
}

type SchemaObject = Record<string, unknown>;

/** "a content part", "an error". */
const a = (words: string): string => `${/^[aeiou]/i.test(words) ? 'an' : 'a'} ${words}`;

/** What a value of this schema is, in words: "a number in (0, 1]", "one of wav, mp3", "a non-empty array of chat messages". */
export function describeSchema(s: unknown): string {
  if (!isRecord(s)) return 'a valid value';
  const branches = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (branches !== undefined) {
    if (typeof s.discriminator === 'object' && s.discriminator !== null && typeof (s.discriminator as SchemaObject).propertyName === 'string') {
      return `${typeof s.title === 'string' ? a(s.title) : 'an object'} with ${(s.discriminator as SchemaObject).propertyName as string} ${tagValues(s).join(', ')}`;
    }
    const words = [...new Set(branches.filter((b) => !(isRecord(b) && b.type === 'null')).map(describeSchema))];
    return words.length === 0 ? 'null' : words.join(' or ');
  }
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map(String).join(', ')}`;
  switch (s.type) {
    case 'integer':
    case 'number':
      return describeRange({
        integer: s.type === 'integer',
        ...(typeof s.minimum === 'number' ? { min: s.minimum } : {}),
        ...(typeof s.exclusiveMinimum === 'number' ? { above: s.exclusiveMinimum } : {}),
        ...(typeof s.maximum === 'number' ? { max: s.maximum } : {}),
      });
    case 'string':
      if (typeof s.maxLength === 'number') return `a string of at most ${s.maxLength} characters`;
      return typeof s.minLength === 'number' && s.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'array': {
      if (s.maxItems === 0) return 'an empty array';
      const of = isRecord(s.items) && typeof s.items.title === 'string' ? ` of ${s.items.title}s` : isRecord(s.items) && s.items.type === 'string' ? ' of strings' : '';
      return `${typeof s.minItems === 'number' && s.minItems > 0 ? 'a non-empty array' : 'an array'}${of}`;
    }
    case 'object':
      if (s.maxProperties === 0) return 'an empty object';
      return typeof s.title === 'string' ? `${a(s.title)} object` : 'an object';
    default:
      return 'a valid value';
  }
}

/** The tag values of a discriminated union's branches. */
function tagValues(s: SchemaObject): string[] {
  const tag = (s.discriminator as SchemaObject).propertyName as string;
  const branches = (Array.isArray(s.oneOf) ? s.oneOf : []) as unknown[];
  return branches.flatMap((b) => {
    const p = isRecord(b) && isRecord(b.properties) ? b.properties[tag] : undefined;
    if (!isRecord(p)) return [];
    return Array.isArray(p.enum) ? p.enum.map(String) : 'const' in p ? [String(p.const)] : [];
  });
}

type Segment = string | number;

/** JSON-pointer segments of an instance path, numbers where the value there is an array. */
function segmentsOf(pointer: string, root: unknown): Segment[] {
  if (pointer === '') return [];
  const out: Segment[] = [];
  let at: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(at) ? Number(key) : undefined;
    out.push(index !== undefined && Number.isInteger(index) ? index : key);
    at = isRecord(at) ? at[key] : Array.isArray(at) && index !== undefined ? at[index] : undefined;
  }
  return out;
}

/** `messages[0].content[1].type`; `prefix` names the validated value itself (e.g. `options`). */
export function paramName(segments: readonly Segment[], prefix = ''): string {
  let s = prefix;
  for (const seg of segments) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

/** The field an error is about: its instance path plus the property it names, if any. */
function errorSegments(e: ErrorObject, root: unknown): Segment[] {
  const base = segmentsOf(e.instancePath, root);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required' && typeof p.missingProperty === 'string') return [...base, p.missingProperty];
  if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') return [...base, p.additionalProperty];
  if (e.keyword === 'discriminator' && typeof p.tag === 'string') return [...base, p.tag];
  return base;
}

const isPrefix = (a: readonly Segment[], b: readonly Segment[]): boolean => a.length <= b.length && a.every((x, i) => x === b[i]);

function valueAt(root: unknown, segments: readonly Segment[]): unknown {
  let at = root;
  for (const seg of segments) at = Array.isArray(at) && typeof seg === 'number' ? at[seg] : isRecord(at) ? at[String(seg)] : undefined;
  return at;
}

/**
 * One typed error for Ajv's errors: the deepest field at fault (within unions Ajv reports every
 * branch; the deepest error is the one that explains the value), or, when an enclosing schema is
 * marked {@link UNSUPPORTED}, that parameter as not supported.
 */
export function schemaError(errors: readonly ErrorObject[], root: unknown, prefix = ''): OmnicapError {
  if (errors.length === 0) return new OmnicapError('INVALID_ARGUMENT', `invalid ${prefix === '' ? 'value' : prefix}`, prefix === '' ? {} : { details: { parameter: prefix } });
  let pick = errors[0];
  let pickSegs = errorSegments(pick, root);
  for (const e of errors.slice(1)) {
    const segs = errorSegments(e, root);
    if (segs.length >= pickSegs.length) [pick, pickSegs] = [e, segs];
  }
  for (const e of errors) {
    const why = e.parentSchema?.[UNSUPPORTED];
    const segs = segmentsOf(e.instancePath, root);
    if (typeof why === 'string' && isPrefix(segs, pickSegs)) {
      const param = paramName(segs, prefix);
      return new OmnicapError('INVALID_ARGUMENT', `${param} is not supported by omnicap: ${why}`, { details: { parameter: param } });
    }
  }
  const param = paramName(pickSegs, prefix);
  const p = pick.params as Record<string, unknown>;
  if (pick.keyword === 'additionalProperties') {
    // a request body (schema titled "... request") words it as OpenAI does
    const requestBody = pickSegs.length === 1 && prefix === '' && typeof pick.parentSchema?.title === 'string' && pick.parentSchema.title.endsWith(' request');
    const message = requestBody ? `unrecognized request argument supplied: ${param}` : `unrecognized field ${param}`;
    return new OmnicapError('INVALID_ARGUMENT', message, { details: { parameter: param } });
  }
  if (pick.keyword === 'required') {
    const props = pick.parentSchema?.properties as SchemaObject | undefined;
    return invalidParameterError(param, describeSchema(props?.[String(p.missingProperty)]), undefined);
  }
  if (pick.keyword === 'discriminator' && pick.parentSchema !== undefined) {
    return invalidParameterError(param, `one of ${tagValues(pick.parentSchema).join(', ')}`, valueAt(root, pickSegs));
  }
  return invalidParameterError(param, describeSchema(pick.parentSchema), pick.data);
}

/** A function that returns its input typed when it fits `schema`, else throws {@link schemaError}. */
export type Checker<T extends TSchema> = (value: unknown) => Static<T>;

/** Compile (on first call) a check of `schema`; `prefix` names the value in errors (`options.topP`). */
export function checker<T extends TSchema>(schema: T, prefix = ''): Checker<T> {
  let validate: ValidateFunction | undefined;
  return (value: unknown): Static<T> => {
    validate ??= ajv().compile(schema);
    if (validate(value)) return value as Static<T>;
    throw schemaError(validate.errors ?? [], value, prefix);
  };
}

/** JSON Schema types a property accepts (through unions). */
function acceptedTypes(s: unknown, out = new Set<string>()): Set<string> {
  if (!isRecord(s)) return out;
  if (typeof s.type === 'string') out.add(s.type);
  for (const b of [...(Array.isArray(s.anyOf) ? s.anyOf : []), ...(Array.isArray(s.oneOf) ? s.oneOf : [])]) acceptedTypes(b, out);
  return out;
}

/**
 * Form fields (multipart: every value a string) converted to what the schema's properties take:
 * plain decimal numbers (no `0x10`, no `Infinity`), booleans true/false/1/0; an empty field of a
 * non-string property is absent. A value that does not convert stays a string and fails the check
 * with its original text.
 */
export function fromFormFields(schema: TObject, fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const prop: unknown = schema.properties[key];
    if (typeof value !== 'string' || prop === undefined) {
      out[key] = value;
      continue;
    }
    const types = acceptedTypes(prop);
    if (types.has('string')) out[key] = value;
    else if (value.trim() === '') continue;
    else if (types.has('number') || types.has('integer')) out[key] = parseDecimal(value) ?? value;
    else if (types.has('boolean') && /^(true|false|1|0)$/i.test(value.trim())) out[key] = /^(true|1)$/i.test(value.trim());
    else out[key] = value;
  }
  return out;
}
