/** Server-rendered pages of Omni-Cloze verification: the clip list (with the write button) and one clip's blanks. */
import { blankContent, blankKey, type BlankDecision, type ClozeForVerify, type VerifiedSummary } from '../../cloze';
import { clipHref, decisionBadge, h, lineErrors, page } from './html';

type Clip = ClozeForVerify['clips'][number];

export function clozeListPage(o: { input: string; output: string; data: ClozeForVerify; decisions: ReadonlyMap<string, BlankDecision>; written?: VerifiedSummary }): string {
  let total = 0;
  let decided = 0;
  const rows = o.data.clips.map((c) => {
    const n = { accept: 0, edit: 0, reject: 0 };
    for (const b of c.blanks) {
      const d = o.decisions.get(blankKey(c.id, b.id))?.decision;
      if (d !== undefined) n[d]++;
    }
    const done = n.accept + n.edit + n.reject;
    total += c.blanks.length;
    decided += done;
    return `<tr data-key="${h(c.id)}"><td><a class="clip-link" href="${clipHref(c.id)}">${h(c.id)}</a></td><td>${h(c.domain)} / ${h(c.category)}</td><td>${c.blanks.length}</td><td>${n.accept} accepted, ${n.edit} edited, ${n.reject} rejected, ${c.blanks.length - done} undecided</td></tr>`;
  });
  const w = o.written;
  const written = w === undefined ? '' : `<p class="ok" role="status" id="written">Wrote ${w.clips} clips with ${w.blanks} verified blanks to <code>${h(w.output)}</code> (${w.rejected} rejected, ${w.undecided} undecided blanks left out).</p>`;
  const body = `<header><h1>Omni-Cloze verification</h1><p class="muted">${h(o.input)} · ${o.data.clips.length} clips · ${decided} of ${total} blanks decided</p></header>
<main id="main">
${lineErrors(o.data.errors)}
${written}
<form method="post" action="/verified" id="write-form"><p>The verified set keeps accepted and edited blanks (rejected and undecided ones are filled in with their answer) in the released Omni-Cloze layout.</p><button type="submit" id="btn-write">Write verified set to <code>${h(o.output)}</code></button></form>
<table id="clips"><caption class="sr-only">Cloze clips</caption><thead><tr><th scope="col">Clip</th><th scope="col">Domain / category</th><th scope="col">Blanks</th><th scope="col">Decisions</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<p class="muted">Keyboard: <kbd>j</kbd>/<kbd>k</kbd> move between clips, <kbd>Enter</kbd> open.</p>
</main>`;
  return page('Omni-Cloze', body, { bodyClass: 'list' });
}

/** The passage with each [BLANK_n] as a link to its blank's form. */
function passageHtml(c: Clip): string {
  let out = '';
  let pos = 0;
  for (const m of c.passage.matchAll(/\[BLANK_([A-Za-z0-9-]+)\]/g)) {
    out += h(c.passage.slice(pos, m.index));
    out += `<a class="blank-ref" href="#blank-${h(m[1])}">[${h(m[1])}]</a>`;
    pos = (m.index ?? 0) + m[0].length;
  }
  return out + h(c.passage.slice(pos));
}

function blankForm(c: Clip, b: Clip['blanks'][number], d: BlankDecision | undefined, error: { blank: string; message: string } | undefined): string {
  const cur = d?.decision === 'edit' && d.answer !== undefined && d.distractors !== undefined ? { answer: d.answer, distractors: d.distractors } : blankContent(b);
  const id = `b-${h(b.id)}`;
  const who = d === undefined ? '' : ` by ${h(d.reviewer)}${d.note !== undefined ? ` · note: <q>${h(d.note)}</q>` : ''}`;
  const distractors = cur.distractors.map((x, i) => `<label for="${id}-d${i + 1}">Distractor ${i + 1}</label><input id="${id}-d${i + 1}" name="d${i + 1}" value="${h(x)}" autocomplete="off">`).join('');
  return `<section class="blank" id="blank-${h(b.id)}" tabindex="-1" aria-labelledby="${id}-h" data-blank="${h(b.id)}">
<h3 id="${id}-h">Blank ${h(b.id)} · ${h(b.modality)}${b.category !== undefined ? ` · ${h(b.category)}` : ''} ${decisionBadge(d?.decision)}<span class="muted">${who}</span></h3>
${error?.blank === b.id ? `<p class="alert" role="alert">${h(error.message)}</p>` : ''}
<form method="post" action="${clipHref(c.id)}/blanks/${encodeURIComponent(b.id)}" class="blank-form">
<label for="${id}-answer">Answer</label><input id="${id}-answer" name="answer" value="${h(cur.answer)}" autocomplete="off">
<fieldset><legend>Distractors</legend>${distractors}</fieldset>
<label for="${id}-note">Note (required to reject)</label><input id="${id}-note" name="note" class="note" autocomplete="off">
<div class="actions">
<button type="submit" name="decision" value="accept" class="btn-accept">Accept <kbd>a</kbd></button>
<button type="submit" name="decision" value="edit" class="btn-edit">Save edit <kbd>Ctrl+Enter</kbd></button>
<button type="submit" name="decision" value="reject" class="btn-reject">Reject <kbd>r</kbd></button>
</div>
</form>
</section>`;
}

export function clozeClipPage(o: { clip: Clip; decisions: ReadonlyMap<string, BlankDecision>; prev?: string; next?: string; error?: { blank: string; message: string } }): string {
  const c = o.clip;
  const nav = `<nav aria-label="Clips"><a href="/" id="to-list">All clips</a>${o.prev !== undefined ? ` · <a href="${clipHref(o.prev)}" id="prev" rel="prev">Previous</a>` : ''}${o.next !== undefined ? ` · <a href="${clipHref(o.next)}" id="next" rel="next">Next</a>` : ''}</nav>`;
  const body = `<header>${nav}<h1>Cloze clip <span id="clip-key">${h(c.id)}</span></h1><p class="muted">${h(c.domain)} / ${h(c.category)} · line ${c.line} · ${c.blanks.length} blanks</p></header>
<main id="main" class="cloze-page">
<div class="cols">
<div>
<section aria-labelledby="h-passage"><h2 id="h-passage">Passage</h2><p id="passage" class="caption">${passageHtml(c)}</p></section>
${c.referenceCaption !== undefined ? `<section aria-labelledby="h-ref"><h2 id="h-ref">Reference caption</h2><p class="caption">${h(c.referenceCaption)}</p></section>` : ''}
<section aria-labelledby="h-keys"><h2 id="h-keys">Keyboard shortcuts</h2><dl class="keys">
<dt><kbd>j</kbd> / <kbd>k</kbd></dt><dd>next / previous blank</dd>
<dt><kbd>a</kbd></dt><dd>accept the current blank</dd>
<dt><kbd>e</kbd></dt><dd>edit its answer (then <kbd>Ctrl</kbd>+<kbd>Enter</kbd> saves)</dd>
<dt><kbd>r</kbd></dt><dd>reject: type the note, then <kbd>Enter</kbd></dd>
<dt><kbd>l</kbd></dt><dd>back to the list</dd>
</dl></section>
</div>
<div><h2>Blanks</h2>${c.blanks.map((b) => blankForm(c, b, o.decisions.get(blankKey(c.id, b.id)), o.error)).join('\n')}</div>
</div>
</main>`;
  return page(`Cloze ${c.id}`, body, { bodyClass: 'cloze' });
}
