// @ts-check
/**
 * DOM builders of the demo page: the Detective's rounds, the caption (per sentence with its
 * evidence when the record carries `provenance`) and the timings and token counts. Text always
 * goes in as text nodes, never as HTML.
 */

/**
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {Array<Node | string | undefined>} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== undefined) e.append(c);
  return e;
}

/** @param {number} ms */
export const formatMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

/** @param {number | undefined} s */
const seconds = (s) => (typeof s === 'number' ? `${s.toFixed(1)} s` : '?');

/** Long observer answers fold away behind their first line. */
const FOLD_CHARS = 240;

/** @param {string} text */
function answerBlock(text) {
  if (text.length <= FOLD_CHARS) return el('p', { class: 'answer' }, text);
  const summary = el('summary', {}, `${text.slice(0, FOLD_CHARS).trimEnd()}…`);
  return el('details', { class: 'answer' }, summary, el('p', {}, text));
}

/**
 * One round of the trajectory (a DetectiveRound: ok, observer_error, invalid_output or finish).
 * @param {any} r
 * @returns {HTMLElement}
 */
export function roundItem(r) {
  const li = el('li', { id: `round-${r.round}`, class: `round round-${r.status}`, 'data-round': String(r.round) });
  const facts = [`${formatMs(r.ms)}`];
  if (r.cached === true) facts.push('cached');
  if (r.upfront === true) facts.push('fixed report');
  const title = r.status === 'finish' ? 'finish' : r.status === 'invalid_output' ? 'invalid LLM output' : r.tool;
  li.append(el('p', { class: 'round-head' }, el('strong', {}, `Round ${r.round}: ${title}`), ` · ${facts.join(' · ')}`));
  if (r.status === 'ok' || r.status === 'observer_error') li.append(el('p', { class: 'question' }, el('span', { class: 'label' }, 'Question: '), r.question));
  if (r.status === 'ok') li.append(answerBlock(r.answer));
  else if (r.status === 'observer_error' || r.status === 'invalid_output') li.append(el('p', { class: 'round-error' }, `${r.error.code}: ${r.error.message}`));
  else if (r.status === 'finish') li.append(el('p', { class: 'answer' }, r.reason));
  return li;
}

/**
 * @param {any} ev one evidence entry {round, tool, start_seconds?, end_seconds?, text?}
 * @returns {HTMLElement}
 */
function evidenceItem(ev) {
  const span = typeof ev.start_seconds === 'number' || typeof ev.end_seconds === 'number' ? ` · ${seconds(ev.start_seconds)}–${seconds(ev.end_seconds)}` : '';
  const link = el('a', { href: `#round-${ev.round}` }, `round ${ev.round}`);
  return el('li', {}, link, ` · ${ev.tool}${span}`, typeof ev.text === 'string' && ev.text !== '' ? el('q', {}, ev.text) : undefined);
}

/**
 * The caption: plain text, or (with provenance) one entry per sentence whose button highlights
 * its evidence rounds; a sentence with no evidence is flagged.
 * @param {HTMLElement} box
 * @param {string} caption
 * @param {any[] | undefined} provenance
 * @param {(rounds: number[], on: boolean) => void} highlight
 */
export function renderCaption(box, caption, provenance, highlight) {
  box.replaceChildren();
  if (!Array.isArray(provenance) || provenance.length === 0) {
    box.append(el('p', { class: 'caption-text' }, caption));
    return;
  }
  const list = el('ol', { class: 'sentences' });
  for (const [i, p] of provenance.entries()) {
    const evidence = Array.isArray(p.evidence) ? p.evidence : [];
    const supported = p.supported === true && evidence.length > 0;
    const id = `sentence-${i}`;
    const button = el('button', { type: 'button', class: 'sentence', 'aria-pressed': 'false', 'aria-describedby': `${id}-evidence` }, p.sentence);
    const rounds = evidence.map((ev) => Number(ev.round));
    button.addEventListener('click', () => {
      const on = button.getAttribute('aria-pressed') !== 'true';
      for (const b of list.querySelectorAll('button.sentence')) b.setAttribute('aria-pressed', 'false');
      button.setAttribute('aria-pressed', String(on));
      highlight(rounds, on);
    });
    const note = supported
      ? el('div', { id: `${id}-evidence`, class: 'evidence' }, el('span', { class: 'badge ok' }, 'supported by'), el('ul', {}, ...evidence.map(evidenceItem)))
      : el('div', { id: `${id}-evidence`, class: 'evidence' }, el('span', { class: 'badge unsupported' }, 'no evidence: no observation supports this sentence'));
    list.append(el('li', { class: supported ? 'supported' : 'unsupported' }, button, note));
  }
  box.append(list);
}

/**
 * @param {HTMLElement} dl
 * @param {Array<[string, string]>} rows
 */
export function renderStats(dl, rows) {
  dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

/**
 * Rows of a captioner result (the `done` event / CaptionResponse).
 * @param {any} r
 * @returns {Array<[string, string]>}
 */
export function captionerStats(r) {
  const t = r.timings;
  return [
    ['Backend', `Captioner (${r.model})`],
    ['Audio', `${r.audio_seconds.toFixed(2)} s in ${r.windows} window${r.windows === 1 ? '' : 's'}`],
    ['Tokens', `${r.usage.prompt_tokens} prompt, ${r.usage.completion_tokens} generated (finish: ${r.finish_reason})`],
    ['Time', `${formatMs(t.total_ms)} total: features ${formatMs(t.features_ms)}, encoder ${formatMs(t.encoder_ms)}, prefill ${formatMs(t.prefill_ms)}, decode ${formatMs(t.decode_ms)}`],
    ['Request id', r.request_id],
  ];
}

/**
 * Rows of a Detective record (as `omnicap detect` writes it).
 * @param {any} r
 * @returns {Array<[string, string]>}
 */
export function detectiveStats(r) {
  const rows = /** @type {Array<[string, string]>} */ ([['Backend', `Detective${r.models?.detective ? ` (${r.models.detective})` : ''}`], ['Status', r.status]]);
  if (r.tokens !== undefined) {
    const evaluated = typeof r.tokens.evaluated === 'number' ? `, ${r.tokens.evaluated} evaluated` : '';
    rows.push(['LLM tokens', `${r.tokens.prompt} prompt${evaluated}, ${r.tokens.completion} generated in ${r.llm_calls} call${r.llm_calls === 1 ? '' : 's'}`]);
  }
  if (r.stages_ms !== undefined) {
    const s = r.stages_ms;
    rows.push(['Stages', `fixed reports ${formatMs(s.fixed_reports)}, rounds ${formatMs(s.rounds)}, synthesis ${formatMs(s.synthesis)}`]);
  }
  if (typeof r.seconds === 'number') rows.push(['Time', `${r.seconds.toFixed(2)} s`]);
  if (r.observer_calls !== undefined) rows.push(['Observer calls', Object.entries(r.observer_calls).map(([k, v]) => `${k} ${v}`).join(', ') || 'none']);
  if (r.media?.duration_seconds !== undefined) rows.push(['Media', `${r.media.duration_seconds.toFixed(2)} s${r.media.has_video ? ', video' : ''}${r.media.has_audio ? ', audio' : ''}`]);
  return rows;
}
