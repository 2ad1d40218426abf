/**
 * The two named scoring rules of a multiple-choice answer:
 * - `choice`: plain choice match, the predicted choice's text equals the answer's (case- and
 *   space-insensitive; duplicated choices, as in a few MMAU items, count as the same choice);
 * - `mmar`: the rule of MMAR's and MMAU's evaluation scripts (`string_match`): every word token
 *   of the answer is in the prediction and no token that only wrong choices have is.
 */
import { normalizeChoice } from './layout';

export type MatchRule = 'choice' | 'mmar';
export const MATCH_RULES: readonly MatchRule[] = ['choice', 'mmar'];

/** Python's `set(re.findall(r'\b\w+\b', text.lower()))`: lowercased runs of letters, digits and underscores. */
export function wordTokens(s: string): Set<string> {
  return new Set(s.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []);
}

const setEquals = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));

/** MMAR's string_match(answer, prediction, choices). */
export function mmarMatch(answer: string, prediction: string, choices: readonly string[]): boolean {
  const pred = wordTokens(prediction);
  const ans = wordTokens(answer);
  if (pred.size === 0) return false;
  const incorrect = new Set<string>();
  for (const c of choices) {
    const ct = wordTokens(c);
    if (setEquals(ct, ans)) continue;
    for (const t of ct) if (!ans.has(t)) incorrect.add(t);
  }
  return [...ans].every((t) => pred.has(t)) && ![...pred].some((t) => incorrect.has(t));
}

export function choiceMatch(answer: string, prediction: string): boolean {
  return normalizeChoice(answer) === normalizeChoice(prediction);
}

export function matches(rule: MatchRule, answer: string, prediction: string, choices: readonly string[]): boolean {
  return rule === 'choice' ? choiceMatch(answer, prediction) : mmarMatch(answer, prediction, choices);
}
