/**
 * A whole annotation record as `omnicap detect` writes it (every field the annotation schema
 * requires), for tests that hand-write lines: `fields` replace the defaults.
 */
export function annotationRecord(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    status: 'ok',
    caption: '',
    synthesis: { mode: 'llm', source: fields.status === 'degraded' ? 'template' : 'llm' },
    omni_detective_trajectory: [],
    observers_offered: ['asr'],
    tool_calls: {},
    observer_calls: {},
    tokens: { prompt: 10, completion: 5 },
    llm_calls: 1,
    stages_ms: { fixed_reports: 1, rounds: 0, synthesis: 1 },
    seconds: 1,
    prompts: [],
    prompt_version: 'v4',
    models: { detective: 'm', observers: [] },
    seed: 0,
    ...fields,
  };
}
