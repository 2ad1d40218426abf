/**
 * Structured logs (pino): one JSON object per line, `{"level":"info","time":"<ISO 8601>","pid":N,
 * "msg":"...", ...fields}`. Components take a {@link Logger} from their owner (the CLI command, the
 * server) and derive child loggers that carry their context (a request id, a queue job), so every
 * line says where it comes from. The level comes from a flag or `OMNICAP_LOG_LEVEL`.
 */
import pino from 'pino';
import { invalidParameterError } from '../errors';

export type Logger = pino.Logger;

/** Most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The environment variable read when no level flag is given. */
export const LOG_LEVEL_ENV = 'OMNICAP_LOG_LEVEL';

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}

/**
 * The level from a flag value, else from `OMNICAP_LOG_LEVEL`, else `fallback`; an unknown name is
 * an INVALID_ARGUMENT naming where it came from.
 */
export function resolveLogLevel(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, fallback: LogLevel = 'info'): LogLevel {
  const [value, source] = flag !== undefined ? [flag, '--log-level'] : [env[LOG_LEVEL_ENV], LOG_LEVEL_ENV];
  if (value === undefined || value === '') return fallback;
  if (!isLogLevel(value)) throw invalidParameterError(source, `one of ${LOG_LEVELS.join(', ')}`, value);
  return value;
}

/** A JSON-lines logger writing to `stream` (nothing at all when `stream` is undefined or the level is silent). */
export function createLogger(stream: NodeJS.WritableStream | undefined, level: LogLevel = 'info'): Logger {
  if (!isLogLevel(level)) throw invalidParameterError('logLevel', `one of ${LOG_LEVELS.join(', ')}`, level);
  const options: pino.LoggerOptions = {
    level,
    enabled: stream !== undefined && level !== 'silent',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return stream === undefined ? pino(options) : pino(options, stream);
}
