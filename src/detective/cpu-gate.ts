/**
 * A budget of CPU cores shared by the work of one process (the local LLM's calls and the observers):
 * each piece of work waits until its cores are free instead of running beside others on cores that
 * are already busy. llama.cpp's and CTranslate2's threads spin while they wait, so oversubscribed
 * cores slow every job many times; with the gate, concurrent clips overlap only where cores are idle.
 */
import { abortError, throwIfAborted } from '../util/abort';
import { invalidParameterError } from '../errors';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../llm/types';

interface Waiter {
  units: number;
  grant: () => void;
}

export class CpuGate {
  private free: number;
  private readonly queue: Waiter[] = [];

  constructor(readonly cores: number) {
    if (!Number.isInteger(cores) || cores < 1) throw invalidParameterError('cores', 'an integer >= 1', cores);
    this.free = cores;
  }

  /** Cores in use now. */
  get busy(): number {
    return this.cores - this.free;
  }

  /** Runs `fn` holding `units` cores (at most all of them); waiters are served first come, first served. */
  async run<T>(units: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const n = Math.max(1, Math.min(this.cores, Math.floor(units)));
    await this.acquire(n, signal);
    try {
      return await fn();
    } finally {
      this.free += n;
      this.drain();
    }
  }

  private acquire(units: number, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    if (this.queue.length === 0 && this.free >= units) {
      this.free -= units;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(abortError(signal!));
        this.drain();
      };
      const waiter: Waiter = {
        units,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private drain(): void {
    while (this.queue.length > 0 && this.free >= this.queue[0].units) {
      const w = this.queue.shift()!;
      this.free -= w.units;
      w.grant();
    }
  }
}

/** A local LLM's calls under the gate, each holding the model's threads; a remote model (no `threads`) is returned as it is. */
export function gateChatModel(llm: ChatModel, gate: CpuGate): ChatModel {
  const units = llm.threads;
  if (units === undefined) return llm;
  return {
    id: llm.id,
    threads: units,
    ...(llm.loaded !== undefined ? { loaded: llm.loaded } : {}),
    get contextTokens() {
      return llm.contextTokens;
    },
    chat: (messages: ChatMessage[], options?: ChatOptions): Promise<ChatResult> => gate.run(units, () => llm.chat(messages, options), options?.signal),
    dispose: () => llm.dispose(),
    [Symbol.asyncDispose]: () => llm.dispose(),
  };
}
