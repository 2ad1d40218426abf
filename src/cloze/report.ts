/** Self-contained HTML report (inline SVG bar charts with CI whiskers, no external assets). */
import { escapeHtml } from '../util/html';
import type { Agreement, BaselineCheck, Metrics, PermutationCheck, ScoreReport } from './score';

/** Input lines `cloze score` could not read (reported, never silently dropped). */
export interface RejectedLine {
  file: string;
  line: number;
  code: string;
  message: string;
}

export interface RobustnessSection {
  baseline?: BaselineCheck;
  permutation?: PermutationCheck;
  agreement?: Agreement;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function barChart(title: string, groups: Record<string, Metrics>): string {
  const entries = Object.entries(groups);
  const rowH = 22;
  const labelW = 180;
  const barW = 360;
  const h = entries.length * rowH + 30;
  const rows = entries
    .map(([k, m], i) => {
      const y = 20 + i * rowH;
      const w = m.accuracy * barW;
      const whisker = m.ci ? `<line x1="${labelW + m.ci.accuracy.low * barW}" x2="${labelW + m.ci.accuracy.high * barW}" y1="${y + 8}" y2="${y + 8}" stroke="#222" stroke-width="2"/>` : '';
      return `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end" font-size="12">${escapeHtml(k)}</text><rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="16" fill="#4a7bd0"/>${whisker}<text x="${labelW + barW + 6}" y="${y + 12}" font-size="12">${pct(m.accuracy)} (n=${m.blanks})</text>`;
    })
    .join('');
  return `<h3>${escapeHtml(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 120}" height="${h}" role="img"><title>${escapeHtml(title)} accuracy with 95% CI</title>${rows}</svg>`;
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
  if (robustness.baseline) rob.push(`<li>No-caption baseline: accuracy ${pct(robustness.baseline.accuracy)}, not given ${pct(robustness.baseline.notGivenRate)} over ${robustness.baseline.blanks} blanks</li>`);
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
