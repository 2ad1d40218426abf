/**
 * Import-structure check of src/ (run by test/architecture/imports.test.ts, or alone:
 * `node dist/scripts/check-imports.js`):
 *
 * 1. no import cycles between files (type-only imports count: they are structure too);
 * 2. the layer order below: a module imports only modules of lower layers (never upward, never a
 *    sibling of the same layer);
 * 3. the CLI imports other modules through their entry points (an index.ts: `src/<module>/index.ts`
 *    or a nested one such as `src/detective/queue/index.ts`, or a light one of EXTRA_ENTRY_POINTS);
 *    `src/util/*` and `src/errors.ts` are single-purpose files and are imported directly.
 *
 * Imports are read with TypeScript's own pre-processor (static, dynamic `import()`, `export from`,
 * `require`); only relative specifiers are resolved (packages and node: builtins are outside src/).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { preProcessFile } from 'typescript';
import { packageRoot } from '../src/util/paths';

/**
 * Layers, lowest first (docs/architecture.md). A module is the first folder under src/ (or a
 * top-level file without its extension: `errors`, `index`).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors'],
  ['util'],
  ['native', 'schema'],
  ['media', 'features'],
  ['engine'],
  ['llm'],
  ['observers'],
  ['detective', 'cloze', 'export', 'bench'],
  ['cascade'],
  ['server'],
  ['cli', 'index'],
];

/** Files that belong to another module than their folder says (none today; a stale entry is reported). */
export const MODULE_OVERRIDES: Readonly<Record<string, string>> = {};

/** Modules the CLI may import file by file (no entry point: each file is one helper). */
const DIRECT_IMPORTS = new Set(['util', 'errors']);

/**
 * Light entry points besides index.ts: the schema ranges load in 2 ms, the schema index (TypeBox
 * and Ajv) in about 200 ms, and every command reads its flag ranges.
 */
export const EXTRA_ENTRY_POINTS: ReadonlySet<string> = new Set(['schema/limits.ts']);

export interface ImportGraph {
  /** src-relative file -> src-relative files it imports. */
  edges: Map<string, string[]>;
}

export interface Violation {
  kind: 'cycle' | 'upward' | 'sibling' | 'unlayered' | 'entry-point' | 'stale-override';
  message: string;
}

function sourceFiles(dir: string, root: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, root, out);
    else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

function resolveImport(root: string, from: string, spec: string): string | undefined {
  const base = resolve(root, dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate).split(sep).join('/');
  }
  return undefined;
}

/** The import graph of every source file under `root` (a src/ folder). */
export function importGraph(root: string): ImportGraph {
  const edges = new Map<string, string[]>();
  for (const file of sourceFiles(root, root)) {
    const info = preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map((i) => i.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveImport(root, file, s))
      .filter((t): t is string => t !== undefined);
    edges.set(file, [...new Set(targets)]);
  }
  return { edges };
}

/** Strongly connected components with more than one file (or a file importing itself): the cycles. */
export function findCycles(g: ImportGraph): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.edges.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...g.edges.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

export interface LayerRules {
  layers: readonly (readonly string[])[];
  overrides?: Readonly<Record<string, string>>;
  /** Modules whose imports of other modules must go through an index.ts. */
  entryPointsFor?: readonly string[];
  /** Files that count as entry points too (default {@link EXTRA_ENTRY_POINTS}). */
  extraEntryPoints?: ReadonlySet<string>;
}

export function moduleOf(file: string, overrides: Readonly<Record<string, string>> = {}): string {
  return overrides[file] ?? (file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.[mc]?ts$|\.mjs$/, ''));
}

/** Every rule broken in `root` (empty when the structure is sound). */
export function checkImports(root: string, rules: LayerRules = { layers: LAYERS, overrides: MODULE_OVERRIDES, entryPointsFor: ['cli'] }): Violation[] {
  const g = importGraph(root);
  const overrides = rules.overrides ?? {};
  const rank = new Map<string, number>();
  rules.layers.forEach((layer, i) => layer.forEach((m) => rank.set(m, i)));
  const violations: Violation[] = [];
  for (const file of Object.keys(overrides)) {
    if (!g.edges.has(file)) violations.push({ kind: 'stale-override', message: `MODULE_OVERRIDES names src/${file}, which does not exist: remove the entry` });
  }
  for (const cycle of findCycles(g)) violations.push({ kind: 'cycle', message: `import cycle: ${cycle.join(' -> ')}` });
  const entryPoints = new Set(rules.entryPointsFor ?? []);
  for (const [from, targets] of g.edges) {
    const a = moduleOf(from, overrides);
    const ra = rank.get(a);
    if (ra === undefined) {
      violations.push({ kind: 'unlayered', message: `src/${from}: module "${a}" has no layer; add it to LAYERS (scripts/check-imports.ts) and docs/architecture.md` });
      continue;
    }
    for (const to of targets) {
      const b = moduleOf(to, overrides);
      if (a === b) continue;
      const rb = rank.get(b);
      if (rb === undefined) continue; // reported for its own files
      if (rb > ra) violations.push({ kind: 'upward', message: `src/${from} (${a}) imports src/${to} (${b}, a higher layer)` });
      else if (rb === ra) violations.push({ kind: 'sibling', message: `src/${from} (${a}) imports src/${to} (${b}, the same layer)` });
      if (entryPoints.has(a) && !DIRECT_IMPORTS.has(b) && !to.endsWith('/index.ts') && !(rules.extraEntryPoints ?? EXTRA_ENTRY_POINTS).has(to)) {
        violations.push({ kind: 'entry-point', message: `src/${from} imports src/${to}: import the module's entry point (an index.ts) instead` });
      }
    }
  }
  return violations;
}

function main(): void {
  const v = checkImports(join(packageRoot(), 'src'));
  for (const x of v) process.stderr.write(`${x.kind}: ${x.message}\n`);
  process.stdout.write(v.length === 0 ? 'imports: no cycles, no upward or sibling imports, CLI through entry points\n' : `imports: ${v.length} violations\n`);
  process.exitCode = v.length === 0 ? 0 : 1;
}

if (require.main === module) main();
