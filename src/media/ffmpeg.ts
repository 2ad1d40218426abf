/**
 * The one place that runs ffmpeg / ffprobe.
 *
 * Binaries are spawned directly with node:child_process rather than through fluent-ffmpeg:
 * fluent-ffmpeg keeps the binary path in a module-global cache (`setFfmpegPath` writes
 * `cache.ffmpegPath` in lib/capabilities.js), so two calls with different `ffmpegPath` options
 * would race, and it spawns `ffmpeg -formats`/`-encoders` capability probes before the first
 * command. Direct spawning gives per-call binaries, SIGKILL on abort, and the stderr tail for errors.
 */
import { spawn } from 'node:child_process';
import { OmnicapError, type ErrorCode } from '../errors';
import { abortError, throwIfAborted } from '../util/abort';

export interface RunToolOptions {
  signal?: AbortSignal;
  /** Receives stdout chunks as they come; throwing kills the process and rejects with that error. */
  onStdout?: (chunk: Buffer) => void;
  /** Collect stdout into the result (default true when onStdout is not given). */
  captureStdout?: boolean;
  /** Called with the child's pid once spawned (diagnostics and tests). */
  onSpawn?: (pid: number) => void;
  /** A descriptor the child inherits as its fd 3 (an opened input file). */
  inheritFd?: number;
}

export type RunToolResult =
  | { ok: true; stdout: Buffer; stderr: string }
  | { ok: false; exitCode: number | null; exitSignal: NodeJS.Signals | null; stdout: Buffer; stderr: string };

/** Keep at most this many bytes of stderr (the tail). */
const STDERR_KEEP = 64 * 1024;

/**
 * Run a tool to completion. Resolves with ok:false on a non-zero exit (callers classify with
 * {@link ffmpegFailure}); rejects with FFMPEG_NOT_FOUND when the binary cannot be spawned, with
 * the abort error on abort, and with whatever `onStdout` threw.
 */
export function runTool(binary: string, args: string[], options: RunToolOptions = {}): Promise<RunToolResult> {
  const { signal, onStdout } = options;
  const capture = options.captureStdout ?? onStdout === undefined;
  throwIfAborted(signal);
  return new Promise<RunToolResult>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe', ...(options.inheritFd === undefined ? [] : [options.inheritFd])], windowsHide: true });
    const { stdout, stderr: stderrPipe } = child;
    if (stdout === null || stderrPipe === null) {
      child.kill('SIGKILL');
      reject(new OmnicapError('FFMPEG_FAILED', `Spawning ${binary} gave no output pipes`, { details: { binary } }));
      return;
    }
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const chunks: Buffer[] = [];
    let stderr = '';
    let failure: unknown;
    let settled = false;

    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const onAbort = (): void => {
      if (failure === undefined && signal !== undefined) failure = abortError(signal);
      kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    stdout.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return;
      if (capture) chunks.push(chunk);
      if (onStdout !== undefined) {
        try {
          onStdout(chunk);
        } catch (e) {
          failure = e;
          kill();
        }
      }
    });
    stderrPipe.setEncoding('utf8');
    stderrPipe.on('data', (text: string) => {
      stderr += text;
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        reject(new OmnicapError('FFMPEG_NOT_FOUND', `Expected an executable at ${JSON.stringify(binary)} but spawning it failed (${err.code})`, {
          details: { binary, errno: err.code },
          cause: err,
        }));
      } else {
        reject(new OmnicapError('FFMPEG_FAILED', `Spawning ${binary} failed: ${err.message}`, { details: { binary }, cause: err }));
      }
    });
    child.on('close', (code, sig) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      const stdout = Buffer.concat(chunks);
      if (code === 0) resolve({ ok: true, stdout, stderr });
      else resolve({ ok: false, exitCode: code, exitSignal: sig, stdout, stderr });
    });
  });
}

/** The last `maxLines` non-empty lines of a tool's stderr. */
export function stderrTail(stderr: string, maxLines = 15): string {
  return stderr
    .split(/\r?\n|\r/)
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-maxLines)
    .join('\n');
}

/** What the caller wanted from the media, used to pick the error code when a stream is missing. */
export type FfmpegPurpose = 'audio' | 'video' | 'probe';

/**
 * Map a failed ffmpeg/ffprobe run to a typed error. The message is short and names only
 * `inputLabel`; the stderr tail (which carries temp paths and heap addresses) goes into
 * `details.stderr` only, for logs. A run that exited with a status after reading the input is
 * the input's fault (MEDIA_*: the same code whether the bytes came as a path, an upload or a
 * buffer); FFMPEG_FAILED is left for a tool killed by a signal.
 */
