export { percentile, summarize, linearFit, type Summary, type LinearFit } from './stats';
export { benchEngine, benchProvider, STAGES, type Stage, type EngineBenchOptions, type ProviderBench, type ProviderBenchOk, type ProviderBenchUnavailable } from './engine-bench';
export { kvBytesPerToken, kvBytesPerStep, kvCopyMs, measureKvTransfer, QWEN3_OMNI_KV, type KvShape, type KvTransferResult, type KvTransferOptions } from './kv-transfer';
export { machineInfo, modelInfo, describeMachine, type MachineInfo, type ModelInfo, type GpuInfo } from './machine';
export { benchServer, type ServerBenchOptions, type ServerBenchResult, type ConcurrencyLevel } from './server-bench';
export { renderHtml, renderText, barChartSvg, lineChartSvg, escapeHtml, PERCENTILE_DEFINITION, type BenchReport } from './report';
export { runBench, DEFAULT_BENCH_INPUT, DEFAULT_KV_PAST, DEFAULT_RUNTIMES, type RunBenchOptions } from './run';
export { benchEventLoop, delayOf, LoopDelaySampler, type EventLoopBenchResult, type EventLoopBenchOptions, type EventLoopDelay } from './event-loop';
