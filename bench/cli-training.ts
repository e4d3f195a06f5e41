/*
 * Local training through the CLI path a user takes: the local stack (local S3, dynalite, the emulator, the
 * production state machines), `pneumo dataset upload <train split>`, then `pneumo retrain --wait`. Unlike the
 * model part's --via-emulator (a direct manifest), PrepareDataset lists training/<LABEL>/ past 1 000 keys and
 * writes the manifest itself.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RetrainReport } from '../src/cli/commands/retrain.js';
import type { UploadReport } from '../src/cli/commands/dataset.js';
import { runCli } from '../src/cli/program.js';
import { writeEndpointsFile } from '../src/local/endpoints-file.js';
import { startLocalStack } from '../src/local/stack.js';
import { packageTemplate } from '../src/local/template.js';
import { PROJECT_DIR } from './common.js';

export interface CliTrainingResult {
  readonly images: number;
  readonly uploadSeconds: number;
  readonly uploadPerSecond: number;
  readonly retrainSeconds: number;
  readonly f1: number | null;
  readonly status: string;
  readonly error: string | null;
  readonly cause: string | null;
}

export async function runCliTrainingBench(options: { readonly data: string; readonly log: (line: string) => void }): Promise<CliTrainingResult> {
  if (!existsSync(options.data)) throw new Error(`${options.data} is missing: the cli-training part needs the chest-xray training split (--data DIR)`);
  const dataDir = await mkdtemp(join(tmpdir(), 'pneumo-bench-cli-'));
  // The local stage, as `npm start` runs it: its polls are seconds, not the deployed stages' minutes.
  const { template, outDir } = await packageTemplate({ projectDir: PROJECT_DIR, stage: 'local', region: 'eu-west-1' });
  await rm(outDir, { recursive: true, force: true });
  const stack = await startLocalStack({
    projectDir: PROJECT_DIR,
    dataDir,
    region: 'eu-west-1',
    ports: { s3: 0, dynamodb: 0, sfn: 0 },
    rekognition: { port: 0 },
    retryDelayMs: 0,
    environmentOverrides: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    template,
  });
  const lines: string[] = [];
  const cli = async (argv: string[]): Promise<{ code: number; seconds: number; text: string }> => {
    lines.length = 0;
    const started = performance.now();
    const code = await runCli(['--data-dir', dataDir, ...argv], {
      io: { out: (line) => lines.push(line), err: () => undefined, errRaw: () => undefined, errIsTTY: false, errColumns: 100 },
      sleep: () => stack.idle(),
    });
    return { code, seconds: (performance.now() - started) / 1000, text: lines.join('\n') };
  };
  try {
    await writeEndpointsFile(stack, dataDir, 'eu-west-1');
    const upload = await cli(['dataset', 'upload', options.data, '-c', '16', '-f', 'json']);
    const uploaded = JSON.parse(upload.text) as UploadReport;
    if (upload.code !== 0) throw new Error(`dataset upload exited ${upload.code}`);
    options.log(`  dataset upload: ${uploaded.uploaded} images in ${upload.seconds.toFixed(1)} s`);
    const retrain = await cli(['retrain', '--wait', '--version-name', 'bench-cli', '-f', 'json']);
    const report = JSON.parse(retrain.text) as RetrainReport;
    options.log(`  retrain --wait: ${report.status} in ${retrain.seconds.toFixed(1)} s, F1 ${report.f1?.toFixed(3) ?? 'n/a'}${report.error ? ` (${report.error}: ${report.cause ?? ''})` : ''}`);
    return {
      images: uploaded.uploaded,
      uploadSeconds: Math.round(upload.seconds * 10) / 10,
      uploadPerSecond: Math.round(uploaded.uploaded / upload.seconds),
      retrainSeconds: Math.round(retrain.seconds * 10) / 10,
      f1: report.f1,
      status: report.status,
      error: report.error,
      cause: report.cause,
    };
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
