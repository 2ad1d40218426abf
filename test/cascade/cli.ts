import { command } from '../../src/cli/commands/cascade';
import { runCommand } from '../cli/capture';

/** Run `omnicap cascade ...` in-process, capturing stdout/stderr. */
export const cli = (argv: string[]): Promise<{ code: number; out: string; err: string }> => runCommand(command, argv);
