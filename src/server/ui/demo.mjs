// @ts-check
/**
 * The demo page: choose or record a clip, pick a backend the server has (GET /v1/ui/config), run
 * it and show the result as it arrives. Captioner: POST /v1/captions streamed (tokens live).
 * Detective: POST /v1/annotations, then the job's events (rounds live, then the record).
 * A 401 shows the API key form; the key is kept in session storage and the refused call retried.
 */
import { ApiError, getJson, request, sseEvents, storeKey, storedKey } from './api.mjs';
import { Recording } from './record.mjs';
import { captionerStats, detectiveStats, el, formatMs, renderCaption, renderStats, roundItem } from './render.mjs';

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const ui = {
  status: $('server-status'),
  keySection: $('key-section'),
  keyForm: /** @type {HTMLFormElement} */ ($('key-form')),
  keyInput: /** @type {HTMLInputElement} */ ($('api-key')),
  keyReason: $('key-reason'),
  form: /** @type {HTMLFormElement} */ ($('run-form')),
  drop: $('drop-zone'),
  file: /** @type {HTMLInputElement} */ ($('file')),
  limits: $('limits'),
  record: /** @type {HTMLButtonElement} */ ($('record')),
  recordStatus: $('record-status'),
  clipName: $('clip-name'),
  preview: /** @type {HTMLAudioElement} */ ($('preview')),
  backends: $('backends'),
  backendsNote: $('backends-note'),
  run: /** @type {HTMLButtonElement} */ ($('run')),
  cancel: /** @type {HTMLButtonElement} */ ($('cancel')),
  result: $('result'),
  resultHeading: $('result-heading'),
  runStatus: $('run-status'),
  error: $('error'),
  roundsHeading: $('rounds-heading'),
  rounds: $('rounds'),
  caption: $('caption'),
  degraded: $('degraded'),
  stats: /** @type {HTMLElement} */ ($('stats')),
  version: $('version'),
};

const LABELS = { captioner: 'Captioner', detective: 'Detective' };
const HINTS = {
  captioner: 'the captioning model: one pass over the audio, the caption streams in token by token',
  detective: 'the Omni-Detective agent: asks its observers in rounds, then writes the caption from the evidence',
};

const state = {
  /** @type {any} */ config: undefined,
  /** @type {File | undefined} */ clip: undefined,
  /** @type {string | undefined} */ previewUrl: undefined,
  /** @type {Recording | undefined} */ recording: undefined,
  /** @type {AbortController | undefined} */ run: undefined,
  /** @type {string | undefined} */ jobId: undefined,
  /** @type {(() => Promise<void>) | undefined} */ retry: undefined,
};

// ---- API key -------------------------------------------------------------------------------

/** @param {ApiError} e @param {() => Promise<void>} retry */
function askForKey(e, retry) {
  state.retry = retry;
  ui.keyReason.textContent = storedKey() === '' ? 'This server needs an API key.' : `The server refused the key: ${e.message}.`;
  ui.keySection.hidden = false;
  ui.keyInput.focus();
}

ui.keyForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  storeKey(ui.keyInput.value.trim());
  ui.keyInput.value = '';
  ui.keySection.hidden = true;
  const retry = state.retry;
  state.retry = undefined;
  if (retry !== undefined) void retry();
});

/**
 * Runs `action`; a 401 asks for the key and runs it again once a key is given.
 * @param {() => Promise<void>} action @param {(e: unknown) => void} onError
 */
async function withKey(action, onError) {
  try {
    await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) askForKey(e, () => withKey(action, onError));
    else onError(e);
  }
}

// ---- server configuration ------------------------------------------------------------------

async function loadConfig() {
  const config = await getJson('/v1/ui/config');
  const changed = JSON.stringify(config.backends) !== JSON.stringify(state.config?.backends);
  state.config = config;
  ui.version.textContent = `omnicap ${config.version}`;
  const mib = config.limits.max_upload_bytes / (1024 * 1024);
  ui.limits.textContent = `Up to ${mib >= 10 ? Math.round(mib) : mib.toFixed(1)} MiB and ${config.limits.max_audio_seconds} s.`;
  if (changed) renderBackends(config.backends);
  const waiting = config.backends.filter((/** @type {any} */ b) => !b.ready);
  ui.status.textContent = waiting.length === 0 ? `Ready: ${config.backends.map(backendName).join(', ')}.` : `Loading ${waiting.map(backendName).join(', ')}…`;
  if (waiting.length > 0) setTimeout(() => void withKey(loadConfig, configFailed), 2000);
  updateButtons();
}

