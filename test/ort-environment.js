/**
 * Jest environment for tests that run onnxruntime-node. The native binding creates output typed
 * arrays with the main realm's constructors while onnxruntime-common (loaded inside the test's vm
 * context) checks them with `instanceof` against the context's constructors and throws
 * "A float32 tensor's data must be type of function Float32Array()". Sharing the main realm's
 * typed-array constructors with the test context removes the mismatch.
 * Node 20 defines Symbol.dispose / Symbol.asyncDispose on the main realm's Symbol only (V8 has no
 * native ones yet); the test context gets the same symbols, so `using` / `await using` in tests and
 * the library's `[Symbol.asyncDispose]` methods mean what they mean under plain node (and match
 * Node's own disposables, e.g. fs FileHandle).
 * Each test file gets its own empty XDG_CACHE_HOME (also seen by the processes it starts), so a
 * saved LLM state (src/llm/state.ts) never crosses from one test file or run to another; tools
 * installed once per machine (scripts/lint-dockerfile.sh's hadolint) stay where they were.
 * It is the default test environment of every suite (jest.config.js).
 */
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { homedir, tmpdir } = require('node:os');
const { join } = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    const home = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
    process.env.OMNICAP_TOOLS_DIR = process.env.OMNICAP_TOOLS_DIR || join(home, 'omnicap', 'tools');
    const cache = mkdtempSync(join(tmpdir(), 'omnicap-test-cache-'));
    process.env.XDG_CACHE_HOME = cache;
    super(config, context);
    this.cacheHome = cache;
    for (const name of SHARED) this.global[name] = globalThis[name];
    for (const name of ['dispose', 'asyncDispose']) {
      if (this.global.Symbol[name] === undefined && typeof Symbol[name] === 'symbol') {
        Object.defineProperty(this.global.Symbol, name, { value: Symbol[name], writable: false, enumerable: false, configurable: false });
      }
    }
  }

  async teardown() {
    rmSync(this.cacheHome, { recursive: true, force: true });
    await super.teardown();
  }
}

module.exports = OrtEnvironment;
