/** Versioned prompt files (prompts/detective/<name>.<version>.md), loaded by version and hashed. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OmnicapError } from '../errors';
import { sha256 } from '../util/hash';
import { packageRoot } from '../util/paths';
import type { PromptRecord } from './types';

export const PROMPT_VERSION = 'v5';
export type DetectivePromptName = 'agent' | 'round' | 'reask' | 'synthesis' | 'revise';

export interface PromptTemplate extends PromptRecord {
  text: string;
}

/** Load one prompt template; `dir` defaults to <package>/prompts/detective. */
export function loadPrompt(name: DetectivePromptName, version: string = PROMPT_VERSION, dir?: string): PromptTemplate {
  if (!/^v[0-9]+$/.test(version)) throw new OmnicapError('INVALID_ARGUMENT', `prompt version must look like v1, got ${JSON.stringify(version)}`);
  const file = join(dir ?? join(packageRoot(), 'prompts', 'detective'), `${name}.${version}.md`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OmnicapError('NOT_FOUND', `prompt file not found: ${file}`, { cause: e });
  }
  return { name, version, sha256: sha256(text), text };
}

/** Replace every {{key}}; an unknown or missing key is an error (a template/code mismatch). */
export function renderPrompt(template: PromptTemplate, vars: Record<string, string>): string {
  return template.text.replace(/\{\{([a-z_]+)\}\}/g, (_m, key: string) => {
    const v = vars[key];
    if (v === undefined) throw new OmnicapError('INTERNAL', `prompt ${template.name}.${template.version} needs {{${key}}}`);
    return v;
  }).trimEnd();
}

export interface DetectivePrompts {
  agent: PromptTemplate;
  round: PromptTemplate;
  reask: PromptTemplate;
  synthesis: PromptTemplate;
  /** The one revision of a caption that failed its checks (v3 on; absent in v2). */
  revise?: PromptTemplate;
}

/** Versions before v3 have no `revise` prompt. */
const HAS_REVISE = (version: string): boolean => Number(version.slice(1)) >= 3;

export function loadDetectivePrompts(version: string = PROMPT_VERSION, dir?: string): DetectivePrompts {
  const p: DetectivePrompts = { agent: loadPrompt('agent', version, dir), round: loadPrompt('round', version, dir), reask: loadPrompt('reask', version, dir), synthesis: loadPrompt('synthesis', version, dir) };
  if (HAS_REVISE(version)) p.revise = loadPrompt('revise', version, dir);
  return p;
}

export function promptRecords(p: DetectivePrompts): PromptRecord[] {
  return [p.agent, p.round, p.reask, p.synthesis, ...(p.revise !== undefined ? [p.revise] : [])].map(({ name, version, sha256 }) => ({ name, version, sha256 }));
}
