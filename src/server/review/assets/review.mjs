// omnicap review pages: waveform, provenance highlighting and keyboard shortcuts. No framework;
// the pages work without it (forms post and redirect), this only adds the conveniences.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const player = () => $('#player');

/** Draws the peaks of the clip's decoded audio and a playhead; a click seeks. */
async function waveform(canvas) {
  const media = player();
  const err = $('#media-error');
  let data;
  try {
    const res = await fetch(canvas.dataset.peaks);
    const body = await res.json();
    if (!res.ok) throw new Error(`${body.error?.code ?? res.status}: ${body.error?.message ?? 'no waveform'}`);
    data = body;
  } catch (e) {
    if (err) { err.hidden = false; err.textContent = `Waveform unavailable: ${e.message}`; }
    canvas.hidden = true;
    return;
  }
  const ctx = canvas.getContext('2d');
  const draw = () => {
    const w = canvas.width;
    const hgt = canvas.height;
    ctx.clearRect(0, 0, w, hgt);
    ctx.fillStyle = '#57606a';
    const n = data.peaks.length;
    for (let i = 0; i < n; i++) {
      const y = Math.max(1, data.peaks[i] * (hgt - 4));
      ctx.fillRect((i / n) * w, (hgt - y) / 2, Math.max(1, w / n - 0.5), y);
    }
    if (media && data.duration_seconds > 0) {
      ctx.fillStyle = '#cf222e';
      ctx.fillRect((media.currentTime / data.duration_seconds) * w - 1, 0, 2, hgt);
    }
  };
  canvas.dataset.drawn = String(data.peaks.length);
  draw();
  if (media) {
    media.addEventListener('timeupdate', draw);
    media.addEventListener('seeked', draw);
    canvas.addEventListener('click', (ev) => {
      const r = canvas.getBoundingClientRect();
      media.currentTime = ((ev.clientX - r.left) / r.width) * data.duration_seconds;
    });
  }
}

/** A caption sentence selected: its evidence rounds highlighted, its panel shown, the media sought to its first evidence time. */
function selectSentence(btn) {
  for (const b of $$('.sentence')) b.setAttribute('aria-pressed', String(b === btn));
  for (const p of $$('.evidence-panel')) p.hidden = p.id !== btn.getAttribute('aria-controls');
  const rounds = new Set((btn.dataset.rounds ?? '').split(',').filter((x) => x !== ''));
  let first;
  for (const li of $$('#rounds .round')) {
    const on = rounds.has(li.dataset.round);
    li.classList.toggle('evidence', on);
    if (on && first === undefined) first = li;
  }
  first?.scrollIntoView({ block: 'nearest' });
  const media = player();
  if (media && btn.dataset.seek !== undefined) media.currentTime = Number(btn.dataset.seek);
}

const typing = (el) => el instanceof HTMLElement && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
const go = (sel) => { const a = $(sel); if (a) a.click(); };

function moveFocus(items, step) {
  if (items.length === 0) return;
  const i = items.findIndex((x) => x === document.activeElement || x.contains(document.activeElement));
  items[Math.min(items.length - 1, Math.max(0, i < 0 ? 0 : i + step))].focus();
}

/** The cloze blank the keyboard acts on: the one holding focus, else the one in the URL, else the first. */
function currentBlank() {
  const active = document.activeElement?.closest?.('.blank');
  if (active) return active;
  const byHash = location.hash.startsWith('#blank-') ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  return byHash ?? $('.blank');
}

function onKey(ev) {
  const t = ev.target;
  const body = document.body.classList;
  if (ev.key === 'Escape' && typing(t)) { t.blur(); return; }
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && typing(t)) {
    const blank = t.closest('.blank');
    const btn = blank ? $('.btn-edit', blank) : $('#btn-edit');
    if (btn) { ev.preventDefault(); btn.click(); }
    return;
  }
  if (ev.key === 'Enter' && t instanceof HTMLInputElement) {
    const blank = t.closest('.blank');
    const btn = t.id === 'note' ? $('#btn-reject') : blank ? $(t.classList.contains('note') ? '.btn-reject' : '.btn-edit', blank) : null;
    if (btn) { ev.preventDefault(); btn.click(); }
    return;
  }
  if (typing(t) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (body.contains('list')) {
    if (ev.key === '/') { ev.preventDefault(); $('#f-q')?.focus(); }
    else if (ev.key === 'j' || ev.key === 'k') moveFocus($$('a.clip-link'), ev.key === 'j' ? 1 : -1);
    return;
  }
  if (ev.key === 'l') go('#to-list');
  if (body.contains('clip')) {
    const media = player();
    if (ev.key === 'a') go('#btn-accept');
    else if (ev.key === 'e') { ev.preventDefault(); $('#caption-edit')?.focus(); }
    else if (ev.key === 'r') { ev.preventDefault(); $('#note')?.focus(); }
    else if (ev.key === 'p' && media) { if (media.paused) media.play(); else media.pause(); }
    else if (ev.key === 'j') go('#next');
    else if (ev.key === 'k') go('#prev');
  } else if (body.contains('cloze')) {
    const blank = currentBlank();
    if (ev.key === 'j' || ev.key === 'k') moveFocus($$('.blank'), ev.key === 'j' ? 1 : -1);
    else if (!blank) return;
    else if (ev.key === 'a') $('.btn-accept', blank).click();
    else if (ev.key === 'e') { ev.preventDefault(); $('input[name="answer"]', blank).focus(); }
    else if (ev.key === 'r') { ev.preventDefault(); $('.note', blank).focus(); }
  }
}

document.addEventListener('keydown', onKey);
for (const b of $$('.sentence')) b.addEventListener('click', () => selectSentence(b));
const canvas = $('#waveform');
if (canvas) waveform(canvas);
const media = player();
if (media) media.addEventListener('error', () => {
  const err = $('#media-error');
  if (err) { err.hidden = false; err.textContent = 'The media could not be loaded (refused or not found).'; }
});
if (document.body.classList.contains('cloze')) currentBlank()?.focus();
