import { rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { packageTemplate } from '../src/local/template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder of the one offline `osls package --stage ci` run that every test reads. */
    packageDir: string;
    /** The same for `--stage local` (short polls), which the local stack runs. */
    localPackageDir: string;
  }
}

/*
 * Packaging takes seconds and serverless-esbuild works in `<repo>/.esbuild`, so concurrent packagings of this
 * repository would clash: the whole run packages once, here, and test files read the result.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  // One after the other: both use <repo>/.esbuild.
  const ci = await packageTemplate({ projectDir, stage: 'ci', region: 'eu-west-1' });
  const local = await packageTemplate({ projectDir, stage: 'local', region: 'eu-west-1' });
  project.provide('packageDir', ci.outDir);
  project.provide('localPackageDir', local.outDir);
  return async () => {
    await rm(ci.outDir, { recursive: true, force: true });
    await rm(local.outDir, { recursive: true, force: true });
  };
}
