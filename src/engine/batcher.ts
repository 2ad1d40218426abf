/**
 * Batched decoding of concurrent generations on one model (continuous batching).
 *
 * Each generation prefills alone (batch 1), then joins the batcher and calls `row.step(token)` once
 * per token exactly as it would call `DecoderState.step`: sampling, stop tokens, streaming and abort
 * stay per generation. The batcher runs one decoder call for every row that has submitted a token:
 * it waits until every row in the batch has submitted (or `maxWaitMs` passed), then runs
 * embed [B, 1] + decoder [B, 1] with each row's own attention mask and position id, and hands each
 * row its logits. Rows join and leave between steps; rows that are slow to submit are parked (their
 * KV copied out) and rejoin on their next submission, so one slow consumer never stalls the others.
 *
 * KV layouts (from the decoder graph, see docs/engine.md):
 *   - 'append' (the fp32 reference graph): present = concat(past, new) on the time axis, masked
 *     attention, so a row's valid keys are tracked per position;
 *   - 'packed' (GroupQueryAttention builds): the kernel writes each row's new key at that row's length
 *     (seqlens_k from the mask), so a row's keys are always the prefix [0, len).
 */
import { OmnicapError, disposedError } from '../errors';
import { BatchKv, packSingle, type PackedKv, type RowSource } from './batch-kv';
import type { DecoderState } from './decoder';
import type { ModelManifest } from './manifest';
import { ort, tensorToFloat32, type OrtTensor } from './ort';
import type { JsKvSessions } from './sessions';

export type KvLayout = 'append' | 'packed';

export interface BatchOptions {
  /** Most rows in one decoder call (>= 1). */
  maxBatch: number;
  /** How long a step waits for rows that have not submitted yet before parking them (default 2 ms). */
  maxWaitMs?: number;
}

export interface BatcherStats {
  steps: number;
  rowSteps: number;
  rebuilds: number;
  parked: number;
  maxRows: number;
}

interface Pending {
  token: number;
  resolve: (logits: Float32Array) => void;
  reject: (e: unknown) => void;
}

type RowState = 'outside' | 'active' | 'left' | 'failed';

/** One generation inside the batcher. */
export class BatchRow {
  /** @internal */ state: RowState = 'outside';
  /** @internal */ kv: PackedKv | undefined;
  /** @internal */ valid: Uint8Array = new Uint8Array(0);
  /** @internal */ index = -1;
  /** @internal */ pending: Pending | undefined;
  /** @internal */ failure: unknown;
  /** Tokens in this row's cache. */
  length: number;
  /** @internal next position id */ pos: number;

  constructor(
    private readonly batcher: DecodeBatcher,
    kv: PackedKv,
  ) {
    this.kv = kv;
    this.length = kv.len;
    this.pos = kv.len;
  }

  /** Feed `tokenId` and get the next logits (float32, length vocab). */
  step(tokenId: number): Promise<Float32Array> {
    return this.batcher.submit(this, tokenId);
  }

  /** Leave the batch (idempotent). Call in a `finally`. */
  leave(): void {
    this.batcher.leave(this);
  }
}

export function kvLayoutOf(manifest: ModelManifest): KvLayout {
  return manifest.contribOps.includes('GroupQueryAttention') ? 'packed' : 'append';
}

export class DecodeBatcher {
  readonly layout: KvLayout;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  private readonly kv: BatchKv;
  private active: BatchRow[] = [];
  private outside: BatchRow[] = [];
  private dirty = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private readonly hidden: number;
  private readonly vocab: number;
  readonly stats: BatcherStats = { steps: 0, rowSteps: 0, rebuilds: 0, parked: 0, maxRows: 0 };

  constructor(
    private readonly sessions: JsKvSessions,
    manifest: ModelManifest,
    options: BatchOptions,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new OmnicapError('INVALID_ARGUMENT', `batch.maxBatch must be an integer >= 1 but is ${String(options.maxBatch)}`);
    const wait = options.maxWaitMs ?? 2;
    if (!Number.isFinite(wait) || wait < 0) throw new OmnicapError('INVALID_ARGUMENT', `batch.maxWaitMs must be a number >= 0 but is ${String(options.maxWaitMs)}`);
    const plan = sessions.decoderPlan;
    if (!plan.hasAttentionMask || !plan.hasPositionIds) {
      throw new OmnicapError('MODEL_INVALID', 'batched decoding needs a decoder with attention_mask and position_ids inputs; load without batching');
    }
    const t = manifest.config.text;
    this.layout = kvLayoutOf(manifest);
    this.maxBatch = options.maxBatch;
    this.maxWaitMs = wait;
    this.hidden = t.hiddenSize;
    this.vocab = t.vocabSize;
    this.kv = new BatchKv({ layers: plan.numLayers, heads: t.numKvHeads, headDim: t.headDim, dtype: plan.kvDtype });
  }

