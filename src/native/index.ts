/** The native addons: their typed interfaces and the one loader (test-load in a child process first). */
export * from './addons';
export { loadAddon, probeAddon, defaultAddonPaths, type AddonLoadResult, type LoadAddonOptions, type ProbeCall, type ProbeOutcome } from './loader';
