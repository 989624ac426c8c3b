// Prints the plain `N passed, N failed` line from Vitest's JSON report, so that a run which
// executed no test is visible as `0 passed`.
import { existsSync, readFileSync } from 'node:fs';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests?: number;
  numTodoTests?: number;
  success?: boolean;
  testResults?: { status: string; assertionResults: { status: string }[] }[];
}

const file = process.argv[2] ?? 'reports/vitest.json';
if (!existsSync(file)) {
  console.log('0 passed, 0 failed (no test report: the test runner did not finish)');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
// A file that failed to load (syntax error, failing hook) has no failed test but counts as one failure.
const brokenFiles = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && !r.assertionResults.some((a) => a.status === 'failed'),
).length;
const failed = report.numFailedTests + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${failed} failed${skipped > 0 ? ` (${skipped} skipped)` : ''}`);
process.exit(failed > 0 || report.success === false ? 1 : 0);
