import { OmnicapError } from '../../errors';
import { loadDetectivePrompts, PROMPT_VERSION, prepareSynthesisState } from '../../detective';
import { createLlm, llmChoiceFromFlags, llmStateDirFrom, parseThreads } from '../../llm';
import { parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap prepare [options]

Evaluate the Detective's synthesis instructions with the local detective LLM once and save their
state, so that the first clip of every later detect, worker or serve --detective process on this
machine evaluates only its own facts (the instructions are ~360 of a clip's ~500 prompt tokens:
about 20 s on 2 cores). scripts/setup.sh runs it; without it the first process saves the state.

Options:
  --llm local|FILE.gguf the detective's local model (default: the embedded one); a state is saved
                        per model file
  --llm-threads N       CPU threads of the local model (default: every core)
  --llm-state DIR       where the state is saved (default $XDG_CACHE_HOME/omnicap/llm-state or
                        ~/.cache/omnicap/llm-state; a directory other users can write is refused)
  --prompt-version V    prompt files version (default ${PROMPT_VERSION})
`;

const options = {
  llm: { type: 'string' },
  'llm-threads': { type: 'string' },
  'llm-state': { type: 'string' },
  'prompt-version': { type: 'string' },
} as const;

export const command: CliCommand = {
  name: 'prepare',
  summary: "save the local detective LLM's evaluated synthesis instructions (once per machine)",
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values: v, positionals } = parseCommandArgs(argv, options);
    if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `unexpected argument ${JSON.stringify(positionals[0])}`);
    if (v['llm-state'] === 'off') throw new OmnicapError('INVALID_ARGUMENT', '--llm-state off leaves nothing to prepare');
    const stateDir = llmStateDirFrom(v['llm-state']);
    if (stateDir === undefined) throw new OmnicapError('UNTRUSTED_FILE', 'the default state directory cannot be used (see the warning); give --llm-state DIR');
    const choice = llmChoiceFromFlags({ llm: v.llm, threads: v['llm-threads'] }, { ggufFiles: true });
    const prompts = loadDetectivePrompts(v['prompt-version'] ?? PROMPT_VERSION);
    if (choice === undefined || choice.kind !== 'local') throw new OmnicapError('INVALID_ARGUMENT', 'prepare applies to a local model');
    const t0 = Date.now();
    await using llm = await createLlm(choice, { threads: parseThreads(v['llm-threads']), stateDir });
    const r = await prepareSynthesisState(llm, prompts, io.signal);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    io.stdout.write(`prepare: synthesis instructions of prompts ${prompts.synthesis.version} for ${choice.model}: a prompt of ${r.promptTokens} tokens, ${r.evaluatedTokens} evaluated${r.evaluatedTokens < r.promptTokens / 2 ? ' (a saved state held the rest)' : ''}; state in ${stateDir} (${seconds} s, model load included)\n`);
    return 0;
  },
};
