import { execSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { NotificationJournal } from '../../src/local/notification-journal.js';
import { LOCAL_CREDENTIALS } from '../../src/local/s3.js';
import { fixtureImage } from '../fixtures/images.js';
import { batchBodies, batchIndex, batchKey, heldInChild, KILL_PREFIX as PREFIX } from './support/kill-batch.js';
import { freePort } from '../fixtures/ports.js';
import { ANSWERED, deadLetterKeys, deployModel, eventKey, inPool, localTemplate, PROJECT_DIR, REGION, startHarness } from './support/stack.js';
import type { Harness, Row } from './support/stack.js';
import { outcomeKey } from './support/events.js';
import { FamilyTally, table } from './support/summary.js';

/*
 * Process killed mid-batch and restarted. A stack is prepared on a data folder (model trained and running, some
 * images answered) and stopped; a child process (`npx tsx support/kill-child.ts`) starts the stack on the same
 * folder and ports, uploads a batch and is SIGKILLed part-way. The stack then restarts on the same folder here:
 * nothing it kept on disk may be corrupt, it must still serve, and every upload the child saw acknowledged must
 * be answered without being sent again: its notification was journaled before the acknowledgement
 * (src/local/notification-journal.ts) and the restart re-delivers it. The child never hands every third key's
 * event to classify, so some acknowledged uploads are certainly unanswered at the kill, however fast the machine.
 */

const BATCH = 400;
const KILL_AFTER_UPLOADS = 150;

let dataDir: string;
let templatePath: string;
let ports: { s3: number; dynamodb: number; sfn: number; rekognition: number; events: number };
let harness: Harness | undefined;
const tally = new FamilyTally('process kill and restart');

async function start(): Promise<Harness> {
  return startHarness({
    template: await localTemplate(inject('localPackageDir')),
    dataDir,
    ports: { s3: ports.s3, dynamodb: ports.dynamodb, sfn: ports.sfn, events: ports.events },
    rekognition: { port: ports.rekognition },
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pneumo-kill-'));
  templatePath = join(inject('localPackageDir'), 'cloudformation-template-update-stack.json');
  // Fixed ports: the restarted stack is reached at the same addresses, like a restarted `npm start`.
  ports = { s3: await freePort(), dynamodb: await freePort(), sfn: await freePort(), rekognition: await freePort(), events: await freePort() };
  const first = await start();
  await deployModel(first);
  await first.put('inbox/before-kill/a.jpeg', fixtureImage('normal-1.jpeg'));
  await first.put('inbox/before-kill/b.jpeg', fixtureImage('pneumonia-1.jpeg'));
  await first.stack.idle();
  await first.close({ keepData: true });
});

afterAll(async () => {
  tally.print();
  await harness?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/**
 * Waits (bounded) until every fixed port can be bound again: startLocalStack does not reject when a port is
 * taken (startDynalite and startLocalSfn listen without an 'error' handler), so a restart onto a port still
 * held would hang instead of failing.
 */
async function portsReleased(timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const [name, port] of Object.entries(ports)) {
    for (;;) {
      const probe = createServer();
      const free = await new Promise<boolean>((resolve) => {
        probe.once('error', () => {
          resolve(false);
        });
        probe.listen(port, '127.0.0.1', () => {
          resolve(true);
        });
      });
      if (free) {
        await new Promise((resolve) => probe.close(resolve));
        break;
      }
      if (Date.now() > deadline) {
        const holders = execSync(`ss -tanp | grep ':${port} ' || true`).toString();
        throw new Error(`port ${name} ${port} is still taken after the kill:\n${holders}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Runs the child until `killAfter` uploads are confirmed, then SIGKILLs its whole process group; returns every
 * upload the child saw acknowledged, up to its last line.
 */
async function runAndKill(killAfter: number): Promise<{ uploaded: string[]; finished: boolean; signal: string | null }> {
  const child: ChildProcess = spawn('npx', ['tsx', join(import.meta.dirname, 'support/kill-child.ts'), dataDir, templatePath, JSON.stringify(ports), String(BATCH)], {
    cwd: PROJECT_DIR,
    // Its own process group, so the kill reaches tsx's node process behind npx, and only this tree.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const uploaded: string[] = [];
  let finished = false;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => { resolve(signal); }));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let killed = false;
  // Read to the end: acknowledgements the child printed before the kill landed count too (they are the riskiest).
  for await (const line of lines) {
    if (line.startsWith('UPLOADED ')) uploaded.push(line.slice('UPLOADED '.length));
    if (line === 'IDLE') finished = true;
    if (!killed && uploaded.length >= killAfter && child.pid !== undefined && child.exitCode === null) {
      process.kill(-child.pid, 'SIGKILL');
      killed = true;
    }
  }
  const signal = await exited;
  if (uploaded.length < killAfter) throw new Error(`the child ended before the kill (${uploaded.length} uploads): ${stderr.slice(-2000)}`);
  return { uploaded, finished, signal };
}

describe('process killed mid-batch and restarted', () => {
  it('keeps everything it stored, still serves, and answers every acknowledged upload without a resend', async () => {
    const killed = await runAndKill(KILL_AFTER_UPLOADS);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.finished).toBe(false);

    const confirmed = new Set(killed.uploaded);
    // What the killed process left to re-deliver, read from a copy (opening the journal rewrites it).
    const journalCopy = join(dataDir, 'journal-after-kill.jsonl');
    await copyFile(join(dataDir, 'notifications.jsonl'), journalCopy);
    const left = NotificationJournal.open(journalCopy);
    left.journal.close();
    const journaledKeys = new Set(left.unsettled.map((entry) => eventKey(entry.event)));
    // Every acknowledged upload whose event the child held is in the journal: it was queued before the PUT was
    // answered and never settled.
    const heldAcknowledged = [...confirmed].filter(heldInChild);
    expect(heldAcknowledged.length).toBeGreaterThan(0);
    expect(heldAcknowledged.filter((key) => !journaledKeys.has(key))).toEqual([]);

    // Restart on the same folder: S3 objects, both tables, the emulator's model and the dead-letter file.
    await portsReleased();
    const warnings: string[] = [];
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation((warning) => {
      warnings.push(String(warning));
    });
    harness = await start();
    warn.mockRestore();
    const removedAtStart = warnings.filter((warning) => warning.startsWith(`removed s3://`));
    const stack = harness;
    // The journal's re-deliveries, all handled before the client sends anything again.
    await stack.stack.idle();
    const redelivered = [...stack.outcomes];
    const redeliveredKeys = new Set(redelivered.map(outcomeKey));
    // Exactly what the journal held was re-delivered, and every held acknowledged upload got its row from it.
    expect([...redeliveredKeys].sort()).toEqual([...journaledKeys].sort());
    const writtenOnRestart = new Set(redelivered.filter((outcome) => outcome.kind === 'written').map(outcomeKey));
    expect(heldAcknowledged.filter((key) => !writtenOnRestart.has(key))).toEqual([]);
    const rows = new Map((await stack.rows()).map((row) => [row.imageKey, row]));
    expect(ANSWERED).toContain(rows.get('inbox/before-kill/a.jpeg')?.status);
    expect(ANSWERED).toContain(rows.get('inbox/before-kill/b.jpeg')?.status);
    for (const row of rows.values()) expect(['CLASSIFIED', 'NEEDS_REVIEW', 'PENDING', 'REJECTED', 'FAILED']).toContain(row.status);

    // Each key of the batch, read back and compared with the bytes the child sent for it.
    const bodies = await batchBodies();
    const keys = Array.from({ length: BATCH }, (_, i) => batchKey(i));
    const sent = (key: string): Uint8Array => bodies[batchIndex(key) % bodies.length] as Uint8Array;
    // Short timeouts and no SDK retries, so an object whose files the kill cut short cannot stall the check.
    const s3 = new S3Client({
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.stack.endpoints.s3,
      forcePathStyle: true,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 3_000, connectionTimeout: 3_000 },
    });
    const put = (key: string): Promise<unknown> => s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: sent(key) }));
    // 'whole', 'absent' or 'torn: …'
    const state = new Map<string, string>();
    for (const key of keys) {
      try {
        const { Body } = await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
        const bytes = (await Body?.transformToByteArray()) ?? new Uint8Array();
        state.set(key, Buffer.compare(bytes, sent(key)) === 0 ? 'whole' : `torn: reads ${bytes.length} of ${sent(key).length} bytes`);
      } catch (error) {
        const name = error instanceof Error ? error.name : String(error);
        state.set(key, name === 'NoSuchKey' ? 'absent' : `torn: GET fails with ${name}`);
      }
    }
    // A PUT the client saw succeed is stored whole.
    expect(keys.filter((key) => confirmed.has(key) && state.get(key) !== 'whole')).toEqual([]);
    const stored = keys.filter((key) => state.get(key) === 'whole');
    // The local S3 answers a PUT only once its bytes and its log line are on disk; the restart removed what a kill
    // cut short before that (src/local/s3/catalog.ts), so nothing reads torn and the prefix lists again.
    expect(keys.filter((key) => state.get(key)?.startsWith('torn')).map((key) => `${key}: ${state.get(key) ?? ''}`)).toEqual([]);
    // Whatever the S3 underneath removed at start (an upload the kill cut short) was never acknowledged.
    const removedKeys = removedAtStart.map((warning) => /^removed s3:\/\/[^/]+\/(.+?), /.exec(warning)?.[1] ?? warning);
    expect(removedKeys.filter((key) => confirmed.has(key) || !key.startsWith(PREFIX))).toEqual([]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: PREFIX }));
    expect(listed.KeyCount).toBe(stored.length);

    // What the kill lost: an acknowledged upload with no row and no dead letter. An object stored whole whose PUT
    // was never acknowledged may lack its notification (the kill fell between the local S3's write and its event);
    // its client never saw success and sends it again, as with S3.
    const deadLettered = new Set((await stack.deadLetters()).flatMap(deadLetterKeys));
    const answered = stored.filter((key) => ANSWERED.includes(rows.get(key)?.status ?? ''));
    const lost = [...confirmed].filter((key) => !ANSWERED.includes(rows.get(key)?.status ?? '') && !deadLettered.has(key));
    const unacknowledgedWithoutRow = stored.filter((key) => !confirmed.has(key) && !rows.has(key));
    expect(lost).toEqual([]);
    expect(stored.filter((key) => rows.has(key) && !ANSWERED.includes(rows.get(key)?.status ?? '')).map((key) => rows.get(key))).toEqual([]);

    // The client resumes its batch, re-sending every upload it did not see succeed.
    const resend = keys.filter((key) => !confirmed.has(key));
    await inPool(resend, 16, async (key) => {
      await put(key);
    });
    await stack.put('inbox/after-restart.jpeg', fixtureImage('pneumonia-2.jpeg'));
    await stack.stack.idle();
    const after = new Map((await stack.rows()).map((row: Row) => [row.imageKey, row]));
    const stillMissing = keys.filter((key) => !ANSWERED.includes(after.get(key)?.status ?? ''));
    expect(stillMissing).toEqual([]);
    expect(ANSWERED).toContain(after.get('inbox/after-restart.jpeg')?.status);
    expect(await stack.deadLetters()).toEqual([]);
    const relisted = await s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: PREFIX }));
    expect(relisted.KeyCount).toBe(BATCH);

    process.stdout.write(
      `\n${table(
        ['after the kill (batch of ' + String(BATCH) + ')', 'objects'],
        [
          ['uploads confirmed to the child before SIGKILL', confirmed.size],
          ['stored whole after the restart', stored.length],
          ['cut short by the kill, removed when the stack restarted', removedAtStart.length],
          ['absent (never sent, cut short, or cut before any file was written)', keys.length - stored.length],
          ['answered after the restart (before the kill, or re-delivered from the journal)', answered.length],
          ['acknowledged, event held in the child, answered by the re-delivery', heldAcknowledged.length],
          ['re-delivered from the journal at restart (answered, duplicate or skipped)', redeliveredKeys.size],
          ['acknowledged but unanswered after the restart: lost', lost.length],
          ['stored whole, never acknowledged, no notification (the client re-sends these)', unacknowledgedWithoutRow.length],
          ['answered after the client resumed its batch', keys.length - stillMissing.length],
        ],
      )}\n${removedAtStart.join('\n')}\n`,
    );
    s3.destroy();
    tally.add(confirmed.size, confirmed.size - lost.length, lost.length);
    tally.note(
      `${confirmed.size} acknowledged uploads all answered after the restart without a resend (${redeliveredKeys.size} re-delivered from the journal, ${heldAcknowledged.length} of them held in the child before the kill); ` +
        `${removedAtStart.length} unacknowledged upload(s) cut short by the kill were removed at restart; all ${BATCH} answered once the client resumed`,
    );
  }, 300_000);
});
