/**
 * Annotation jobs over HTTP (`omnicap serve --detective`): POST /v1/annotations takes the media
 * forms of /v1/captions and answers 202 with the job's id; GET /v1/annotations/{id} is the job
 * (status, the rounds so far, the final record as `omnicap detect` writes it); its event stream
 * (GET /v1/annotations/{id}/events) carries `status`, `round`, `result` and `error` events.
 */
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { AnnotationLine, DetectiveRound, ReferenceAnnotationLine } from './annotation';
import { MediaFields } from './requests';
import { stringEnum } from './types';

const closed = <T extends TProperties>(properties: T, title: string): TObject<T> => Type.Object(properties, { additionalProperties: false, title });

export const ANNOTATION_JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type AnnotationJobStatus = (typeof ANNOTATION_JOB_STATUSES)[number];
export const AnnotationJobStatusSchema = stringEnum(ANNOTATION_JOB_STATUSES, {
  description: 'queued: accepted (journaled), waiting; running; done: the result is there; failed: error (and the error record as result); cancelled: by DELETE.',
});

export const AnnotationRequest = Type.Object(
  { ...MediaFields },
  { additionalProperties: false, title: 'annotation request', description: 'One clip for the Detective: exactly one of data, path, url (or, multipart, the file field).' },
);
export type AnnotationRequestBody = Static<typeof AnnotationRequest>;

export const AnnotationForm = Type.Object(
  { file: Type.Optional(Type.String({ format: 'binary', description: 'The media file.' })), ...AnnotationRequest.properties },
  { additionalProperties: false, title: 'annotation form' },
);

const JobError = closed({ code: Type.String({ description: 'Stable error code (src/errors.ts).' }), message: Type.String() }, 'job error');

export const AnnotationAccepted = closed({ id: Type.String(), status: Type.Literal('queued') }, 'annotation accepted');
export type AnnotationAcceptedBody = Static<typeof AnnotationAccepted>;

/** The final record: an annotation line (--format omnicap, the default) or a reference line (--format reference). */
export const AnnotationResult = Type.Union([AnnotationLine, ReferenceAnnotationLine], { title: 'annotation result', description: 'The line `omnicap detect` writes for the clip (its media.path is the name the client gave).' });

export const AnnotationJob = closed(
  {
    id: Type.String(),
    status: AnnotationJobStatusSchema,
    rounds: Type.Array(DetectiveRound, { description: 'The rounds finished so far (of the current attempt).' }),
    result: Type.Optional(AnnotationResult),
    error: Type.Optional(JobError),
    created_at: Type.String({ description: 'ISO 8601 time (UTC).' }),
    started_at: Type.Optional(Type.String({ description: 'ISO 8601 time (UTC).' })),
    finished_at: Type.Optional(Type.String({ description: 'ISO 8601 time (UTC).' })),
  },
  'annotation job',
);
export type AnnotationJobBody = Static<typeof AnnotationJob>;

/** The `data:` of each event of GET /v1/annotations/{id}/events, by event name. */
export const AnnotationStatusEvent = closed({ status: AnnotationJobStatusSchema }, 'annotation status event');
export const AnnotationErrorEvent = JobError;
