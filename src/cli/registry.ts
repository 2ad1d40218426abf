import type { CliCommand } from './types';

/** Sub-commands, loaded lazily so `omnicap --help` and each command start fast. */
export const commandLoaders: Record<string, () => Promise<CliCommand>> = {
  probe: async () => (await import('./commands/probe')).command,
  features: async () => (await import('./commands/features')).command,
  caption: async () => (await import('./commands/caption')).command,
  serve: async () => (await import('./commands/serve')).command,
  detect: async () => (await import('./commands/detect')).command,
  prepare: async () => (await import('./commands/prepare')).command,
  worker: async () => (await import('./commands/worker')).command,
  queue: async () => (await import('./commands/queue')).command,
  export: async () => (await import('./commands/export')).command,
  review: async () => (await import('./commands/review')).command,
  cloze: async () => (await import('./commands/cloze')).command,
  cascade: async () => (await import('./commands/cascade')).command,
  bench: async () => (await import('./commands/bench')).command,
};