/** @param {any} b */
const backendName = (b) => `${LABELS[/** @type {'captioner' | 'detective'} */ (b.id)] ?? b.id}${b.model !== undefined ? ` (${b.model})` : ''}`;

/** @param {any[]} backends */
function renderBackends(backends) {
  const chosen = selectedBackend() ?? backends[0].id;
  const items = backends.map((b) => {
    const id = `backend-${b.id}`;
    const input = el('input', { type: 'radio', name: 'backend', id, value: b.id, 'aria-describedby': `${id}-hint` });
    /** @type {HTMLInputElement} */ (input).checked = b.id === chosen;
    const hint = `${HINTS[/** @type {'captioner' | 'detective'} */ (b.id)] ?? ''}${b.ready ? '' : ' (loading)'}`;
    return el('div', { class: 'backend' }, input, el('label', { for: id }, backendName(b)), el('span', { id: `${id}-hint`, class: 'note' }, hint));
  });
  const legend = ui.backends.querySelector('legend');
  const note = backends.some((b) => b.id === 'detective') ? 'Choose how the clip is captioned.' : 'The Detective is not enabled on this server (omnicap serve --detective).';
  ui.backendsNote.textContent = note;
  ui.backends.replaceChildren(...(legend !== null ? [legend] : []), ...items, ui.backendsNote);
}

function selectedBackend() {
  const checked = /** @type {HTMLInputElement | null} */ (ui.backends.querySelector('input[name=backend]:checked'));
  return checked?.value;
}

/** @param {unknown} e */
function configFailed(e) {
  ui.status.textContent = `The server's configuration could not be read: ${message(e)}`;
}

// ---- the clip ------------------------------------------------------------------------------

/** @param {File} file */
function setClip(file) {
  const limits = state.config?.limits;
  if (limits !== undefined && file.size > limits.max_upload_bytes) {
    ui.clipName.textContent = `${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MiB, over this server's limit.`;
    state.clip = undefined;
  } else {
    state.clip = file;
    ui.clipName.textContent = `Clip: ${file.name} (${Math.max(1, Math.round(file.size / 1024))} KiB)`;
  }
  if (state.previewUrl !== undefined) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = state.clip === undefined ? undefined : URL.createObjectURL(state.clip);
  ui.preview.hidden = state.previewUrl === undefined;
  if (state.previewUrl !== undefined) ui.preview.src = state.previewUrl;
  else ui.preview.removeAttribute('src');
  updateButtons();
}

ui.file.addEventListener('change', () => {
  const f = ui.file.files?.[0];
  if (f !== undefined) setClip(f);
});
for (const type of ['dragenter', 'dragover']) {
  ui.drop.addEventListener(type, (ev) => {
    ev.preventDefault();
    ui.drop.classList.add('dragging');
  });
}
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('dragging'));
ui.drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  ui.drop.classList.remove('dragging');
  const f = /** @type {DragEvent} */ (ev).dataTransfer?.files?.[0];
  if (f !== undefined) setClip(f);
});
// a file dropped next to the zone must not replace the page
for (const type of ['dragover', 'drop']) document.addEventListener(type, (ev) => ev.preventDefault());

ui.record.hidden = !Recording.supported;
ui.record.addEventListener('click', () => void toggleRecording());

