/** The page shell and small pieces shared by the review pages (every user datum goes through escapeHtml). */
import { escapeHtml } from '../../util/html';

export const h = escapeHtml;

/** A whole page: one stylesheet and one ES module from /assets, nothing from elsewhere. */
export function page(title: string, body: string, opts: { bodyClass?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)} · omnicap review</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/review.css">
<script type="module" src="/assets/review.mjs"></script>
</head>
<body${opts.bodyClass !== undefined ? ` class="${h(opts.bodyClass)}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
${body}
</body>
</html>
`;
}

/** The per-line read errors of the input file, or nothing. */
export function lineErrors(errors: ReadonlyArray<{ line: number; message: string }>): string {
  if (errors.length === 0) return '';
  const items = errors.map((e) => `<li><span class="line-no">line ${e.line}</span>: ${h(e.message)}</li>`).join('\n');
  return `<section class="alert" role="alert" aria-labelledby="bad-lines"><h2 id="bad-lines">${errors.length} ${errors.length === 1 ? 'line' : 'lines'} could not be read</h2><ul id="line-errors">${items}</ul><p>These lines are left out of the list below; fix them in the file and reload.</p></section>`;
}

/** A select whose options are `values` (with an "any" first), the current one selected. */
export function select(name: string, label: string, values: readonly string[], current: string): string {
  const opts = ['', ...values].map((v) => `<option value="${h(v)}"${v === current ? ' selected' : ''}>${v === '' ? 'any' : h(v)}</option>`).join('');
  return `<label>${h(label)} <select name="${h(name)}" id="f-${h(name)}">${opts}</select></label>`;
}

export function decisionBadge(kind: string | undefined): string {
  return kind === undefined ? '<span class="badge undecided">undecided</span>' : `<span class="badge ${h(kind)}">${h(kind === 'accept' ? 'accepted' : kind === 'edit' ? 'edited' : 'rejected')}</span>`;
}

/** The URL path of a clip page (keys are arbitrary strings). */
export function clipHref(key: string): string {
  return `/clips/${encodeURIComponent(key)}`;
}