  /** Rows in the batch now and waiting outside it. */
  get size(): { active: number; outside: number } {
    return { active: this.active.filter((r) => r.state === 'active').length, outside: this.outside.length };
  }

  /** Take a prefilled single-sequence decoder's cache (copied; dispose the decoder afterwards). */
  join(dec: DecoderState): BatchRow {
    if (this.disposed) throw disposedError('the decode batcher');
    const row = new BatchRow(this, packSingle(dec.cache.pastTensors(), dec.length));
    this.outside.push(row);
    return row;
  }

  /** @internal */
  submit(row: BatchRow, token: number): Promise<Float32Array> {
    if (this.disposed) return Promise.reject(disposedError('the decode batcher'));
    if (row.state === 'left') return Promise.reject(new OmnicapError('INTERNAL', 'step() on a row that left the batch'));
    if (row.state === 'failed') return Promise.reject(row.failure);
    if (row.pending !== undefined) return Promise.reject(new OmnicapError('INTERNAL', 'step() called again before the previous step finished'));
    return new Promise<Float32Array>((resolve, reject) => {
      row.pending = { token, resolve, reject };
      this.schedule();
    });
  }

  /** @internal */
  leave(row: BatchRow): void {
    if (row.state === 'left') return;
    row.pending?.reject(new OmnicapError('ABORTED', 'row left the batch'));
    row.pending = undefined;
    if (row.state === 'active') this.dirty = true;
    else this.outside = this.outside.filter((r) => r !== row);
    row.state = 'left';
    row.kv = undefined;
    if (!this.running && this.active.every((r) => r.state !== 'active') && this.outside.length === 0) {
      this.active = [];
      this.kv.clear();
      this.dirty = false;
    }
    this.schedule(); // the rows still waiting may now be complete, or a queued row may take the slot
  }