export function ffmpegFailure(result: Extract<RunToolResult, { ok: false }>, purpose: FfmpegPurpose, inputLabel: string, head?: Uint8Array, formatHint?: string): OmnicapError {
  const tail = stderrTail(result.stderr);
  const container = (head !== undefined ? knownContainer(head) : undefined) ?? containerOfName(formatHint);
  let code: ErrorCode;
  let message: string;
  if (/matches no streams|does not contain any stream|Output file #0 does not contain/i.test(result.stderr)) {
    code = purpose === 'video' ? 'MEDIA_NO_VIDEO' : 'MEDIA_NO_AUDIO';
    message = `Expected ${inputLabel} to contain ${purpose === 'video' ? 'a video' : 'an audio'} stream but it has none`;
  } else if (/moov atom not found|partial file|Truncating packet|End of file|premature/i.test(result.stderr) && /Invalid data|error/i.test(result.stderr)) {
    code = 'MEDIA_CORRUPT';
    message = `Expected a decodable media file for ${inputLabel} but it is corrupt or truncated`;
  } else if (/Invalid data found when processing input/i.test(result.stderr) && container !== undefined) {
    // ffmpeg's probe depends on the name it was given (a temp file or descriptor has none): a file
    // that starts like, or is named as, a container we read but does not parse is corrupt,
    // whether it came as a path, an upload or a buffer
    code = 'MEDIA_CORRUPT';
    message = `Expected a decodable ${container} file for ${inputLabel} but it is corrupt or truncated`;
  } else if (/Invalid data found when processing input|Unknown input format|could not find codec parameters|no decoder found/i.test(result.stderr)) {
    code = 'MEDIA_UNSUPPORTED';
    message = `Expected an audio or video container ffmpeg can read for ${inputLabel} but the format is not recognised`;
  } else if (/No such file or directory/i.test(result.stderr)) {
    code = 'MEDIA_NOT_FOUND';
    message = `Expected an existing file for ${inputLabel} but ffmpeg could not open it`;
  } else if (result.exitCode !== null) {
    code = 'MEDIA_CORRUPT';
    message = `Expected a decodable media file for ${inputLabel} but ffmpeg rejected it (exit ${result.exitCode})`;
  } else {
    code = 'FFMPEG_FAILED';
    message = `ffmpeg was stopped by ${result.exitSignal ?? 'an unknown signal'} while reading ${inputLabel}`;
  }
  return new OmnicapError(code, message, {
    details: { stderr: tail, exitCode: result.exitCode, exitSignal: result.exitSignal, purpose },
  });
}

/** The container a file's first bytes announce (mp4/mov, Ogg, FLAC, Matroska/WebM, WAV, AIFF, MP3 with ID3), if any. */
export function knownContainer(head: Uint8Array): string | undefined {
  const at = (i: number, s: string): boolean => head.byteLength >= i + s.length && [...s].every((ch, k) => head[i + k] === ch.charCodeAt(0));
  if (at(4, 'ftyp') || at(4, 'moov') || at(4, 'mdat')) return 'MP4/QuickTime';
  if (at(0, 'OggS')) return 'Ogg';
  if (at(0, 'fLaC')) return 'FLAC';
  if (head.byteLength >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'Matroska/WebM';
  if (at(0, 'RIFF')) return 'RIFF';
  if (at(0, 'FORM')) return 'AIFF';
  if (at(0, 'ID3')) return 'MP3';
  return undefined;
}

const CONTAINER_EXTENSIONS: Record<string, string> = {
  mp4: 'MP4/QuickTime', m4a: 'MP4/QuickTime', m4v: 'MP4/QuickTime', mov: 'MP4/QuickTime', '3gp': 'MP4/QuickTime',
  ogg: 'Ogg', oga: 'Ogg', opus: 'Ogg', flac: 'FLAC', mkv: 'Matroska/WebM', webm: 'Matroska/WebM', mka: 'Matroska/WebM',
  wav: 'RIFF', aif: 'AIFF', aiff: 'AIFF', mp3: 'MP3', aac: 'AAC',
};

/** The container a file name's extension (or a bare format name such as `mp4`) claims, if any. */
export function containerOfName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const ext = /(?:^|\.)([A-Za-z0-9]{1,5})$/.exec(name)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : CONTAINER_EXTENSIONS[ext];
}

/** Lines of a successful run's stderr that look like decode problems (kept as warnings). */
export function decoderComplaints(stderr: string): string[] {
  return stderr
    .split(/\r?\n|\r/)
    .filter((l) => /partial file|invalid|corrupt|error|truncat/i.test(l))
    .map((l) => l.trim())
    .slice(-10);
}
