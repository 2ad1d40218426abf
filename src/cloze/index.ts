export * from './types';
export * from './format';
export * from './prompt';
export * from './judge';
export * from './eval';
export * from './score';
export * from './report';
export * from './build';
export { answerLetter, isReleasedLayout, parseReleasedClip, isPortJudgedRow, parsePortJudgedRow, type PortJudged } from './released';
