/**
 * Optional API keys on /v1/*, compared in constant time (sha256 digests + timingSafeEqual).
 * Accepted forms: `Authorization: Bearer <key>` (OpenAI SDKs) and `Authorization: <key>` (a bare
 * key, as the reference Omni-Detective scripts and DashScope-style clients send it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { OmnicapError } from '../errors';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The key of an Authorization header value, or undefined when it carries none. */
export function keyFromAuthorization(header: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer !== null) return bearer[1];
  const bare = /^\s*(\S+)\s*$/.exec(header);
  if (bare !== null && !/^bearer$/i.test(bare[1])) return bare[1];
  return undefined;
}

/** True if the Authorization header carries one of the keys, as a bearer token or bare (always true without keys). */
export function bearerAllows(keys: readonly Buffer[], header: string | undefined): boolean {
  if (keys.length === 0) return true;
  const key = keyFromAuthorization(header ?? '');
  const given = digest(key ?? '');
  // Compare against every key (no early exit) so timing does not reveal which key matched.
  let any = false;
  for (const k of keys) any = timingSafeEqual(k, given) || any;
  return key !== undefined && any;
}

export const keyDigests = (apiKeys: readonly string[]): Buffer[] => apiKeys.map(digest);

export function bearerAuth(apiKeys: readonly string[]) {
  const keys = keyDigests(apiKeys);
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (bearerAllows(keys, req.get('authorization'))) return next();
    const key = keyFromAuthorization(req.get('authorization') ?? '');
    next(new OmnicapError('UNAUTHORIZED', key === undefined ? 'missing API key: send "Authorization: Bearer <api key>" (or the bare key)' : 'invalid API key'));
  };
}
