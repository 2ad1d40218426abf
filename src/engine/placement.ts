/**
 * Where ONNX Runtime places each node of a session, read from its own verbose session log, and the
 * no-silent-CPU-fallback rule for CUDA sessions.
 *
 * onnxruntime-node exposes no node-to-EP API; with `logSeverityLevel: 0` ORT 1.30 prints, while a
 * session is created (onnxruntime/core/framework/session_state.cc, VerifyEachNodeIsAssignedToAnEp):
 *   "Node placements", then " All nodes placed on [EP]. Number of nodes: N", or per EP
 *   " Node(s) placed on [EP]. Number of nodes: N" followed by one "  OpType (NodeName)" line per node;
 * and, while the CUDA EP claims nodes (cuda_execution_provider.cc GetCapability,
 * fallback_cpu_capability.cc GetCpuPreferredNodes):
 *   "CUDA kernel not found in registries for Op type: OP node name: NAME"
 *   "CUDA kernel not supported. Fallback to CPU execution provider for Op type: OP node name: NAME"
 *   "ORT optimization- Force fallback to CPU execution for node: NAME because the CPU execution path is deemed faster ..."
 * The last kind is ORT moving shape arithmetic to the CPU on purpose (every input a CPU-side tensor,
 * a graph input or an initializer of at most 100 elements, none fp16): that is not a fallback.
 * Every other node on the CPU EP of a CUDA session is one, and loading refuses it unless the caller
 * allows CPU fallback (docs/gpu.md "No silent CPU fallback").
 */
import { OmnicapError } from '../errors';
import type { SessionName } from './manifest';

export const CPU_EP = 'CPUExecutionProvider';
export const CUDA_EP = 'CUDAExecutionProvider';

export interface PlacedNode {
  opType: string;
  name: string;
}

export interface PlacementReport {
  /** Nodes per execution provider, in ORT's order; empty when the log holds no placement block. */
  placements: Record<string, PlacedNode[]>;
  /** Node count per EP as ORT printed it (the "All nodes placed" form lists no names). */
  counts: Record<string, number>;
  /** Names ORT moved to the CPU on purpose (shape arithmetic). */
  cpuPreferred: string[];
  /** Names the CUDA EP had no kernel for (or rejected), with the op type ORT named. */
  noCudaKernel: PlacedNode[];
}

/** Why a CPU-placed node of a CUDA session counts as a fallback. */
export interface FallbackNode extends PlacedNode {
  reason: 'no-cuda-kernel' | 'placed-on-cpu';
}

const PLACEMENT_TAG = 'VerifyEachNodeIsAssignedToAnEp]';
const ALL_RE = /All nodes placed on \[([^\]]+)\]\. Number of nodes: (\d+)/;
const SOME_RE = /Node\(s\) placed on \[([^\]]+)\]\. Number of nodes: (\d+)/;
const NODE_RE = /^ +(\S+) \((.*)\)$/;
const NO_KERNEL_RE = /CUDA kernel (?:not found in registries|not supported\. Fallback to CPU execution provider) for Op type: (\S+) node name: (.*)$/;
const PREFERRED_RE = /Force fallback to CPU execution for node: (.*?) because the CPU execution path is deemed faster/;

/** The message part of one ORT log line ("... file.cc:123 Function] message"). */
function messageAfterTag(line: string): string | undefined {
  const i = line.indexOf(PLACEMENT_TAG);
  return i < 0 ? undefined : line.slice(i + PLACEMENT_TAG.length);
}

export function parsePlacementLog(log: string): PlacementReport {
  const report: PlacementReport = { placements: {}, counts: {}, cpuPreferred: [], noCudaKernel: [] };
  let current: string | undefined;
  for (const line of log.split('\n')) {
    const preferred = PREFERRED_RE.exec(line);
    if (preferred) report.cpuPreferred.push(preferred[1]);
    const noKernel = NO_KERNEL_RE.exec(line);
    if (noKernel) report.noCudaKernel.push({ opType: noKernel[1], name: noKernel[2].trim() });
    const msg = messageAfterTag(line);
    if (msg === undefined) {
      current = undefined;
      continue;
    }
    const all = ALL_RE.exec(msg);
    const some = SOME_RE.exec(msg);
    const head = all ?? some;
    if (head) {
      current = all ? undefined : head[1];
      report.counts[head[1]] = Number(head[2]);
      report.placements[head[1]] ??= [];
      continue;
    }
    const node = NODE_RE.exec(msg);
    if (node && current !== undefined) report.placements[current].push({ opType: node[1], name: node[2] });
  }
  return report;
}

/** True when the log held ORT's placement block (it is printed only at verbose severity). */
export function hasPlacement(report: PlacementReport): boolean {
  return Object.keys(report.counts).length > 0;
}

/** CPU-placed nodes of a CUDA session other than ORT's deliberate shape-arithmetic placement. */
export function cpuFallbackNodes(report: PlacementReport): FallbackNode[] {
  const preferred = new Set(report.cpuPreferred);
  const noKernel = new Set(report.noCudaKernel.map((n) => n.name));
  const onCpu = report.placements[CPU_EP] ?? [];
  if (onCpu.length === 0 && (report.counts[CPU_EP] ?? 0) > 0) {
    // "All nodes placed on [CPUExecutionProvider]": nothing ran on the CUDA EP at all
    return [{ opType: '*', name: `all ${report.counts[CPU_EP]} nodes`, reason: 'placed-on-cpu' }];
  }
  return onCpu
    .filter((n) => n.name === '' || !preferred.has(n.name))
    .map((n) => ({ ...n, reason: noKernel.has(n.name) ? 'no-cuda-kernel' : 'placed-on-cpu' }));
}

export interface SessionPlacement {
  session: SessionName;
  file: string;
  report: PlacementReport;
}

/** Throws PROVIDER_CPU_FALLBACK listing every fallback node per session; returns the per-session lists otherwise. */
export function enforceNoCpuFallback(placements: SessionPlacement[]): void {
  const bad = placements.map((p) => ({ ...p, nodes: cpuFallbackNodes(p.report) })).filter((p) => p.nodes.length > 0);
  if (bad.length === 0) return;
  const shown = (nodes: FallbackNode[]): string =>
    nodes.slice(0, 12).map((n) => `${n.opType} (${n.name})${n.reason === 'no-cuda-kernel' ? ' [no CUDA kernel]' : ''}`).join(', ') + (nodes.length > 12 ? `, ... ${nodes.length - 12} more` : '');
  const parts = bad.map((b) => `${b.file}: ${b.nodes.length} node(s) on the CPU EP: ${shown(b.nodes)}`);
  throw new OmnicapError(
    'PROVIDER_CPU_FALLBACK',
    `provider cuda: ONNX Runtime would run nodes on the CPU instead of the GPU — ${parts.join('; ')}. ` +
      'Export the CUDA variant of the model (cuda-fp16-int4-qmoe / cuda-fp16-int8-qmoe), or pass --allow-cpu-fallback to load it anyway (docs/gpu.md "No silent CPU fallback")',
    { details: { sessions: bad.map((b) => ({ session: b.session, file: b.file, nodes: b.nodes, cpuPreferred: b.report.cpuPreferred.length })) } },
  );
}
