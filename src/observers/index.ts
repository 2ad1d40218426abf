/**
 * Observers: the contract every perception tool implements, registries over them, and the
 * captioner observer. The Detective (src/detective/observers) provides the observers; the server
 * serves a registry of them over HTTP (src/server/routes/observers.ts).
 */
export type { ObserverModality, ObserverMedia, ObserveRequest, ObserveResult, ObserverInfo, Observer, ObserverRegistry } from './types';
export { staticObserverRegistry, composeObserverRegistries } from './registry';
export { CAPTIONER_OBSERVER, captionerObserver } from './captioner';
