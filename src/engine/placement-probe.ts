/**
 * Runs ONNX Runtime's partitioner on one graph in a child process with verbose session logging and
 * returns what it printed: native log lines go to the process's stderr file descriptor, which a
 * Node process cannot read from inside itself. The child creates the session with the same options
 * as the engine (plus `logSeverityLevel: 0`) and is stopped as soon as the placement block has been
 * printed, before initializers are copied to the device, so the probe costs graph load and
 * optimisation, not a second model load.
 */
import { spawn } from 'node:child_process';
import { OmnicapError } from '../errors';
import { abortError } from '../util/abort';
import { hasPlacement, parsePlacementLog, type PlacementReport } from './placement';

/** The child: creates one session from JSON options, prints nothing itself except a failure line. */
const CHILD = `
const [ortPath, file, json] = process.argv.slice(1);
const ort = require(ortPath);
ort.InferenceSession.create(file, JSON.parse(json)).then((s) => s.release()).then(
  () => process.exit(0),
  (e) => { process.stderr.write('\\nOMNICAP_PROBE_ERROR ' + JSON.stringify(String((e && e.message) || e)) + '\\n'); process.exit(1); });
`;

const PLACEMENT_TAG = 'VerifyEachNodeIsAssignedToAnEp]';
const ERROR_RE = /OMNICAP_PROBE_ERROR (".*")/;

export type ProbeSessionOptions = Record<string, unknown>;

export interface PlacementProbe {
  report: PlacementReport;
  /** The verbose log up to the end of the placement block (kept for the gpu-check report). */
  log: string;
  /** True when the child was stopped after the placement block. */
  stoppedEarly: boolean;
}

export async function probePlacement(file: string, options: ProbeSessionOptions, signal?: AbortSignal): Promise<PlacementProbe> {
  const json = JSON.stringify({ ...options, logSeverityLevel: 0, logVerbosityLevel: 0 });
  const child = spawn(process.execPath, ['-e', CHILD, require.resolve('onnxruntime-node'), file, json], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let seenBlock = false;
  let stoppedEarly = false;
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.stderr.setEncoding('utf8');
      let pending = '';
      child.stderr.on('data', (chunk: string) => {
        if (stoppedEarly) return;
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line.includes(PLACEMENT_TAG)) seenBlock = true;
          else if (seenBlock) {
            stoppedEarly = true;
            child.kill('SIGKILL');
            return;
          }
          log += line + '\n';
        }
      });
      child.once('close', (c) => {
        if (!stoppedEarly) log += pending;
        resolve(c);
      });
    });
    if (signal?.aborted) throw abortError(signal);
    const failed = ERROR_RE.exec(log);
    if (!stoppedEarly && code !== 0) {
      const msg = failed ? (JSON.parse(failed[1]) as string) : `the probe process exited with code ${code}`;
      throw new OmnicapError('MODEL_RUN_FAILED', `onnxruntime could not create a session for ${file} while checking node placement: ${msg}`, { details: { file, ortMessage: msg } });
    }
    const report = parsePlacementLog(log);
    if (!hasPlacement(report)) {
      throw new OmnicapError('INTERNAL', `onnxruntime printed no node placement for ${file} at verbose log level (is this a minimal ORT build?)`, { details: { file } });
    }
    return { report, log, stoppedEarly };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
