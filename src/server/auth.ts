/** Optional bearer API keys, compared in constant time (sha256 digests + timingSafeEqual). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { OmnicapError } from '../errors';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function bearerAuth(apiKeys: readonly string[]) {
  const keys = apiKeys.map(digest);
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (keys.length === 0) return next();
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = digest(m?.[1] ?? '');
    // Compare against every key (no early exit) so timing does not reveal which key matched.
    let ok = m !== null;
    let any = false;
    for (const k of keys) any = timingSafeEqual(k, given) || any;
    ok = ok && any;
    if (!ok) {
      next(new OmnicapError('UNAUTHORIZED', m === null ? 'missing bearer token: send "Authorization: Bearer <api key>"' : 'invalid API key'));
      return;
    }
    next();
  };
}
