import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/**
 * The omnicap package root (the directory holding omnicap's package.json), found by walking up
 * from this file. Works from src/ (ts-jest) and from dist/src/ (compiled) alike.
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'omnicap') {
        cachedRoot = dir;
        return dir;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`omnicap package root not found above ${__dirname}`);
    dir = parent;
  }
}

/** The embedded default captioner model directory (the tiny verification fixture). */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', 'tiny-random');
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
