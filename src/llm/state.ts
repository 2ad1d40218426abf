/**
 * Saved evaluation state of a local model's persistent conversations: prompts that begin with the
 * same text in every process (the Detective's synthesis instructions) are evaluated once per machine,
 * not once per process. The files live in a private directory of the user (util/trusted-file's
 * privateDir); each
 * is named by a hash of the model's identity and the conversation key, so a changed model file or
 * runtime never loads a state made by another.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../util/hash';
import { packageRoot } from '../util/paths';

/** `$XDG_CACHE_HOME/omnicap/llm-state`, else `~/.cache/omnicap/llm-state`. */
export function defaultLlmStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'omnicap', 'llm-state');
}

/** The default report of a saved state that cannot be used or written: a process warning with code OMNICAP_LLM_STATE. */
export function warnLlmState(message: string): void {
  process.emitWarning(message, { code: 'OMNICAP_LLM_STATE' });
}

/** Saved states kept per directory (the least recently used beyond this are deleted). */
export const MAX_SAVED_STATES = 8;

/**
 * What a saved state depends on: the model file (real path, size, modification time) and the
 * node-llama-cpp release that computed it.
 */
export function modelStateIdentity(modelPath: string): string {
  const real = realpathSync(modelPath);
  const st = statSync(real);
  const runtime = (JSON.parse(readFileSync(join(packageRoot(), 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')) as { version: string }).version;
  return sha256(`${real}\n${st.size}\n${st.mtimeMs}\nnode-llama-cpp ${runtime}`);
}
