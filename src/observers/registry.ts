/** Observer registries: a fixed list, and two registries composed. */
import type { Observer, ObserverInfo, ObserverRegistry } from './types';

function info(o: Observer): ObserverInfo {
  const i: ObserverInfo = { name: o.name, modality: o.modality, description: o.description };
  if (o.answersQuestions === true) i.answersQuestions = true;
  return i;
}

/** A registry over a fixed list of observers (names must be unique). */
export function staticObserverRegistry(observers: readonly Observer[]): ObserverRegistry {
  const byName = new Map<string, Observer>();
  for (const o of observers) {
    if (byName.has(o.name)) throw new TypeError(`duplicate observer name ${JSON.stringify(o.name)}`);
    byName.set(o.name, o);
  }
  return {
    list: () => [...byName.values()].map(info),
    get: (name) => byName.get(name),
  };
}

/** `first` wins on name clashes (the server puts the built-in captioner first). */
export function composeObserverRegistries(first: ObserverRegistry, second: ObserverRegistry | undefined): ObserverRegistry {
  if (second === undefined) return first;
  return {
    list: () => {
      const seen = new Set(first.list().map((o) => o.name));
      return [...first.list(), ...second.list().filter((o) => !seen.has(o.name))];
    },
    get: (name) => first.get(name) ?? second.get(name),
  };
}