async function toggleRecording() {
  if (state.recording === undefined) {
    // whole seconds only: the status is a live region, read out on each change
    const rec = new Recording((secs) => {
      const text = `Recording… ${Math.floor(secs)} s`;
      if (ui.recordStatus.textContent !== text) ui.recordStatus.textContent = text;
    });
    try {
      await rec.start();
    } catch (e) {
      rec.release();
      ui.recordStatus.textContent = `The microphone could not be opened: ${message(e)}`;
      return;
    }
    state.recording = rec;
    ui.record.textContent = 'Stop recording';
    ui.record.setAttribute('aria-pressed', 'true');
    ui.recordStatus.textContent = 'Recording… 0 s';
    updateButtons();
    return;
  }
  const rec = state.recording;
  state.recording = undefined;
  ui.record.textContent = 'Record from the microphone';
  ui.record.setAttribute('aria-pressed', 'false');
  try {
    const file = await rec.stop();
    ui.recordStatus.textContent = `Recorded ${formatMs(performance.now() - rec.startedAt)}.`;
    setClip(file);
  } catch (e) {
    ui.recordStatus.textContent = `The recording failed: ${message(e)}`;
  }
  updateButtons();
}

// ---- running -------------------------------------------------------------------------------

function updateButtons() {
  const running = state.run !== undefined;
  ui.run.disabled = running || state.clip === undefined || state.config === undefined || state.recording !== undefined;
  ui.cancel.disabled = !running;
}

/** @param {unknown} e */
function message(e) {
  if (e instanceof ApiError) return `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

function clearResult() {
  ui.result.hidden = false;
  ui.error.hidden = true;
  ui.error.textContent = '';
  ui.rounds.replaceChildren();
  ui.rounds.hidden = true;
  ui.roundsHeading.hidden = true;
  ui.caption.replaceChildren();
  ui.degraded.hidden = true;
  ui.stats.replaceChildren();
}

/** @param {unknown} e */
function showError(e) {
  if (e instanceof DOMException && e.name === 'AbortError') {
    // a job's status comes from its DELETE answer
    if (state.jobId === undefined) ui.runStatus.textContent = 'Cancelled.';
    return;
  }
  ui.runStatus.textContent = 'Failed.';
  ui.error.hidden = false;
  ui.error.textContent = message(e);
}

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const clip = state.clip;
  const backend = selectedBackend();
  if (clip === undefined || backend === undefined || state.run !== undefined) return;
  void start(backend, clip);
});

/** @param {string} backend @param {File} clip */
async function start(backend, clip) {
  const controller = new AbortController();
  state.run = controller;
  state.jobId = undefined;
  clearResult();
  const hadFocus = document.activeElement === ui.run;
  updateButtons();
  // the focused Caption button is now disabled: keyboard users land on Cancel, then on the result
  if (hadFocus) ui.cancel.focus();
  const action = backend === 'detective' ? () => runDetective(clip, controller.signal) : () => runCaptioner(clip, controller.signal);
  try {
    await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      ui.runStatus.textContent = 'Waiting for the API key.';
      askForKey(e, () => start(backend, clip));
    } else showError(e);
  } finally {
    if (state.run === controller) state.run = undefined;
    const hadFocus = document.activeElement === ui.cancel;
    updateButtons();
    if (hadFocus) ui.resultHeading.focus();
  }
}

ui.cancel.addEventListener('click', () => {
  const id = state.jobId;
  state.run?.abort();
  if (id === undefined) return;
  // the job's own state says how the cancellation ended (a finished job stays done)
  void withKey(async () => {
    const job = await (await request(`/v1/annotations/${encodeURIComponent(id)}`, { method: 'DELETE' })).json();
    ui.runStatus.textContent = `Job ${id}: ${job.status}.`;
  }, showError);
});

/** @param {File} clip @param {AbortSignal} signal */
async function runCaptioner(clip, signal) {
  ui.runStatus.textContent = 'Uploading…';
  const form = new FormData();
  form.append('file', clip, clip.name);
  form.append('stream', 'true');
  const res = await request('/v1/captions', { method: 'POST', body: form, signal, headers: { Accept: 'text/event-stream' } });
  const text = el('p', { class: 'caption-text' });
  ui.caption.replaceChildren(text);
  ui.runStatus.textContent = 'Captioning…';
  for await (const { data } of sseEvents(res)) {
    if (data.type === 'window') ui.runStatus.textContent = `Captioning ${data.start_seconds.toFixed(1)}–${data.end_seconds.toFixed(1)} s…`;
    else if (data.type === 'token') text.textContent += data.text;
    else if (data.type === 'done') {
      renderCaption(ui.caption, data.caption, undefined, highlightRounds);
      renderStats(ui.stats, captionerStats(data));
      ui.runStatus.textContent = `Done in ${formatMs(data.timings.total_ms)}.`;
      return;
    } else if (data.type === 'error') throw new ApiError(0, data.error.code, data.error.message);
  }
  throw new Error('the caption stream ended without a result');
}

/** @param {File} clip @param {AbortSignal} signal */
async function runDetective(clip, signal) {
  ui.runStatus.textContent = 'Uploading…';
  const form = new FormData();
  form.append('file', clip, clip.name);
  const job = await (await request('/v1/annotations', { method: 'POST', body: form, signal })).json();
  state.jobId = job.id;
  ui.runStatus.textContent = `Job ${job.id}: ${job.status}.`;
  ui.roundsHeading.hidden = false;
  ui.rounds.hidden = false;
  const res = await request(`/v1/annotations/${encodeURIComponent(job.id)}/events`, { signal, headers: { Accept: 'text/event-stream' } });
  for await (const { event, data } of sseEvents(res)) {
    if (event === 'status') ui.runStatus.textContent = `Job ${job.id}: ${data.status}${roundCount()}.`;
    else if (event === 'round') addRound(data);
    else if (event === 'result') return showRecord(job.id, data);
    else if (event === 'error') {
      const err = data.error ?? data;
      throw new ApiError(0, err.code, err.message);
    }
  }
  // the stream closed without the result: read the job as it stands
  const final = await getJson(`/v1/annotations/${encodeURIComponent(job.id)}`, signal);
  for (const r of final.rounds ?? []) addRound(r);
  if (final.result !== undefined) return showRecord(job.id, final.result);
  if (final.error !== undefined) throw new ApiError(0, final.error.code, final.error.message);
  if (final.status === 'cancelled') {
    ui.runStatus.textContent = `Job ${job.id}: cancelled.`;
    return;
  }
  throw new Error(`the job's event stream ended while it was ${final.status}`);
}

