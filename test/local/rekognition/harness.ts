import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeProjectVersionsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import type { ProjectVersionDescription } from '@aws-sdk/client-rekognition';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { startRekognitionEmulator } from '../../../src/local/rekognition/index.js';
import type { RekognitionEmulator, RekognitionEmulatorOptions } from '../../../src/local/rekognition/index.js';
import { seededRandom } from '../../../src/local/rekognition/model.js';
import { LOCAL_CREDENTIALS, startLocalS3 } from '../../../src/local/s3.js';

/* Real servers on free loopback ports: the local S3, the emulator, and real SDK clients pointed at them. */

export const BUCKET = 'pneumo-training';

export interface Harness {
  readonly s3: S3Client;
  readonly rekognition: RekognitionClient;
  readonly emulator: RekognitionEmulator;
  readonly dataDir: string;
  /** Closes the emulator and starts a new one on the same data folder (and port). */
  restart(): Promise<Harness>;
  stop(): Promise<void>;
}

export async function startHarness(overrides: Partial<Omit<RekognitionEmulatorOptions, 's3' | 'dataDir'>> = {}): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), 'pneumo-rekognition-'));
  const localS3 = await startLocalS3({ port: 0, directory: join(root, 's3'), buckets: [BUCKET], onObjectCreated: () => undefined });
  const s3 = new S3Client({ endpoint: localS3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_CREDENTIALS });
  const dataDir = join(root, 'rekognition');

  const open = async (port: number): Promise<Harness> => {
    const emulator = await startRekognitionEmulator({ s3, dataDir, port, startingDelayMs: 50, stoppingDelayMs: 50, ...overrides });
    const rekognition = new RekognitionClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    return {
      s3,
      rekognition,
      emulator,
      dataDir,
      restart: async () => {
        await emulator.close();
        rekognition.destroy();
        return open(emulator.port);
      },
      stop: async () => {
        await emulator.close();
        rekognition.destroy();
        s3.destroy();
        await localS3.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  };
  return open(0);
}

export async function putObject(s3: S3Client, key: string, body: Uint8Array | string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

export async function createBucket(s3: S3Client, name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}

/**
 * Two visually distinct synthetic classes (never told apart by name): SMOOTH is a soft gradient with mild noise,
 * STRIPED carries fine stripes at a random angle. `side` px, JPEG.
 */
export async function syntheticImage(kind: 'SMOOTH' | 'STRIPED', seed: number, side = 96): Promise<Buffer> {
  const random = seededRandom(seed);
  const pixels = Buffer.alloc(side * side);
  const angle = random() * Math.PI;
  const period = 5 + random() * 4;
  const base = 60 + random() * 80;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const gradient = base + (y / side) * 60;
      const stripes = kind === 'STRIPED' ? 50 * Math.sin(((x * Math.cos(angle) + y * Math.sin(angle)) * 2 * Math.PI) / period) : 0;
      pixels[y * side + x] = Math.max(0, Math.min(255, Math.round(gradient + stripes + (random() - 0.5) * 20)));
    }
  }
  return sharp(pixels, { raw: { width: side, height: side, channels: 1 } }).jpeg({ quality: 90 }).toBuffer();
}

/** Uploads `perClass` images of each class and a Ground Truth manifest; returns the manifest key. */
export async function uploadSyntheticDataset(s3: S3Client, prefix: string, perClass: number): Promise<string> {
  const lines: string[] = [];
  const kinds = ['SMOOTH', 'STRIPED'] as const;
  for (const [classIndex, kind] of kinds.entries()) {
    for (let i = 0; i < perClass; i++) {
      // Neutral key names: nothing in the path says which class an image is.
      const key = `${prefix}/images/img-${String(classIndex * perClass + i).padStart(3, '0')}.jpeg`;
      await putObject(s3, key, await syntheticImage(kind, 1000 * classIndex + i));
      lines.push(
        JSON.stringify({
          'source-ref': `s3://${BUCKET}/${key}`,
          'texture-class': classIndex,
          'texture-class-metadata': { 'class-name': kind, confidence: 1, type: 'groundtruth/image-classification', 'human-annotated': 'yes', 'creation-date': '2026-11-25T00:00:00', 'job-name': 'test' },
        }),
      );
    }
  }
  const manifestKey = `${prefix}/train.manifest`;
  await putObject(s3, manifestKey, lines.join('\n') + '\n');
  return manifestKey;
}

/** Polls DescribeProjectVersions (bounded) until the version reaches one of `statuses`. */
export async function waitForStatus(
  client: RekognitionClient,
  projectArn: string,
  versionName: string,
  statuses: readonly string[],
  timeoutMs = 15_000,
): Promise<ProjectVersionDescription> {
  const deadline = Date.now() + timeoutMs;
  let last: ProjectVersionDescription | undefined;
  while (Date.now() < deadline) {
    const response = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: [versionName] }));
    last = response.ProjectVersionDescriptions?.[0];
    if (last?.Status && statuses.includes(last.Status)) return last;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`version ${versionName} did not reach ${statuses.join('/')} in ${timeoutMs} ms (last: ${last?.Status ?? 'none'} ${last?.StatusMessage ?? ''})`);
}
