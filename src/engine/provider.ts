/**
 * Execution-provider selection. Pure decision logic ({@link selectProvider}) separated from the
 * probe of the installed onnxruntime-node binaries ({@link probeProviders}) so it is unit-testable.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OmnicapError } from '../errors';

export type ProviderRequest = 'cpu' | 'cuda' | 'auto';
export type ResolvedProvider = 'cpu' | 'cuda';

export interface ProviderProbe {
  /** Directory holding onnxruntime-node's native binding (where CUDA EP libs must be staged). */
  bindingDir: string;
  /** libonnxruntime_providers_cuda.so (and _shared) present next to the binding. */
  cudaLibsPresent: boolean;
}

export const CUDA_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

export function cudaInstallHint(bindingDir: string): string {
  return (
    'install the CUDA 12 execution provider with `npm install onnxruntime-node --onnxruntime-node-install=cuda12` ' +
    `(air-gapped: copy ${CUDA_LIBS.join(' and ')} from the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet package of the same version into ${bindingDir}, ` +
    'and make the CUDA 12 / cuDNN 9 runtime libraries visible via LD_LIBRARY_PATH), or use --provider cpu'
  );
}

/** Decide the provider. Throws PROVIDER_UNAVAILABLE when 'cuda' is asked for and not installed. */
export function selectProvider(request: ProviderRequest, probe: ProviderProbe, modelTarget: 'cpu' | 'cuda' | 'any' = 'any'): ResolvedProvider {
  if (request === 'cpu') return 'cpu';
  if (request === 'cuda') {
    if (!probe.cudaLibsPresent) {
      throw new OmnicapError('PROVIDER_UNAVAILABLE', `provider "cuda" requested but the CUDA execution provider is not installed in onnxruntime-node: ${cudaInstallHint(probe.bindingDir)}`, {
        details: { provider: 'cuda', bindingDir: probe.bindingDir },
      });
    }
    return 'cuda';
  }
  // auto: CUDA only when installed and the graphs were not laid out for CPU only.
  return probe.cudaLibsPresent && modelTarget !== 'cpu' ? 'cuda' : 'cpu';
}

export function parseProviderRequest(value: unknown): ProviderRequest {
  if (value === undefined) return 'auto';
  if (value === 'cpu' || value === 'cuda' || value === 'auto') return value;
  throw new OmnicapError('INVALID_ARGUMENT', `Expected provider "cpu" | "cuda" | "auto" but received ${JSON.stringify(value)}`, { details: { parameter: 'provider' } });
}

/** Look at the installed onnxruntime-node for CUDA EP libraries (no session is created). */
export function probeProviders(): ProviderProbe {
  const pkgJson = require.resolve('onnxruntime-node/package.json');
  const bindingDir = join(dirname(pkgJson), 'bin', 'napi-v6', process.platform, process.arch);
  const cudaLibsPresent = process.platform === 'linux' && CUDA_LIBS.every((lib) => existsSync(join(bindingDir, lib)));
  return { bindingDir, cudaLibsPresent };
}

/** ORT executionProviders list for a resolved provider. */
export function executionProviders(provider: ResolvedProvider): Array<'cpu' | { name: 'cuda'; deviceId: number }> {
  return provider === 'cuda' ? [{ name: 'cuda', deviceId: 0 }, 'cpu'] : ['cpu'];
}
