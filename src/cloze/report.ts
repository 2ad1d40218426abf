/** Self-contained HTML report (inline SVG bar charts with CI whiskers, no external assets). */
import { escapeHtml } from '../util/html';
import type { RejectedLine as JsonlRejectedLine } from '../util/jsonl';
import type { Agreement, BaselineCheck, Metrics, PermutationCheck, ScoreReport } from './score';

/** Input lines `cloze score` could not read (reported, never silently dropped), by file. */
export type RejectedLine = JsonlRejectedLine & { file: string };

export interface RobustnessSection {
  baseline?: BaselineCheck;
  permutation?: PermutationCheck;
  agreement?: Agreement;
}

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** One bar of a chart: a share in [0, 1] with an optional interval (whisker). */
export interface Bar {
  value: number;
  ci?: { low: number; high: number };
  colour: string;
  /** Shown after the bars of the row, e.g. "61.0% (n=40)". */
  text: string;
}
export interface BarRow {
  label: string;
  bars: Bar[];
  /** A thin vertical mark across the row (e.g. the chance level). */
  marker?: number;
}

/** An inline SVG bar chart (no scripts, no external assets): rows of one or more horizontal bars. */
export function barChartSvg(title: string, rows: readonly BarRow[]): string {
  const barH = 16;
  const gap = 6;
  const labelW = 200;
  const barW = 360;
  const textW = 260;
  let y = 20;
  const parts: string[] = [];
  for (const row of rows) {
    const h = row.bars.length * barH;
    parts.push(`<text x="${labelW - 6}" y="${y + h / 2 + 4}" text-anchor="end" font-size="12">${escapeHtml(row.label)}</text>`);
    row.bars.forEach((b, i) => {
      const by = y + i * barH;
      parts.push(`<rect x="${labelW}" y="${by}" width="${(b.value * barW).toFixed(1)}" height="${barH - 2}" fill="${b.colour}"/>`);
      if (b.ci !== undefined) parts.push(`<line x1="${(labelW + b.ci.low * barW).toFixed(1)}" x2="${(labelW + b.ci.high * barW).toFixed(1)}" y1="${by + barH / 2 - 1}" y2="${by + barH / 2 - 1}" stroke="#222" stroke-width="2"/>`);
      parts.push(`<text x="${labelW + barW + 6}" y="${by + 12}" font-size="12">${escapeHtml(b.text)}</text>`);
    });
    if (row.marker !== undefined) {
      const x = (labelW + row.marker * barW).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${y - 2}" y2="${y + h}" stroke="#c00" stroke-width="1" stroke-dasharray="3,2"/>`);
    }
    y += h + gap;
  }
  return `<h3>${escapeHtml(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + textW}" height="${y + 10}" role="img"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
}

function barChart(title: string, groups: Record<string, Metrics>): string {
  const rows = Object.entries(groups).map(([k, m]) => ({ label: k, bars: [{ value: m.accuracy, ...(m.ci ? { ci: m.ci.accuracy } : {}), colour: '#4a7bd0', text: `${pct(m.accuracy)} (n=${m.blanks})` }] }));
  return barChartSvg(`${title} (95% CI)`, rows);
}

function table(groups: Record<string, Metrics>): string {
  const ci = (m: Metrics): string => (m.ci ? ` [${pct(m.ci.accuracy.low)}, ${pct(m.ci.accuracy.high)}]` : '');
  const rows = Object.entries(groups)
    .map(([k, m]) => `<tr><td>${escapeHtml(k)}</td><td>${m.clips}</td><td>${m.blanks}</td><td>${pct(m.accuracy)}${ci(m)}</td><td>${pct(m.notGivenRate)}</td><td>${pct(m.wrongRate)}</td><td>${m.netScore.toFixed(3)}</td></tr>`)
    .join('');
  return `<table><tr><th>group</th><th>clips</th><th>blanks</th><th>accuracy [95% CI]</th><th>not given</th><th>wrong</th><th>(correct-wrong)/total</th></tr>${rows}</table>`;
}

export function renderHtmlReport(report: ScoreReport, robustness: RobustnessSection = {}, rejected: readonly RejectedLine[] = []): string {
  const rob: string[] = [];
  if (robustness.baseline) rob.push(`<li>No-caption baseline (the judge's prior: empty caption, no grounding): accuracy ${pct(robustness.baseline.accuracy)}, not given ${pct(robustness.baseline.notGivenRate)} over ${robustness.baseline.blanks} blanks</li>`);
  if (robustness.permutation) {
    const p = robustness.permutation;
    rob.push(`<li>Option permutation: accuracy ${pct(p.originalAccuracy)} → ${pct(p.permutedAccuracy)} (Δ ${(p.accuracyDelta * 100).toFixed(1)} pts), consistency ${pct(p.consistency)} over ${p.pairedBlanks} blanks</li>`);
  }
  if (robustness.agreement) {
    const a = robustness.agreement;
    rob.push(`<li>Two-judge agreement: raw ${pct(a.rawAgreement)}, Cohen's κ ${a.kappa === null ? 'n/a' : a.kappa.toFixed(3)} over ${a.pairedBlanks} blanks</li>`);
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>Omni-Cloze report</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}</style></head><body>
<h1>Omni-Cloze report</h1>
<p>${report.clips} clips scored, ${report.failedClips} failed (excluded), ${rejected.length} input lines rejected (unreadable, excluded). Bootstrap: ${report.bootstrap.samples} resamples of clips, seed ${report.bootstrap.seed}.</p>
${report.clips === 0 ? `<p><strong>Nothing was scored</strong>${rejected.length > 0 ? `: all ${rejected.length} input lines were rejected (see below)` : ''}.</p>` : ''}
<h2>Overall</h2>${table({ overall: report.overall })}
<h2>By modality</h2>${barChart('Accuracy by modality', report.byModality)}${table(report.byModality)}
<h2>By domain</h2>${barChart('Accuracy by domain', report.byDomain)}${table(report.byDomain)}
<h2>By sub-category</h2>${barChart('Accuracy by sub-category', report.byCategory)}${table(report.byCategory)}
${rob.length > 0 ? `<h2>Robustness</h2><ul>${rob.join('')}</ul>` : ''}
${rejected.length > 0 ? `<h2>Rejected input lines (${rejected.length})</h2><ul>${rejected.slice(0, 200).map((r) => `<li>${escapeHtml(r.file)}:${r.line}: ${escapeHtml(r.code)}: ${escapeHtml(r.message)}</li>`).join('')}${rejected.length > 200 ? `<li>… and ${rejected.length - 200} more (all in the JSON report)</li>` : ''}</ul>` : ''}
${report.failed.length > 0 ? `<h2>Failed clips</h2><ul>${report.failed.map((f) => `<li>${escapeHtml(f.id)}: ${escapeHtml(f.reason)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
