/*
 * One import of a bundle in a fresh `node`, in the environment Lambda gives the function: the measure of the
 * cold-start bench.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { CfnTemplate } from '../src/local/template.js';

/** A function's environment from the template, references replaced by placeholders (nothing reads them at init). */
export function functionEnv(template: CfnTemplate, logicalId: string): Record<string, string> {
  const variables = (template.Resources[logicalId]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `bench-${name.toLowerCase()}`]));
}

const LAMBDA_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SESSION_TOKEN: 'bench',
};

const IMPORT_SCRIPT = `
const url = process.argv[1];
const cpu = process.cpuUsage();
const started = performance.now();
await import(url);
const importMs = performance.now() - started;
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ importMs, cpuMs: (used.user + used.system) / 1000 }));
`;

export interface ImportSample {
  /** Wall time of `await import(bundle)`. */
  readonly importMs: number;
  /** CPU time the process spent on it (every thread): what other processes on a loaded machine do not inflate. */
  readonly cpuMs: number;
  /** The whole process, node boot and exit included. */
  readonly processMs: number;
}

/** One import in a fresh node: the module's own import time (wall and CPU), and the whole process. */
export function importOnce(file: string, env: Record<string, string>, sourceMaps: boolean): Promise<ImportSample> {
  return new Promise((resolve, reject) => {
    const rest = Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'NODE_OPTIONS'));
    const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...LAMBDA_ENV, ...rest, ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}) };
    const started = performance.now();
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const processMs = performance.now() - started;
      const jsonStart = out.lastIndexOf('{"importMs"');
      if (code !== 0 || jsonStart < 0) {
        reject(new Error(`importing ${file} failed (${String(code)}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      const measured = JSON.parse(out.slice(jsonStart)) as { importMs: number; cpuMs: number };
      resolve({ importMs: measured.importMs, cpuMs: measured.cpuMs, processMs });
    });
  });
}
