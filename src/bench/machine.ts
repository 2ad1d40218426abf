/**
 * What a benchmark ran on: CPU model, cores, RAM, GPU (nvidia-smi when present), onnxruntime-node
 * versions, and the model manifest (name, variant, sha256 of manifest.json).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem, release, platform, arch } from 'node:os';
import { join } from 'node:path';
import { OmnicapError } from '../errors';
import { ort } from '../engine/ort';
import { sha256 } from '../util/hash';

export interface GpuInfo {
  name: string;
  memoryMiB: number;
  driver: string;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  /** GPUs nvidia-smi reports, or why there are none. */
  gpus: GpuInfo[] | { unavailable: string };
  ortVersions: Record<string, string>;
}

export interface ModelInfo {
  dir: string;
  name: string;
  variant: string;
  target: string;
  manifestSha256: string;
}

function nvidiaSmi(timeoutMs = 5000): Promise<GpuInfo[] | { unavailable: string }> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'], { timeout: timeoutMs }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({ unavailable: code === 'ENOENT' ? 'nvidia-smi not found (no NVIDIA driver on this machine)' : `nvidia-smi failed: ${err.message.split('\n')[0]}` });
        return;
      }
      const gpus = stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0)
        .map((l) => {
          const [name, mem, driver] = l.split(',').map((s) => s.trim());
          return { name: name ?? '', memoryMiB: Number(mem), driver: driver ?? '' };
        });
      resolve(gpus.length > 0 ? gpus : { unavailable: 'nvidia-smi lists no GPU' });
    });
  });
}

export async function machineInfo(): Promise<MachineInfo> {
  const c = cpus();
  const versions: Record<string, string> = {};
  for (const [k, v] of Object.entries(ort().env.versions)) if (typeof v === 'string') versions[k] = v;
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    gpus: await nvidiaSmi(),
    ortVersions: versions,
  };
}

export async function modelInfo(dir: string): Promise<ModelInfo> {
  let raw: Buffer;
  try {
    raw = await readFile(join(dir, 'manifest.json'));
  } catch (e) {
    throw new OmnicapError('MODEL_NOT_FOUND', `no model at ${dir}: manifest.json cannot be read — pass --model DIR`, { cause: e, details: { dir } });
  }
  let m: { name?: unknown; variant?: unknown; target?: unknown };
  try {
    m = JSON.parse(raw.toString('utf8')) as typeof m;
  } catch (e) {
    throw new OmnicapError('MODEL_INVALID', `${join(dir, 'manifest.json')} is not JSON`, { cause: e });
  }
  return {
    dir,
    name: String(m.name ?? 'unknown'),
    variant: String(m.variant ?? 'unknown'),
    target: String(m.target ?? 'unknown'),
    manifestSha256: sha256(raw),
  };
}

export function describeMachine(m: MachineInfo): string {
  const gpu = Array.isArray(m.gpus) ? m.gpus.map((g) => `${g.name} (${g.memoryMiB} MiB, driver ${g.driver})`).join('; ') : `none (${m.gpus.unavailable})`;
  const ortv = Object.entries(m.ortVersions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os}, node ${m.node}\ngpu: ${gpu}\nonnxruntime: ${ortv}`;
}
