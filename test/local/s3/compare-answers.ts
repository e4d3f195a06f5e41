/**
 * Compares the conformance suite's answers from two S3 implementations, probe by probe:
 *   npx tsx test/local/s3/compare-answers.ts local.json moto.json
 * A probe both answered must have the same answer (status, error code, listing contents, version behaviour).
 * A probe one side has no answer for is one whose documented-S3 assertions failed there: allowed only for the
 * second file's known deviations (the DEVIATIONS table in conformance.test.ts marks those tests `it.fails`,
 * so a deviation that disappears fails that run). Exits 1 on any other difference.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

interface Answers {
  readonly target: string;
  readonly answers: Readonly<Record<string, unknown>>;
}

function load(file: string | undefined): Answers {
  if (!file) throw new Error('usage: compare-answers.ts <ours.json> <theirs.json>');
  return JSON.parse(readFileSync(file, 'utf8')) as Answers;
}

const ours = load(process.argv[2]);
const theirs = load(process.argv[3]);
const probes = [...new Set([...Object.keys(ours.answers), ...Object.keys(theirs.answers)])].sort();
let same = 0;
const differences: string[] = [];
const deviations: string[] = [];
for (const probe of probes) {
  const a = ours.answers[probe];
  const b = theirs.answers[probe];
  if (a === undefined) differences.push(`${probe}: ${ours.target} gave no answer (its assertions failed), ${theirs.target}: ${JSON.stringify(b)}`);
  else if (b === undefined) deviations.push(`${probe}: ${theirs.target} deviates from documented S3 (see DEVIATIONS); ${ours.target}: ${JSON.stringify(a)}`);
  else if (isDeepStrictEqual(a, b)) same++;
  else differences.push(`${probe}: ${ours.target} ${JSON.stringify(a)} ≠ ${theirs.target} ${JSON.stringify(b)}`);
}
console.log(`${ours.target} vs ${theirs.target}: ${same} of ${probes.length} probes answered the same`);
for (const line of deviations) console.log(`  known deviation  ${line}`);
for (const line of differences) console.log(`  DIFFERENT        ${line}`);
process.exitCode = differences.length > 0 ? 1 : 0;
