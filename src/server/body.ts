/**
 * Body parsing by content type: JSON (size-limited, malformed -> 400 INVALID_ARGUMENT) and, where
 * allowed, multipart uploads (multer memory storage, file field `file`, size-limited -> 413).
 * Anything else -> 415 UNSUPPORTED_MEDIA_TYPE.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { OmnicapError, invalidParameterError } from '../errors';
import { type MediaDeps, type MediaSource, decodeBase64, openServerFile, sourceFromUrl } from './media/source';
import { sendContinue } from './context';
import { jsonLimitBytes } from './options';
import { type Params, isPlainObject } from './params';

export interface BodyLimits {
  maxUploadBytes: number;
}

/** Multipart limit: the largest upload plus its form fields (32 x 64 KiB) and part headers. */
export function multipartLimitBytes(maxUploadBytes: number): number {
  return maxUploadBytes + 32 * 64 * 1024 + 64 * 1024;
}

export function parseBody(limits: BodyLimits, accept: { multipart: boolean }): RequestHandler {
  const json = express.json({ limit: jsonLimitBytes(limits.maxUploadBytes), strict: true, type: ['application/json', 'application/*+json'] });
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.maxUploadBytes, files: 1, fields: 32, fieldSize: 64 * 1024, parts: 40 },
  }).single('file');
  const expected = accept.multipart ? 'application/json or multipart/form-data' : 'application/json';
  return (req: Request, res: Response, next: NextFunction): void => {
    sendContinue(req, res);
    const type = req.get('content-type');
    if (type !== undefined && req.is(['application/json', 'application/*+json']) !== false) {
      json(req, res, (err?: unknown) => {
        if (err !== undefined) return next(err);
        if (!isPlainObject(req.body)) return next(invalidParameterError('body', 'a JSON object', req.body));
        next();
      });
      return;
    }
    if (accept.multipart && type !== undefined && req.is('multipart/form-data') !== false) {
      upload(req, res, (err?: unknown) => {
        if (err !== undefined) return next(err);
        // multer leaves req.body undefined when the form has no text fields
        if (!isPlainObject(req.body)) req.body = {};
        next();
      });
      return;
    }
    next(new OmnicapError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type === undefined ? '(none)' : JSON.stringify(type)} is not supported here; send ${expected}`));
  };
}

export interface MediaRequest {
  params: Params;
  fromForm: boolean;
  source: MediaSource;
}

/**
 * The media reference of a /v1/captions or /v1/observers request: exactly one of an uploaded
 * `file` (multipart), base64 `data`, a server-side `path`, or a `url` (data:, file://, http(s)).
 */
export async function mediaFromRequest(req: Request, deps: MediaDeps, signal: AbortSignal): Promise<MediaRequest> {
  const r = await optionalMediaFromRequest(req, deps, signal);
  if (r.source === undefined) throw new OmnicapError('INVALID_ARGUMENT', 'no media: upload a multipart `file`, or send JSON with base64 `data`, a server-side `path` or a `url`');
  return { params: r.params, fromForm: r.fromForm, source: r.source };
}

/** Like {@link mediaFromRequest}, but a request without media is allowed (text-only observers). */
export async function optionalMediaFromRequest(req: Request, deps: MediaDeps, signal: AbortSignal): Promise<{ params: Params; fromForm: boolean; source?: MediaSource }> {
  const params = req.body as Params;
  const fromForm = req.file !== undefined || req.is('multipart/form-data') !== false;
  const given = (['data', 'path', 'url'] as const).filter((k) => params[k] !== undefined && params[k] !== null && params[k] !== '');
  const count = given.length + (req.file !== undefined ? 1 : 0);
  if (count > 1) throw new OmnicapError('INVALID_ARGUMENT', `send exactly one media reference; got ${[...(req.file !== undefined ? ['file'] : []), ...given].join(', ')}`);
  if (count === 0) return { params, fromForm };
  if (req.file !== undefined) {
    const ext = /\.([A-Za-z0-9]{1,8})$/.exec(req.file.originalname ?? '')?.[1]?.toLowerCase();
    return { params, fromForm, source: { kind: 'bytes', data: req.file.buffer, origin: 'upload', ...(ext !== undefined ? { format: ext } : {}) } };
  }
  const key = given[0];
  if (key === 'data') return { params, fromForm, source: { kind: 'bytes', data: decodeBase64(params.data, 'data', deps.maxUploadBytes), origin: 'base64' } };
  if (key === 'path') {
    if (typeof params.path !== 'string') throw invalidParameterError('path', 'a string', params.path);
    return { params, fromForm, source: await openServerFile(params.path, deps, signal) };
  }
  return { params, fromForm, source: await sourceFromUrl(params.url, 'url', deps, signal) };
}
