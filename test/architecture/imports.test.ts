/**
 * The import structure of src/ (scripts/check-imports.ts): no cycles, the declared layer order
 * (docs/architecture.md) with no upward or sibling imports, the CLI through module entry points.
 * The checker itself is tested on small fixtures: a planted cycle, an upward import, a deep CLI import.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { checkImports, findCycles, importGraph, LAYERS, moduleOf } from '../../scripts/check-imports';
import { packageRoot } from '../../src/util/paths';

describe('src/', () => {
  it('has no import cycles, no upward or sibling imports, and a CLI that uses entry points', () => {
    expect(checkImports(join(packageRoot(), 'src')).map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
  });

  it('the graph is real: imports resolve to files (entry points where the CLI imports), nothing imports the CLI', () => {
    const g = importGraph(join(packageRoot(), 'src'));
    expect(g.edges.get('cli/commands/detect.ts')).toEqual(expect.arrayContaining(['detective/index.ts', 'cli/detective-run.ts', 'errors.ts']));
    expect(g.edges.get('cli/detective-run.ts')).toEqual(expect.arrayContaining(['detective/index.ts', 'llm/index.ts']));
    expect(g.edges.get('media/types.ts')).toEqual([]);
    const intoCli = [...g.edges].filter(([from, to]) => !from.startsWith('cli/') && to.some((t) => t.startsWith('cli/')));
    expect(intoCli).toEqual([]);
    expect(LAYERS[0]).toEqual(['errors']);
    expect(LAYERS.at(-1)).toEqual(['cli', 'index']);
  });
});

describe('the checker', () => {
  let root: string;
  const write = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(root, 'src-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
  const rules = { layers: [['errors'], ['util'], ['engine'], ['server'], ['cli']], entryPointsFor: ['cli'] };
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'omnicap-imports-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds a planted cycle, type-only imports included', () => {
    const dir = write({
      'engine/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'engine/b.ts': "import type { C } from './c';\nexport const b = 1 as unknown as C;\n",
      'engine/c.ts': "import { a } from './a';\nexport type C = ReturnType<typeof a>;\n",
      'engine/d.ts': "import { a } from './a';\nexport const d = a;\n",
    });
    expect(findCycles(importGraph(dir))).toEqual([['engine/a.ts', 'engine/b.ts', 'engine/c.ts']]);
    expect(checkImports(dir, rules)).toEqual([{ kind: 'cycle', message: 'import cycle: engine/a.ts -> engine/b.ts -> engine/c.ts' }]);
  });

  it('finds a self-import and a cycle through dynamic import() and export-from', () => {
    const dir = write({
      'util/self.ts': "export * from './self';\n",
      'util/x.ts': "export async function x() { return import('./y'); }\n",
      'util/y.ts': "export { x } from './x';\n",
    });
    expect(findCycles(importGraph(dir))).toEqual([['util/self.ts'], ['util/x.ts', 'util/y.ts']]);
  });

  it('finds upward and sibling imports, unlayered modules and deep CLI imports', () => {
    const dir = write({
      'errors.ts': 'export class E extends Error {}\n',
      'util/u.ts': "import { s } from '../server/s';\nexport const u = s;\n",
      'engine/index.ts': "export { e } from './e';\n",
      'engine/e.ts': "import { E } from '../errors';\nexport const e = new E();\n",
      'server/s.ts': "import { e } from '../engine';\nexport const s = e;\n",
      'media/m.ts': 'export const m = 1;\n',
      'cli/main.ts': "import { e } from '../engine/e';\nimport { u } from '../util/u';\nimport { s } from '../server/s';\nexport const all = [e, u, s];\n",
    });
    const v = checkImports(dir, rules);
    expect(v).toEqual(
      expect.arrayContaining([
        { kind: 'upward', message: 'src/util/u.ts (util) imports src/server/s.ts (server, a higher layer)' },
        { kind: 'entry-point', message: "src/cli/main.ts imports src/engine/e.ts: import the module's entry point (an index.ts) instead" },
        { kind: 'entry-point', message: "src/cli/main.ts imports src/server/s.ts: import the module's entry point (an index.ts) instead" },
        { kind: 'unlayered', message: expect.stringContaining('src/media/m.ts: module "media" has no layer') },
      ]),
    );
    // util is imported file by file; server -> engine through its index is fine
    expect(v.filter((x) => x.message.includes('src/util/u.ts') && x.kind === 'entry-point')).toEqual([]);
    expect(v.filter((x) => x.message.startsWith('src/server/s.ts'))).toEqual([]);
    expect(v).toHaveLength(4);

    const siblings = write({ 'engine/a.ts': "import { b } from '../server/b';\nexport const a = b;\n", 'server/b.ts': 'export const b = 1;\n' });
    expect(checkImports(siblings, { layers: [['engine', 'server']] })).toEqual([{ kind: 'sibling', message: 'src/engine/a.ts (engine) imports src/server/b.ts (server, the same layer)' }]);
  });

  it('module overrides: a file counted in another module, and a stale override is reported', () => {
    expect(moduleOf('server/observers.ts', { 'server/observers.ts': 'observers' })).toBe('observers');
    expect(moduleOf('server/app.ts', { 'server/observers.ts': 'observers' })).toBe('server');
    expect(moduleOf('errors.ts')).toBe('errors');
    const dir = write({ 'util/a.ts': 'export const a = 1;\n' });
    expect(checkImports(dir, { layers: [['util'], ['observers']], overrides: { 'server/gone.ts': 'observers' } })).toEqual([{ kind: 'stale-override', message: 'MODULE_OVERRIDES names src/server/gone.ts, which does not exist: remove the entry' }]);
  });
});

describe('one definition per concept', () => {
  const files = (dir: string): string[] => {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ts|mjs)$/.test(e.name)) out.push(p);
      }
    };
    walk(dir);
    return out;
  };
  const sources = [...files(join(packageRoot(), 'src')), ...files(join(packageRoot(), 'scripts'))].map((f) => ({ file: relative(packageRoot(), f), text: readFileSync(f, 'utf8') }));
  const where = (re: RegExp): string[] => sources.flatMap(({ file, text }) => [...text.matchAll(re)].map(() => file));

  it.each([
    ['percentile', 'src/util/percentile.ts'],
    ['percentileOfSorted', 'src/util/percentile.ts'],
    ['isRecord', 'src/util/guards.ts'],
    ['sha256', 'src/util/hash.ts'],
    ['sha256File', 'src/util/hash.ts'],
    ['escapeHtml', 'src/util/html.ts'],
    ['formatDuration', 'src/util/progress.ts'],
    ['parseJsonlLines', 'src/util/jsonl.ts'],
    ['readInputText', 'src/util/jsonl.ts'],
  ])('%s is defined once, in %s', (name, file) => {
    expect(where(new RegExp(`(?:function\\s+${name}\\b|(?:const|let)\\s+${name}\\s*(?::[^=]+)?=\\s*(?:async\\s*)?(?:\\(|function))`, 'g'))).toEqual([file]);
  });

  it('no other guard, hash, escaper or duration formatter under another name', () => {
    const copies = /(?:function\s+|(?:const|let)\s+)(?:isObject|isPlainRecord|hashFile|esc|duration)\s*(?:\(|=\s*\()/g;
    // the pattern finds the shapes the copies had
    expect('const esc = (s: string) => s;\nfunction duration(s: number) {}\nfunction isObject(v) {}'.match(copies)).toHaveLength(3);
    expect(where(copies)).toEqual([]);
  });

  it('chat models are built only by the LLM factory', () => {
    // calls in code, not the words in a message string ("load it again with LocalChatModel.load()")
    const inCode = (text: string, at: number): boolean => {
      const before = text.slice(text.lastIndexOf('\n', at) + 1, at);
      return [...before].filter((ch) => ch === "'" || ch === '`').length % 2 === 0;
    };
    const calls = sources.flatMap(({ file, text }) => [...text.matchAll(/new OpenAIChatModel\(|LocalChatModel\.load\(/g)].filter((m) => inCode(text, m.index ?? 0)).map(() => file));
    expect(inCode("  throw x('again with LocalChatModel.load()');", 24)).toBe(false);
    expect([...new Set(calls)]).toEqual(['src/llm/factory.ts']);
  });
});
