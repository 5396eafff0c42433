// Writes reports/mutation-summary.md from Stryker's JSON report: the score per file and
// every surviving mutant, so that the committed summary says what the tests would miss.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const report = JSON.parse(readFileSync('reports/mutation/mutation.json', 'utf8'));
const lines = ['# Mutation testing summary', '', `StrykerJS, ${new Date().toISOString().slice(0, 10)}, over \`src/\`.`, ''];
let killed = 0;
let survived = 0;
let noCoverage = 0;
let timedOut = 0;
const rows = [];
const survivors = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
  const counts = { Killed: 0, Survived: 0, NoCoverage: 0, Timeout: 0 };
  for (const mutant of mutants) {
    counts[mutant.status] = (counts[mutant.status] ?? 0) + 1;
    if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') {
      survivors.push(`- \`${file}:${mutant.location.start.line}\` ${mutant.mutatorName}${mutant.replacement ? `: \`${mutant.replacement.replace(/\s+/g, ' ').slice(0, 80)}\`` : ''} (${mutant.status})`);
    }
  }
  killed += counts.Killed;
  survived += counts.Survived;
  noCoverage += counts.NoCoverage;
  timedOut += counts.Timeout;
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  rows.push(`| ${file} | ${detected} | ${counts.Survived} | ${counts.NoCoverage} | ${valid ? ((100 * detected) / valid).toFixed(1) : '-'}% |`);
}
const score = (100 * (killed + timedOut)) / (killed + timedOut + survived + noCoverage);
lines.push(`**Mutation score: ${score.toFixed(2)}%** (${killed} killed, ${timedOut} timed out, ${survived} survived, ${noCoverage} without coverage).`, '');
lines.push('| file | detected | survived | no coverage | score |', '| --- | ---: | ---: | ---: | ---: |', ...rows, '');
lines.push('## Surviving mutants', '', ...(survivors.length ? survivors : ['None.']), '');
mkdirSync('reports', { recursive: true });
writeFileSync('reports/mutation-summary.md', `${lines.join('\n')}\n`);
console.log(`mutation score ${score.toFixed(2)}%`);
