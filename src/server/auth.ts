/** Optional bearer API keys, compared in constant time (sha256 digests + timingSafeEqual). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { OmnicapError } from '../errors';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** True if the Authorization header carries one of the keys (always true without keys). */
export function bearerAllows(keys: readonly Buffer[], header: string | undefined): boolean {
  if (keys.length === 0) return true;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = digest(m?.[1] ?? '');
  // Compare against every key (no early exit) so timing does not reveal which key matched.
  let any = false;
  for (const k of keys) any = timingSafeEqual(k, given) || any;
  return m !== null && any;
}

export const keyDigests = (apiKeys: readonly string[]): Buffer[] => apiKeys.map(digest);

export function bearerAuth(apiKeys: readonly string[]) {
  const keys = keyDigests(apiKeys);
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (bearerAllows(keys, req.get('authorization'))) return next();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    next(new OmnicapError('UNAUTHORIZED', m === null ? 'missing bearer token: send "Authorization: Bearer <api key>"' : 'invalid API key'));
  };
}
