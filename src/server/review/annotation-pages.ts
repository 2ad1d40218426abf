/** Server-rendered pages of annotation review: the filtered list and one clip (media, caption with provenance, rounds, decision form). */
import type { ReviewClip, ReviewDecision } from '../../export';
import { isRecord } from '../../util/guards';
import { clipHref, decisionBadge, h, lineErrors, page, select } from './html';

export interface ListFilters {
  status: string;
  reason: string;
  decision: string;
  q: string;
}

export function filtersOf(query: Record<string, unknown>): ListFilters {
  const s = (k: string): string => (typeof query[k] === 'string' ? (query[k] as string).trim() : '');
  return { status: s('status'), reason: s('reason'), decision: s('decision'), q: s('q') };
}

export function filterClips(clips: readonly ReviewClip[], f: ListFilters, decisions: ReadonlyMap<string, ReviewDecision>): ReviewClip[] {
  const q = f.q.toLowerCase();
  return clips.filter((c) => {
    const d = decisions.get(c.key)?.decision ?? 'undecided';
    if (f.status !== '' && c.status !== f.status) return false;
    if (f.reason !== '' && !c.degradedReasons.includes(f.reason)) return false;
    if (f.decision !== '' && d !== f.decision) return false;
    const text = `${c.key}\n${decisions.get(c.key)?.caption ?? c.caption}`.toLowerCase();
    return q === '' || text.includes(q);
  });
}

const SHORTCUTS_LIST = '<kbd>/</kbd> search, <kbd>j</kbd>/<kbd>k</kbd> move between clips, <kbd>Enter</kbd> open';

export function annotationListPage(o: { input: string; clips: readonly ReviewClip[]; shown: readonly ReviewClip[]; errors: ReadonlyArray<{ line: number; message: string }>; decisions: ReadonlyMap<string, ReviewDecision>; filters: ListFilters }): string {
  const reasons = [...new Set(o.clips.flatMap((c) => c.degradedReasons))].sort();
  const counts = { accept: 0, edit: 0, reject: 0 };
  for (const c of o.clips) {
    const d = o.decisions.get(c.key)?.decision;
    if (d !== undefined) counts[d]++;
  }
  const rows = o.shown.map((c) => {
    const d = o.decisions.get(c.key);
    const caption = d?.decision === 'edit' && d.caption !== undefined ? d.caption : c.caption;
    const excerpt = c.status === 'error' ? `error: ${c.error?.code ?? ''} ${c.error?.message ?? ''}` : caption.length > 160 ? `${caption.slice(0, 157)}…` : caption;
    return `<tr data-key="${h(c.key)}"><td><a class="clip-link" href="${clipHref(c.key)}">${h(c.key)}</a></td><td><span class="badge ${h(c.status)}">${h(c.status)}</span>${c.degradedReasons.length > 0 ? `<br><small>${h(c.degradedReasons.join(', '))}</small>` : ''}</td><td>${decisionBadge(d?.decision)}</td><td>${h(excerpt)}</td></tr>`;
  });
  const body = `<header><h1>Annotation review</h1><p class="muted">${h(o.input)} · ${o.clips.length} clips · ${counts.accept} accepted, ${counts.edit} edited, ${counts.reject} rejected</p></header>
<main id="main">
${lineErrors(o.errors)}
<form class="filters" method="get" action="/" role="search" aria-label="Filter clips">
${select('status', 'Status', ['ok', 'degraded', 'error'], o.filters.status)}
${select('reason', 'Degraded reason', reasons, o.filters.reason)}
${select('decision', 'Decision', ['undecided', 'accept', 'edit', 'reject'], o.filters.decision)}
<label>Search <input type="search" name="q" id="f-q" value="${h(o.filters.q)}" placeholder="words in the caption or id"></label>
<button type="submit">Filter</button> <a href="/">Clear</a>
</form>
<p id="shown-count" aria-live="polite">${o.shown.length} of ${o.clips.length} clips shown</p>
<table id="clips"><caption class="sr-only">Clips</caption><thead><tr><th scope="col">Clip</th><th scope="col">Status</th><th scope="col">Decision</th><th scope="col">Caption</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<p class="muted">Keyboard: ${SHORTCUTS_LIST}.</p>
</main>`;
  return page('Annotations', body, { bodyClass: 'list' });
}

