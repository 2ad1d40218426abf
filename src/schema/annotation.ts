/**
 * Annotation lines: what `omnicap detect` writes per clip (JSONL). `--format omnicap` (default):
 * an ok / degraded record with the caption and the trajectory, or an error record;
 * `--format reference`: the input item plus the reference Omni-Detective's chat transcript.
 */
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { stringEnum, taggedUnion } from './types';

const closed = <T extends TProperties>(properties: T, title: string): TObject<T> => Type.Object(properties, { additionalProperties: false, title });

const Id = Type.Unknown({ description: 'The input line\'s id (any JSON type), else the clip key.' });
const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));
const ErrorJson = closed({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, 'error');

/** One round of the detective's trajectory, by status. */
const Upfront = Type.Optional(Type.Literal(true, { description: 'A fixed report gathered before the decision rounds.' }));

export const DetectiveRound = taggedUnion(
  'status',
  [
    closed({ round: Type.Integer({ minimum: 0 }), status: Type.Literal('ok'), tool: Type.String(), question: Type.String(), answer: Type.String(), cached: Type.Boolean(), ms: Type.Number({ minimum: 0 }), data: Type.Optional(Type.Unknown()), upfront: Upfront }, 'observation round'),
    closed({ round: Type.Integer({ minimum: 0 }), status: Type.Literal('observer_error'), tool: Type.String(), question: Type.String(), error: ErrorJson, ms: Type.Number({ minimum: 0 }), upfront: Upfront }, 'observer error round'),
    closed({ round: Type.Integer({ minimum: 0 }), status: Type.Literal('invalid_output'), raw: Type.String(), error: ErrorJson, ms: Type.Number({ minimum: 0 }) }, 'invalid output round'),
    closed({ round: Type.Integer({ minimum: 0 }), status: Type.Literal('finish'), reason: Type.String(), ms: Type.Number({ minimum: 0 }) }, 'finish round'),
  ],
  { title: 'detective round' },
);

const CaptionCheck = closed(
  {
    ok: Type.Boolean(),
    reasons: Type.Array(Type.String()),
    metrics: closed(
      {
        echo: Type.Number(),
        repetition: Type.Number(),
        grounding: Type.Number(),
        transcriptRecall: Type.Union([Type.Number(), Type.Null()]),
        onScreenRecall: Type.Union([Type.Number(), Type.Null()]),
        unreliableQuoted: Type.Union([Type.Number(), Type.Null()]),
      },
      'check metrics',
    ),
  },
  'caption check',
);

const Synthesis = stringEnum(['llm', 'template'] as const);

/** Per caption sentence, the observations that support it (none: `supported: false`). */
export const ClaimProvenance = closed(
  {
    sentence: Type.String(),
    start: Type.Integer({ minimum: 0, description: 'Character offset of the sentence in the caption.' }),
    end: Type.Integer({ minimum: 0, description: 'Character offset just past the sentence.' }),
    supported: Type.Boolean(),
    evidence: Type.Array(
      closed(
        {
          round: Type.Integer({ minimum: 0, description: 'The trajectory round (0: the media probe: streams and length).' }),
          tool: Type.String({ description: 'The observer (or "media").' }),
          start_seconds: Type.Optional(Type.Number({ minimum: 0 })),
          end_seconds: Type.Optional(Type.Number({ minimum: 0 })),
          text: Type.Optional(Type.String({ description: 'What the observation stated: the segment, string, event or measurement.' })),
        },
        'claim evidence',
      ),
    ),
  },
  'claim provenance',
);
/** A caption sentence with its evidence, as the Detective writes it and the review UI reads it. */
export type ClaimProvenance = Static<typeof ClaimProvenance>;
/** One observation a caption sentence rests on (its round, observer and the span or text it gave). */
export type ProvenanceEvidence = ClaimProvenance['evidence'][number];

/** `--format omnicap`, a clip with a caption (status ok, or degraded with the reasons). */
export const AnnotationRecord = closed(
  {
    id: Id,
    status: stringEnum(['ok', 'degraded'] as const),
    media: closed({ path: Type.String(), url: Type.Optional(Type.String()), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }), duration_seconds: Type.Number({ minimum: 0 }), has_audio: Type.Boolean(), has_video: Type.Boolean() }, 'media'),
    input: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The input line as read.' })),
    caption: Type.String(),
    degraded_reasons: Type.Optional(Type.Array(Type.String())),
    synthesis: closed(
      {
        mode: Synthesis,
        source: Synthesis,
        check: Type.Optional(CaptionCheck),
        rejected_caption: Type.Optional(Type.String()),
        first_attempt: Type.Optional(closed({ caption: Type.String(), reasons: Type.Array(Type.String()) }, 'first attempt')),
      },
      'synthesis',
    ),
    omni_detective_trajectory: Type.Array(DetectiveRound),
    provenance: Type.Optional(Type.Array(ClaimProvenance, { description: 'For each caption sentence, the observations that support it.' })),
    observers_offered: Type.Array(Type.String()),
    tool_calls: Counts,
    observer_calls: Counts,
    tokens: closed({ prompt: Type.Integer({ minimum: 0 }), completion: Type.Integer({ minimum: 0 }), evaluated: Type.Optional(Type.Integer({ minimum: 0, description: 'Prompt tokens the LLM evaluated (the rest came from a kept KV prefix).' })) }, 'tokens'),
    llm_calls: Type.Integer({ minimum: 0 }),
    stages_ms: closed({ fixed_reports: Type.Number({ minimum: 0 }), rounds: Type.Number({ minimum: 0 }), synthesis: Type.Number({ minimum: 0 }) }, 'stage times'),
    seconds: Type.Number({ minimum: 0 }),
    prompts: Type.Array(closed({ name: Type.String(), version: Type.String(), sha256: Type.String() }, 'prompt')),
    prompt_version: Type.String(),
    models: closed({ detective: Type.String(), observers: Type.Array(Type.String({ description: 'An observer offered: its name, or name:model for one backed by a chosen model (e.g. vlm:qwen2.5-vl-7b).' })) }, 'models'),
    seed: Type.Integer(),
  },
  'annotation record',
);

/** `--format omnicap`, a clip that failed (the rounds it finished are kept). */
export const AnnotationError = closed(
  {
    id: Id,
    status: Type.Literal('error'),
    media: closed({ path: Type.String(), url: Type.Optional(Type.String()) }, 'media'),
    input: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: ErrorJson,
    omni_detective_trajectory: Type.Optional(Type.Array(DetectiveRound)),
    seconds: Type.Number({ minimum: 0 }),
    prompt_version: Type.String(),
    models: closed({ detective: Type.String() }, 'models'),
    seed: Type.Integer(),
  },
  'annotation error',
);

export const AnnotationLine = taggedUnion('status', [AnnotationRecord, AnnotationError], { title: 'annotation line' });
export type AnnotationLineBody = Static<typeof AnnotationLine>;

/**
 * `--format reference`: the input item's fields unchanged plus `omni_detective_trajectory`, the
 * detective's conversation ending with the caption JSON-encoded (as the reference writes it).
 */
export const ReferenceAnnotationLine = Type.Object(
  {
    omni_detective_trajectory: Type.Array(closed({ role: stringEnum(['system', 'user', 'assistant'] as const), content: Type.String() }, 'message'), { minItems: 1 }),
    omnicap: Type.Optional(closed({ status: Type.Literal('degraded'), degraded_reasons: Type.Array(Type.String()) }, 'omnicap status')),
  },
  { title: 'reference annotation line' },
);
