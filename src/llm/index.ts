/** Chat models behind one interface: OpenAI-compatible endpoints and an in-process local GGUF model. */
export * from './types';
export { OpenAIChatModel, isRetryableStatus, type OpenAIChatModelOptions } from './openai';
export { LocalChatModel, DEFAULT_LOCAL_MODEL_ID, defaultLocalModelPath, DEFAULT_LOCAL_CONTEXT, LOCAL_LIMITS, type LocalChatModelOptions } from './local';
export {
  createLlm,
  llmChoiceFromFlags,
  resolveApiKey,
  parseThreads,
  llmStateDirFrom,
  checkEndpointUrl,
  ggufModelId,
  API_KEY_ENV,
  type LlmChoice,
  type LlmFlags,
  type LlmFlagRules,
  type LlmResources,
  type LlmRole,
} from './factory';
export { defaultLlmStateDir, modelStateIdentity, MAX_SAVED_STATES } from './state';
export {
  withRetry,
  parseRetryAfter,
  backoffDelay,
  classifyRetryable,
  realSleep,
  DEFAULT_MAX_ATTEMPTS,
  type RetryPolicy,
  type RetryOptions,
  type RetryDecision,
  type RetryAttemptInfo,
  type SleepFn,
} from './retry';
