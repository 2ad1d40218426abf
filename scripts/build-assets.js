// After tsc: copies the non-TypeScript files the package runs from src/ (worker scripts: *.mjs, *.py;
// the review pages' and the demo page's HTML, ES modules, CSS and icon) to the same place under
// dist/src/, and makes the CLI entry executable.
'use strict';
const { chmodSync, copyFileSync, mkdirSync, readdirSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const root = join(__dirname, '..');
const ASSET = /\.(mjs|py|html|css|svg)$/;

function* assets(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* assets(p);
    else if (e.isFile() && ASSET.test(e.name)) yield p;
  }
}

for (const file of assets(join(root, 'src'))) {
  const out = join(root, 'dist', relative(root, file));
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(file, out);
}
chmodSync(join(root, 'dist', 'src', 'cli', 'main.js'), 0o755);
