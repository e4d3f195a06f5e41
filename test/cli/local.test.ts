import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localUp, localUpCommand } from '../../src/cli/commands/local.js';
import { PROJECT_DIR } from '../../src/cli/target.js';
import { captureIo } from '../fixtures/cli.js';

const FAKE = fileURLToPath(new URL('../fixtures/cli-fake-stack.ts', import.meta.url));

describe('pneumo local up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pneumo-local-up-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs what npm start runs: tsx src/local/main.ts with the options given', () => {
    const { command, args } = localUpCommand({ once: true, retrain: false, verbose: true, dataDir: 'data', extra: ['--s3-port', '0'] });
    expect(command).toBe(process.execPath);
    expect(args[0]).toMatch(/node_modules\/tsx\/dist\/cli\.mjs$/);
    expect(args.slice(1)).toEqual([join(PROJECT_DIR, 'src/local/main.ts'), '--once', '--verbose', '--data-dir', join(process.cwd(), 'data'), '--s3-port', '0']);
  });

  it('returns the stack’s exit code (0 or 1) and passes the arguments on', async () => {
    const record = join(dir, 'args.json');
    const io = captureIo();
    expect(await localUp(io, { once: true, retrain: true, verbose: false, dataDir: dir, extra: ['--record', record], entry: FAKE })).toBe(0);
    expect(JSON.parse(await readFile(record, 'utf8'))).toEqual(['--once', '--retrain', '--data-dir', dir, '--record', record]);
    expect(io.stderr[0]).toMatch(/^starting the local stack: .*cli-fake-stack\.ts --once --retrain/);
    expect(await localUp(captureIo(), { once: true, retrain: false, verbose: false, dataDir: dir, extra: ['--exit', '7'], entry: FAKE })).toBe(1);
  });

  it('refuses to start a second stack on a data folder whose stack runs', async () => {
    await writeFile(join(dir, 'endpoints.json'), JSON.stringify({ pid: process.pid, region: 'eu-west-1', endpoints: { s3: 'x', dynamodb: 'y' }, names: { bucket: 'b', tables: {} } }));
    await expect(localUp(captureIo(), { once: true, retrain: false, verbose: false, dataDir: dir, extra: [], entry: FAKE })).rejects.toThrow(/a local stack already runs on .* \(pid \d+\)/);
  });
});
