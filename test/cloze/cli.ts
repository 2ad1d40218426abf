import { command } from '../../src/cli/commands/cloze';
import { runCommand } from '../cli/capture';

/** Run `omnicap cloze ...` in-process, capturing stdout/stderr. */
export const cli = (argv: string[]): Promise<{ code: number; out: string; err: string }> => runCommand(command, argv);