function roundCount() {
  const n = ui.rounds.children.length;
  return n === 0 ? '' : `, ${n} round${n === 1 ? '' : 's'} so far`;
}

/** Adds (or replaces, when the server sends it again) one round, in round order. @param {any} r */
function addRound(r) {
  const item = roundItem(r);
  const old = document.getElementById(`round-${r.round}`);
  if (old !== null) old.replaceWith(item);
  else {
    const after = [...ui.rounds.children].find((c) => Number(/** @type {HTMLElement} */ (c).dataset.round) > r.round);
    ui.rounds.insertBefore(item, after ?? null);
  }
  ui.runStatus.textContent = `Job ${state.jobId ?? ''}: running${roundCount()}.`;
}

/** @param {string} id @param {any} record the record as `omnicap detect` writes it */
function showRecord(id, record) {
  for (const r of record.omni_detective_trajectory ?? []) addRound(r);
  if (record.status === 'error') throw new ApiError(0, record.error.code, record.error.message);
  renderCaption(ui.caption, record.caption, record.provenance, highlightRounds);
  renderStats(ui.stats, detectiveStats(record));
  const reasons = record.degraded_reasons ?? [];
  ui.degraded.hidden = reasons.length === 0;
  ui.degraded.textContent = reasons.length === 0 ? '' : `Degraded: ${reasons.join('; ')}`;
  ui.runStatus.textContent = `Job ${id}: ${record.status}, ${ui.rounds.children.length} rounds in ${record.seconds.toFixed(2)} s.`;
}

/** @param {number[]} rounds @param {boolean} on */
function highlightRounds(rounds, on) {
  for (const li of ui.rounds.querySelectorAll('li.evidence-of')) li.classList.remove('evidence-of');
  if (!on) return;
  for (const n of rounds) document.getElementById(`round-${n}`)?.classList.add('evidence-of');
  document.getElementById(`round-${rounds[0]}`)?.scrollIntoView({ block: 'nearest' });
}

void withKey(loadConfig, configFailed);
