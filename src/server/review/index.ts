/** `omnicap review`: annotation review and Omni-Cloze verification in the browser (a separate entry point: it loads no captioner). */
export { createReviewServer, detectReviewKind, type ReviewServer } from './app';
export { defaultVerifiedOutput, type ReviewKind, type ReviewServerOptions } from './input';
