/**
 * The in-process Detective a command line describes (`omnicap detect`, `omnicap serve
 * --detective`): its observers and LLM built once from the shared flags, one CPU gate for both,
 * the observation cache; `await using` releases them (observers' processes, the model).
 */
import { availableParallelism } from 'node:os';
import { createToolbox, CpuGate, defaultObservers, gateChatModel, ObservationCache, PROMPT_VERSION, type DetectiveToolbox } from '../detective';
import type { ObserverSpec, RunOptions } from '../detective/queue';
import { createLlm, llmStateDirFrom, parseThreads, resolveApiKey, type ChatModel, type LlmChoice } from '../llm';
import { InfraFailures } from '../util/failures';
import type { Logger } from '../util/log';
import { llmChoiceFrom, observerSpecFrom, runOptionsFrom, type RunFlags } from './run-spec';
import { vlmOptionsFrom } from './vlm-flags';

export interface DetectiveRun extends AsyncDisposable {
  /** The detective LLM, behind the CPU gate the observers share. */
  llm: ChatModel;
  toolbox: DetectiveToolbox;
  options: RunOptions;
}

/** A Detective run's flags, checked (before anything is loaded). */
export interface DetectiveRunSpec {
  options: RunOptions;
  observers: ObserverSpec;
  llm: LlmChoice;
  /** --llm-threads, when given. */
  threads?: number;
  /** --llm-state: the local model's saved-state directory (undefined: off). */
  stateDir?: string;
  flags: RunFlags & { cache?: string };
}

export function detectiveRunSpec(v: RunFlags & { cache?: string }): DetectiveRunSpec {
  const llm = llmChoiceFrom(v);
  // a saved state is the local model's: an endpoint run creates no state directory
  const stateDir = llm.kind === 'local' ? llmStateDirFrom(v['llm-state']) : undefined;
  return { options: runOptionsFrom(v, PROMPT_VERSION), observers: observerSpecFrom(v), llm, threads: parseThreads(v['llm-threads']), stateDir, flags: v };
}

/**
 * The run's observers, cache and LLM. `backgroundLlm`: a local model loads while the caller starts
 * (the first clip's observers run meanwhile); `llm.loaded` then tells when it is loaded or why not.
 */
export async function openDetectiveRun(run: DetectiveRunSpec, o: { workers: number; cacheDir: string; logger: Logger; backgroundLlm?: boolean }): Promise<DetectiveRun> {
  const { options, observers: spec, llm: llmChoice, flags: v } = run;
  const llmResources = {
    apiKey: resolveApiKey(v['llm-api-key'], 'llm'),
    // a local model gets every core: the CPU gate keeps the observers off them while a call runs
    threads: run.threads ?? availableParallelism(),
    // one KV sequence per concurrent clip: each clip's conversation re-evaluates only its new turns
    sequences: Math.min(o.workers, 8),
    stateDir: run.stateDir,
    background: o.backgroundLlm === true,
  };
  const observers = defaultObservers({
    captionerModelDir: spec.captioner,
    audioLm: spec.audioLm !== undefined ? { baseURL: spec.audioLm.url, model: spec.audioLm.model } : undefined,
    vlm: spec.vlm !== undefined ? vlmOptionsFrom(spec.vlm, v['vlm-api-key']) : undefined,
  }).filter((x) => spec.names.includes(x.name));
  // one core budget for the observers and a local LLM: concurrent clips overlap only on idle cores
  const cpu = new CpuGate(availableParallelism());
  const cache = await ObservationCache.open(v.cache ?? o.cacheDir);
  const toolbox = createToolbox({ observers, cache, cpu, failures: new InfraFailures(o.logger) });
  let llm: ChatModel;
  try {
    llm = await createLlm(llmChoice, llmResources);
  } catch (e) {
    await toolbox.dispose();
    throw e;
  }
  const dispose = async (): Promise<void> => {
    await toolbox.dispose();
    await llm.dispose();
  };
  return { llm: gateChatModel(llm, cpu), toolbox, options, [Symbol.asyncDispose]: dispose };
}
