/**
 * Execution-provider selection. Pure decision logic ({@link selectProvider}) separated from the
 * probe of the installed onnxruntime-node binaries ({@link probeProviders}) so it is unit-testable.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OmnicapError } from '../errors';
import { readElfDynamic } from './elf';
import type { ModelManifest } from './manifest';

export type ProviderRequest = 'cpu' | 'cuda' | 'auto';
export type ResolvedProvider = 'cpu' | 'cuda';

export interface ProviderProbe {
  /** Directory holding onnxruntime-node's native binding (where CUDA EP libs must be staged). */
  bindingDir: string;
  /** libonnxruntime_providers_cuda.so (and _shared) present next to the binding. */
  cudaLibsPresent: boolean;
}

export const CUDA_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

export function cudaInstallHint(bindingDir: string, orCpu = true): string {
  return (
    'install the CUDA execution provider with `npm install onnxruntime-node --onnxruntime-node-install=cuda12` (the flag names the install manifest, not the CUDA version) ' +
    `(air-gapped: copy ${CUDA_LIBS.join(' and ')} from the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet package of the same version into ${bindingDir}, ` +
    `and make the CUDA runtime libraries it links against visible via LD_LIBRARY_PATH; docs/gpu.md §1)${orCpu ? ', or use --provider cpu' : ''}`
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

/** Libraries every Linux process has; not reported as CUDA dependencies. */
const SYSTEM_LIBS = /^(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux-x86-64)\.so/;
/** Sonames whose version suffix is the CUDA major version. */
const CUDA_VERSIONED = /^lib(cudart|cublas|cublasLt|nvrtc)\.so\.(\d+)$/;

export interface CudaEpDependencies {
  /** The CUDA EP library that was read. */
  library: string;
  /** Non-system DT_NEEDED entries of the library. */
  needed: string[];
  /** Needed libraries the dynamic loader would not find. */
  missing: string[];
  /** CUDA major version the library links against (from libcudart/libcublas sonames). */
  cudaMajor?: number;
  /** For each missing soname, other versions of the same library that were found. */
  otherVersions: Record<string, string[]>;
}

/** Directories and sonames the dynamic loader searches: LD_LIBRARY_PATH, RUNPATH, the ldconfig cache, defaults. */
export interface LibrarySearch {
  dirs: string[];
  cached: string[];
}

export function librarySearch(runpath: string[], origin: string, env: NodeJS.ProcessEnv = process.env): LibrarySearch {
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d.length > 0),
    ...runpath.map((p) => p.replace('$ORIGIN', origin)),
    '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib',
  ];
  const r = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  const cached = r.status === 0 ? r.stdout.split('\n').map((l) => l.trim().split(' ')[0]).filter((l) => l.includes('.so')) : [];
  return { dirs, cached };
}

function available(search: LibrarySearch): Set<string> {
  const names = new Set(search.cached);
  for (const d of search.dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (f.includes('.so')) names.add(f);
  }
  return names;
}

/** What the staged CUDA EP links against and what of it the loader cannot find (no library is loaded). */
export function cudaEpDependencies(bindingDir: string, search?: LibrarySearch): CudaEpDependencies {
  const library = join(bindingDir, CUDA_LIBS[0]);
  let dyn: ReturnType<typeof readElfDynamic>;
  try {
    dyn = readElfDynamic(library);
  } catch (e) {
    throw new OmnicapError('PROVIDER_UNAVAILABLE', `${library} cannot be read as a shared library (${(e as Error).message}): re-stage the CUDA execution provider (docs/gpu.md §1)`, { cause: e, details: { library } });
  }
  const needed = dyn.needed.filter((n) => !SYSTEM_LIBS.test(n));
  const names = available(search ?? librarySearch(dyn.runpath, bindingDir));
  const missing = needed.filter((n) => !names.has(n));
  const otherVersions: Record<string, string[]> = {};
  for (const m of missing) {
    const base = m.replace(/\.so(\.\d+)*$/, '.so');
    const others = [...names].filter((n) => n !== m && n.startsWith(`${base}.`) && /^[^.]+\.so\.\d+$/.test(n)).sort();
    if (others.length > 0) otherVersions[m] = others;
  }
  const majors = needed.map((n) => CUDA_VERSIONED.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[2]));
  return { library, needed, missing, otherVersions, ...(majors.length > 0 ? { cudaMajor: Math.max(...majors) } : {}) };
}

