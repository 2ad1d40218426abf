import type { CliCommand } from './types';

/** Sub-commands, loaded lazily so `omnicap --help` and each command start fast. */
export const commandLoaders: Record<string, () => Promise<CliCommand>> = {
  probe: async () => (await import('./commands/probe')).command,
};
