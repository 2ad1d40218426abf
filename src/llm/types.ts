/**
 * One interface for every text LLM the pipelines use (Detective agent, Cloze judge, Cloze
 * builder): an OpenAI-compatible endpoint, an in-process local model, or a scripted fake in tests.
 */
export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatOptions {
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  /** Ask for a JSON object response when the backend supports it. */
  json?: boolean;
  /**
   * JSON schema the reply must satisfy (implies `json`). The local model enforces it with a
   * grammar; OpenAI-compatible endpoints get `response_format: json_schema`.
   */
  jsonSchema?: object;
  /**
   * Conversation key: calls with the same key extend one conversation, so a backend that keeps
   * state (the local model's KV sequences) re-evaluates only the new messages. Ignored elsewhere.
   */
  conversation?: string;
  /**
   * Text the last message begins with, the same for every item (instructions before the item's
   * data). A backend that keeps state evaluates it once as the conversation's base and evaluates this
   * call from that base, after erasing what earlier calls left after it: the reply is the one a fresh
   * process gives at the same seed, whatever ran before. A later call without `base` on the
   * conversation (a follow-up such as a revision) continues after this one. Needs `conversation`.
   * Ignored by backends without state.
   */
  base?: string;
  /**
   * With `base`: the base is the same in every process. A local model with a state directory saves
   * the base's evaluated state once and starts later processes from it, so that text is evaluated
   * once per machine. A key whose base changes must change too. Ignored elsewhere.
   */
  persist?: boolean;
  /**
   * `prose`: the reply is paragraphs of plain text (no markdown headings, lists, emphasis or tables).
   * The local model enforces it with a grammar; other backends get only the prompt's instructions.
   */
  format?: 'prose';
  /**
   * An opaque label of the work the call belongs to (the Detective passes the clip's id). Sent to
   * OpenAI-compatible endpoints as `user`, so an endpoint's logs can be joined with the output lines.
   */
  tag?: string;
  /**
   * Stop generating when the reply repeats one of its own sentences (30+ characters) and return what
   * came before the repeat, with finishReason `repetition` (local backend only; a looping small model
   * would otherwise run to maxTokens).
   */
  stopOnRepeat?: boolean;
  /** Repetition penalty (local backend only; default off). */
  repeatPenalty?: number;
  signal?: AbortSignal;
}

export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  /**
   * Prompt tokens the backend actually evaluated for this call, where it reports it: fewer than
   * `promptTokens` when a kept prefix (the same conversation, a shared instruction block) was reused.
   */
  evaluatedTokens?: number;
}

export interface ChatResult {
  text: string;
  model: string;
  usage?: ChatUsage;
  finishReason?: string;
}

/**
 * A text LLM. Its owner disposes it (`dispose()` or `await using`): a local model's process ends,
 * and every later `chat()` rejects with `DISPOSED`. Disposing twice is a no-op.
 */
export interface ChatModel extends AsyncDisposable {
  /** Model identifier recorded in every output line. */
  readonly id: string;
  /** Context window in tokens, where the backend knows it (prompts are budgeted against it). */
  readonly contextTokens?: number;
  /** CPU threads a call keeps busy on this machine (a local model); undefined for a remote endpoint. */
  readonly threads?: number;
  /** A model loading in the background: resolves once it is loaded, rejects when it cannot load. */
  readonly loaded?: Promise<void>;
  chat(messages: ChatMessage[], options?: ChatOptions): Promise<ChatResult>;
  dispose(): Promise<void>;
}
