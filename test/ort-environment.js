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
 * It is the default test environment of every suite (jest.config.js).
 */
'use strict';
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
    for (const name of ['dispose', 'asyncDispose']) {
      if (this.global.Symbol[name] === undefined && typeof Symbol[name] === 'symbol') {
        Object.defineProperty(this.global.Symbol, name, { value: Symbol[name], writable: false, enumerable: false, configurable: false });
      }
    }
  }
}

module.exports = OrtEnvironment;
