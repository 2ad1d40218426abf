/** Cascade QA: captions answer a benchmark's multiple-choice questions through a text-only LLM. */
export * from './layout';
export * from './match';
export * from './captions';
export * from './prompt';
export * from './answer';
export * from './eval';
export * from './score';
export * from './report';
export { captionerProducer, detectiveProducer } from './producers';