function roundItem(r: unknown, i: number): string {
  if (!isRecord(r)) return `<li>${h(JSON.stringify(r))}</li>`;
  if (typeof r.role === 'string') return `<li class="round" data-round="${i}" id="round-${i}"><strong>${h(r.role)}</strong><div class="pre">${h(String(r.content ?? ''))}</div></li>`;
  const n = typeof r.round === 'number' ? r.round : i;
  const head = [`Round ${n}`, typeof r.tool === 'string' ? r.tool : undefined, typeof r.status === 'string' ? r.status : undefined, r.upfront === true ? 'fixed report' : undefined].filter((x) => x !== undefined).join(' · ');
  const parts: string[] = [];
  if (typeof r.question === 'string' && r.question !== '') parts.push(`<div><span class="muted">Q:</span> ${h(r.question)}</div>`);
  if (typeof r.answer === 'string') parts.push(`<div class="pre">${h(r.answer)}</div>`);
  if (typeof r.reason === 'string') parts.push(`<div>${h(r.reason)}</div>`);
  if (isRecord(r.error)) parts.push(`<div class="err">${h(String(r.error.code ?? ''))}: ${h(String(r.error.message ?? ''))}</div>`);
  return `<li class="round" data-round="${n}" id="round-${n}"><h3>${h(head)}</h3>${parts.join('')}</li>`;
}

function fmtTime(s: number | undefined): string {
  return s === undefined ? '' : `${s.toFixed(2)} s`;
}

/** The caption as sentence buttons (their evidence listed in a hidden panel each), or plain text with a note. */
function captionBlock(c: ReviewClip): string {
  if (c.provenance === undefined || c.provenance.length === 0) {
    const why = c.provenanceError !== undefined ? `provenance could not be read: ${c.provenanceError}` : 'no provenance recorded';
    return `<p id="caption" class="caption">${h(c.caption)}</p><p class="note" id="no-provenance">${h(why)}</p>`;
  }
  const sorted = c.provenance.map((p, i) => ({ ...p, i })).sort((a, b) => a.start - b.start);
  let pos = 0;
  let html = '';
  const panels: string[] = [];
  for (const s of sorted) {
    if (s.start < pos) continue; // overlapping sentences: the first one wins
    html += h(c.caption.slice(pos, s.start));
    const rounds = [...new Set(s.evidence.map((e) => e.round))].join(',');
    const seek = s.evidence.find((e) => e.start_seconds !== undefined)?.start_seconds;
    const flag = s.supported ? '' : '<mark class="flag" title="no supporting observation">⚠<span class="sr-only"> (no supporting observation)</span></mark>';
    html += `<button type="button" class="sentence${s.supported ? '' : ' unsupported'}" id="s-${s.i}" data-rounds="${rounds}"${seek !== undefined ? ` data-seek="${seek}"` : ''} aria-controls="ev-${s.i}" aria-pressed="false">${h(c.caption.slice(s.start, s.end))}${flag}</button>`;
    const items = s.evidence.map((e) => `<li><a href="#round-${e.round}">round ${e.round}</a> · ${h(e.tool)}${e.start_seconds !== undefined ? ` · ${fmtTime(e.start_seconds)}${e.end_seconds !== undefined ? `–${fmtTime(e.end_seconds)}` : ''}` : ''}${e.text !== undefined ? ` · “${h(e.text)}”` : ''}</li>`);
    panels.push(`<div class="evidence-panel" id="ev-${s.i}" hidden><h3>Evidence for sentence ${s.i + 1}</h3>${items.length > 0 ? `<ul>${items.join('')}</ul>` : '<p>No observation supports this sentence.</p>'}</div>`);
    pos = s.end;
  }
  html += h(c.caption.slice(pos));
  const unsupported = c.provenance.filter((p) => !p.supported).length;
  return `<p id="caption" class="caption">${html}</p><p class="muted">${unsupported} of ${c.provenance.length} sentences without supporting evidence (marked ⚠). Select a sentence to highlight its evidence rounds and seek the media.</p><div id="evidence" aria-live="polite">${panels.join('')}</div>`;
}

function mediaBlock(c: ReviewClip): string {
  if (c.mediaPath === undefined) return '<p class="note">This line names no media file.</p>';
  const src = `/media/${encodeURIComponent(c.key)}`;
  if (c.hasVideo) return `<video id="player" controls preload="metadata" src="${src}" aria-label="Clip video"></video>`;
  return `<audio id="player" controls preload="metadata" src="${src}" aria-label="Clip audio"></audio>
<canvas id="waveform" width="960" height="120" data-peaks="/peaks/${encodeURIComponent(c.key)}" role="img" aria-label="Waveform of the clip's audio; click to seek"></canvas>
<p id="media-error" class="err" hidden></p>`;
}