  /** Free the batch cache; pending steps are rejected. */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const r of [...this.active, ...this.outside]) {
      r.pending?.reject(disposedError('the decode batcher'));
      r.pending = undefined;
      r.state = 'left';
    }
    this.active = [];
    this.outside = [];
    this.kv.clear();
  }

  private schedule(): void {
    if (this.running) return;
    const live = this.active.filter((r) => r.state === 'active');
    const waitingInBatch = live.some((r) => r.pending === undefined);
    const anyPending = live.some((r) => r.pending !== undefined) || this.outside.some((r) => r.pending !== undefined);
    if (!anyPending) return;
    if (!waitingInBatch) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      // let submissions made in this same turn (other rows' continuations) join this step
      setImmediate(() => void this.run());
      this.running = true;
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.running) return;
      this.running = true;
      void this.run();
    }, this.maxWaitMs);
  }

  private rebuild(): void {
    const live = this.active.filter((r) => r.state === 'active');
    const keep: BatchRow[] = [];
    for (const r of live) {
      if (r.pending !== undefined) keep.push(r);
      else {
        // park: copy its keys out so the others go on without it
        r.kv = this.kv.extract(r.index, r.valid);
        r.state = 'outside';
        this.outside.push(r);
        this.stats.parked++;
      }
    }
    const joiners = this.outside.filter((r) => r.pending !== undefined).slice(0, Math.max(0, this.maxBatch - keep.length));
    if (joiners.length === 0 && keep.length === live.length && !this.dirty) return;
    const rows = [...keep, ...joiners];
    const sources: RowSource[] = rows.map((r) => (r.state === 'active' ? { kind: 'batch', index: r.index, valid: r.valid } : { kind: 'packed', kv: r.kv! }));
    const lens = this.kv.rebuild(sources);
    this.stats.rebuilds++;
    this.outside = this.outside.filter((r) => !joiners.includes(r));
    rows.forEach((r, i) => {
      r.state = 'active';
      r.index = i;
      r.kv = undefined;
      r.length = lens[i];
      r.valid = new Uint8Array(Math.max(16, this.kv.T * 2));
      r.valid.fill(1, 0, lens[i]);
    });
    this.active = rows;
    this.dirty = false;
  }

  private async run(): Promise<void> {
    let stepRows: BatchRow[] = [];
    try {
      this.rebuild();
      stepRows = this.active.filter((r) => r.state === 'active' && r.pending !== undefined);
      if (stepRows.length === 0) return;
      if (stepRows.length !== this.active.length) throw new OmnicapError('INTERNAL', 'batch rows out of sync');
      const logits = await this.decode(stepRows);
      this.stats.steps++;
      this.stats.rowSteps += stepRows.length;
      this.stats.maxRows = Math.max(this.stats.maxRows, stepRows.length);
      stepRows.forEach((r, b) => {
        const p = r.pending;
        r.pending = undefined;
        p?.resolve(logits.subarray(b * this.vocab, (b + 1) * this.vocab)); // undefined if it left mid-step
      });
    } catch (e) {
      const err = e instanceof OmnicapError ? e : new OmnicapError('MODEL_RUN_FAILED', `batched decoder step failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      // the batch cache is in an unknown state: fail every row in it
      for (const r of this.active) {
        if (r.state !== 'active') continue;
        r.state = 'failed';
        r.failure = err;
        r.pending?.reject(err);
        r.pending = undefined;
      }
      this.active = [];
      this.kv.clear();
      this.dirty = false;
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async decode(rows: BatchRow[]): Promise<Float32Array> {
    const { Tensor } = ort();
    const B = rows.length;
    const T = this.kv.T;
    const ids = new BigInt64Array(B);
    const pos = new BigInt64Array(B);
    const mask = new BigInt64Array(B * (T + 1));
    rows.forEach((r, b) => {
      ids[b] = BigInt(r.pending!.token);
      pos[b] = BigInt(r.pos);
      const m = mask.subarray(b * (T + 1), (b + 1) * (T + 1));
      if (this.layout === 'append') {
        for (let t = 0; t < T; t++) m[t] = BigInt(r.valid[t]);
        m[T] = 1n;
      } else {
        m.fill(1n, 0, r.length + 1);
      }
    });
    const emb = (await this.sessions.embed.run({ input_ids: new Tensor('int64', ids, [B, 1]) })).inputs_embeds;
    if (emb === undefined || emb.dims[2] !== this.hidden) throw new OmnicapError('MODEL_RUN_FAILED', 'embed session returned no inputs_embeds [B, 1, hidden]');
    const plan = this.sessions.decoderPlan;
    const feeds: Record<string, OrtTensor> = {
      inputs_embeds: emb,
      attention_mask: new Tensor('int64', mask, [B, T + 1]),
      position_ids: new Tensor('int64', pos, [B, 1]),
    };
    for (let l = 0; l < plan.numLayers; l++) {
      feeds[plan.pastKey[l]] = this.kv.tensors[2 * l];
      feeds[plan.pastValue[l]] = this.kv.tensors[2 * l + 1];
    }
    const out = (await this.sessions.decoder.run(feeds)) as Record<string, OrtTensor>;
    const presents: OrtTensor[] = [];
    for (let l = 0; l < plan.numLayers; l++) presents.push(out[plan.presentKey[l]], out[plan.presentValue[l]]);
    if (presents.some((p) => p === undefined)) throw new OmnicapError('MODEL_RUN_FAILED', 'decoder returned no present.* outputs');
    this.kv.adopt(presents, T + 1);
    for (const r of rows) {
      const at = this.layout === 'append' ? T : r.length; // where this step's key landed
      if (r.valid.length <= at) {
        const grown = new Uint8Array(Math.max(16, (at + 1) * 2));
        grown.set(r.valid);
        r.valid = grown;
      }
      r.valid[at] = 1;
      r.length++;
      r.pos++;
    }
    const logits = out.logits;
    if (logits === undefined) throw new OmnicapError('MODEL_RUN_FAILED', 'decoder returned no logits output');
    const vocab = logits.dims[logits.dims.length - 1];
    if (vocab !== this.vocab || logits.size !== B * vocab) throw new OmnicapError('MODEL_RUN_FAILED', `batched logits have dims [${logits.dims.join(', ')}], expected [${B}, 1, ${this.vocab}]`);
    return tensorToFloat32(logits);
  }
}
