/** omnicap serve: the self-hosted caption endpoint (Express 5 app factory and its parts). */
export { createServer, type OmnicapServer, type ListenAddress, type ServerStats } from './app';
export { resolveServerOptions, SERVER_DEFAULTS, OPTION_RANGES, type ServerOptions, type ResolvedServerOptions } from './options';
export { Scheduler, Reservation, type SchedulerStats, type Release } from './scheduler';
export { ServerMetrics } from './metrics';
export { MediaRoots, isInside } from './media/paths';
export type { ErrorBody } from './http-errors';