const SHORTCUTS_CLIP = `<dl class="keys">
<dt><kbd>a</kbd></dt><dd>accept the caption</dd>
<dt><kbd>e</kbd></dt><dd>edit the caption (then <kbd>Ctrl</kbd>+<kbd>Enter</kbd> saves the edit)</dd>
<dt><kbd>r</kbd></dt><dd>reject: type the note, then <kbd>Enter</kbd></dd>
<dt><kbd>p</kbd></dt><dd>play or pause the media</dd>
<dt><kbd>j</kbd> / <kbd>k</kbd></dt><dd>next / previous clip</dd>
<dt><kbd>l</kbd></dt><dd>back to the list</dd>
<dt><kbd>Esc</kbd></dt><dd>leave a text field</dd>
</dl>`;

export function annotationClipPage(o: { clip: ReviewClip; decision?: ReviewDecision; prev?: string; next?: string; error?: string; form?: { caption?: string; note?: string } }): string {
  const c = o.clip;
  const d = o.decision;
  const current = d === undefined
    ? '<p id="current-decision">Not reviewed yet.</p>'
    : `<p id="current-decision">${decisionBadge(d.decision)} by ${h(d.reviewer)} at <time datetime="${h(d.time)}">${h(d.time)}</time>${d.note !== undefined ? ` · note: <q>${h(d.note)}</q>` : ''}</p>`;
  const text = o.form?.caption ?? (d?.decision === 'edit' && d.caption !== undefined ? d.caption : c.caption);
  const nav = `<nav aria-label="Clips"><a href="/" id="to-list">All clips</a>${o.prev !== undefined ? ` · <a href="${clipHref(o.prev)}" id="prev" rel="prev">Previous</a>` : ''}${o.next !== undefined ? ` · <a href="${clipHref(o.next)}" id="next" rel="next">Next</a>` : ''}</nav>`;
  const form = c.status === 'error'
    ? `<p class="err">This clip failed: ${h(c.error?.code ?? '')} ${h(c.error?.message ?? '')}. It has no caption to review.</p>`
    : `<form method="post" action="${clipHref(c.key)}/decision" id="decision-form">
${current}
${o.error !== undefined ? `<p class="alert" role="alert" id="form-error">${h(o.error)}</p>` : ''}
<label for="caption-edit">Caption (change it, then Save edit)</label>
<textarea id="caption-edit" name="caption" rows="8">${h(text)}</textarea>
<label for="note">Note (required to reject)</label>
<input id="note" name="note" type="text" value="${h(o.form?.note ?? '')}" autocomplete="off">
<div class="actions">
<button type="submit" name="decision" value="accept" id="btn-accept">Accept <kbd>a</kbd></button>
<button type="submit" name="decision" value="edit" id="btn-edit">Save edit <kbd>Ctrl+Enter</kbd></button>
<button type="submit" name="decision" value="reject" id="btn-reject">Reject <kbd>r</kbd></button>
</div>
</form>`;
  const body = `<header>${nav}<h1>Clip <span id="clip-key">${h(c.key)}</span></h1><p><span class="badge ${h(c.status)}">${h(c.status)}</span>${c.degradedReasons.length > 0 ? ` degraded: ${h(c.degradedReasons.join(', '))}` : ''} · line ${c.line}${c.mediaPath !== undefined ? ` · <code>${h(c.mediaPath)}</code>` : ''}</p></header>
<main id="main" class="clip-page">
<div class="cols">
<div>
<section aria-labelledby="h-media"><h2 id="h-media">Media</h2>${mediaBlock(c)}</section>
<section aria-labelledby="h-caption"><h2 id="h-caption">Caption</h2>${captionBlock(c)}</section>
</div>
<div>
<section aria-labelledby="h-decision"><h2 id="h-decision">Decision</h2>${form}</section>
<section aria-labelledby="h-keys"><h2 id="h-keys">Keyboard shortcuts</h2>${SHORTCUTS_CLIP}</section>
</div>
</div>
<section aria-labelledby="h-rounds"><h2 id="h-rounds">Rounds (${c.rounds.length})</h2><ol id="rounds">${c.rounds.map(roundItem).join('\n')}</ol></section>
</main>`;
  return page(`Clip ${c.key}`, body, { bodyClass: 'clip' });
}
