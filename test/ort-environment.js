/**
 * Jest environment for tests that run onnxruntime-node. The native binding creates output typed
 * arrays with the main realm's constructors while onnxruntime-common (loaded inside the test's vm
 * context) checks them with `instanceof` against the context's constructors and throws
 * "A float32 tensor's data must be type of function Float32Array()". Sharing the main realm's
 * typed-array constructors with the test context removes the mismatch.
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
  }
}

module.exports = OrtEnvironment;