/** onnxruntime-node's version (the CUDA EP must come from the same ORT release). */
export function onnxruntimeNodeVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
}

/** PROVIDER_UNAVAILABLE naming each library the CUDA EP needs and cannot find, and the CUDA version it wants. */
export function assertCudaEpLoadable(deps: CudaEpDependencies): void {
  if (deps.missing.length === 0) return;
  const want = deps.cudaMajor !== undefined ? `CUDA ${deps.cudaMajor}` : 'its CUDA version';
  const found = Object.entries(deps.otherVersions).map(([m, o]) => `found ${o.join(', ')} instead of ${m}`);
  const driver = deps.missing.includes('libcuda.so.1') ? ' libcuda.so.1 is the NVIDIA driver itself: no driver is installed.' : '';
  throw new OmnicapError(
    'PROVIDER_UNAVAILABLE',
    `${deps.library} (onnxruntime-node ${onnxruntimeNodeVersion()}) is built for ${want} and needs ${deps.missing.join(', ')}, which the dynamic loader cannot find (LD_LIBRARY_PATH, the ldconfig cache, system directories)` +
      `${found.length > 0 ? ` — ${found.join('; ')}: a CUDA major-version mismatch` : ''}.${driver} Install the ${want} runtime libraries (docs/gpu.md §1) and add their directory to LD_LIBRARY_PATH, or use --provider cpu`,
    { details: { library: deps.library, missing: deps.missing, cudaMajor: deps.cudaMajor, otherVersions: deps.otherVersions } },
  );
}

const LOAD_FAILURE = /Failed to load library (\S+) with error: (\S+?): cannot open shared object file/;

/** ORT's own "Failed to load library X with error: Y: cannot open shared object file" as a typed error naming both. */
export function cudaLoadFailure(message: string): OmnicapError | undefined {
  const m = LOAD_FAILURE.exec(message);
  if (!m) return undefined;
  const major = CUDA_VERSIONED.exec(m[2]);
  return new OmnicapError(
    'PROVIDER_UNAVAILABLE',
    `onnxruntime could not load ${m[1]}: it needs ${m[2]}${major ? ` (CUDA ${major[2]})` : ''}, which is not on the loader path — install that library and add its directory to LD_LIBRARY_PATH (docs/gpu.md §1), or use --provider cpu`,
    { details: { library: m[1], missing: [m[2]], ...(major ? { cudaMajor: Number(major[2]) } : {}) } },
  );
}

/**
 * A build is laid out for one execution provider (manifest.target): a CUDA build has fp16
 * activations and experts in the CUDA QMoE's raw layout, a CPU build fp32 activations (ORT's CUDA
 * QMoE has no fp32 kernel, so its experts would run on the CPU). Loading one with the other provider
 * is refused unless the caller allows CPU execution.
 */
export function checkBuildForProvider(manifest: Pick<ModelManifest, 'name' | 'variant' | 'target'>, provider: ResolvedProvider, allowCpuFallback: boolean, probe?: ProviderProbe): void {
  if (allowCpuFallback || manifest.target === 'any' || manifest.target === provider) return;
  const build = `${manifest.name} (variant ${manifest.variant}, built for the ${manifest.target === 'cuda' ? 'CUDA' : 'CPU'} execution provider)`;
  if (manifest.target === 'cuda') {
    const missing = probe !== undefined && !probe.cudaLibsPresent ? ` The CUDA execution provider is not installed: ${cudaInstallHint(probe.bindingDir, false)}.` : '';
    throw new OmnicapError('MODEL_PROVIDER_MISMATCH', `${build} cannot run with provider cpu: its graphs use fp16 activations and the CUDA QMoE weight layout.${missing} Use a cpu-* export of the model, or pass --allow-cpu-fallback to run it on the CPU anyway (slow)`, {
      details: { model: manifest.name, variant: manifest.variant, target: manifest.target, provider },
    });
  }
  throw new OmnicapError('MODEL_PROVIDER_MISMATCH', `${build} cannot run with provider cuda: its fp32 QMoE has no CUDA kernel, so every MoE layer would run on the CPU. Export cuda-fp16-int4-qmoe (or cuda-fp16-int8-qmoe) for the GPU, or pass --allow-cpu-fallback to load it anyway`, {
    details: { model: manifest.name, variant: manifest.variant, target: manifest.target, provider },
  });
}
