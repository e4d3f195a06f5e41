import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Submission } from '../../src/cli/commands/submit.js';
import type { ResultView } from '../../src/cli/results-view.js';
import { BUCKET, putResult, REGION, REGISTRY_TABLE, RESULTS_TABLE, startLocalServers } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';
import { fixtureImage } from '../fixtures/images.js';

const BIN = fileURLToPath(new URL('../../bin/pneumo.js', import.meta.url));

/** Runs the installed command as a user would; asynchronous, so the servers in this process keep answering. */
function pneumo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, AWS_REGION: REGION, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bin/pneumo.js', () => {
  let servers: LocalServers;
  let dataDir: string;
  let emptyDir: string;

  beforeAll(async () => {
    servers = await startLocalServers();
    dataDir = await mkdtemp(join(tmpdir(), 'pneumo-e2e-'));
    emptyDir = await mkdtemp(join(tmpdir(), 'pneumo-e2e-empty-'));
    // This test process serves the endpoints, so its pid is the "running local stack".
    await writeFile(
      join(dataDir, 'endpoints.json'),
      JSON.stringify({ pid: process.pid, region: REGION, endpoints: servers.endpoints, names: { bucket: BUCKET, tables: { ResultsTable: RESULTS_TABLE, RegistryTable: REGISTRY_TABLE } } }),
    );
    await writeFile(join(dataDir, 'chest.jpeg'), fixtureImage('pneumonia-1.jpeg'));
    const target = servers.target();
    await putResult(target, { imageKey: 'inbox/old.jpeg', label: 'NORMAL', confidence: 90, processedAt: '2026-11-25T09:00:00.000Z' });
    target.close();
  });

  afterAll(async () => {
    await servers.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('--help lists every command and exits 0', async () => {
    const { code, stdout } = await pneumo(['--help']);
    expect(code).toBe(0);
    for (const command of ['submit', 'results', 'result', 'watch', 'retrain', 'model', 'dataset', 'dlq', 'local']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('exits 2 on bad arguments and 3 when the local stack is not running, each with a one-line message', async () => {
    const bad = await pneumo(['results', '--status', 'DONE']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: option '-s, --status <status>' argument 'DONE' is invalid\. Expected one of CLASSIFIED/);
    const down = await pneumo(['--data-dir', emptyDir, 'results']);
    expect(down.code).toBe(3);
    expect(down.stderr.trim().split('\n')).toEqual([`pneumo: no local stack has run in ${emptyDir} (no endpoints.json); start it with \`pneumo local up\` (or npm start)`]);
  });

  it('submits to and reads from a running local stack; --format json parses back; a missing result exits 1', async () => {
    const submitted = await pneumo(['--data-dir', dataDir, 'submit', join(dataDir, 'chest.jpeg'), '-f', 'json']);
    expect(submitted.code).toBe(0);
    expect((JSON.parse(submitted.stdout) as Submission[]).map((s) => [s.key, s.outcome])).toEqual([['inbox/chest.jpeg', 'uploaded']]);
    expect(submitted.stderr).toMatch(/uploaded 1 image\(s\)/);

    const listed = await pneumo(['--data-dir', dataDir, 'results', '--label', 'NORMAL', '-f', 'json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as ResultView[]).map((v) => [v.key, v.label, v.confidence])).toEqual([['inbox/old.jpeg', 'NORMAL', 90]]);

    const missing = await pneumo(['--data-dir', dataDir, 'result', 'chest.jpeg']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`pneumo: no result for inbox/chest.jpeg yet (the image is in s3://${BUCKET}/inbox/chest.jpeg; classify has not answered)`);
  });
});
