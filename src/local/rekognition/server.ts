import type { S3Client } from '@aws-sdk/client-s3';
import { Background } from './background.js';
import { Faults } from './faults.js';
import type { FaultRule } from './faults.js';
import { awsJsonHandler, listen } from './http.js';
import { trainedModelPredictor } from './predictor.js';
import type { Predictor } from './predictor.js';
import { recoverState } from './recovery.js';
import { CustomLabelsService } from './service.js';
import type { HoldHook, HoldPoint } from './service.js';
import { Store } from './store.js';
import type { TrainingSettings } from './training.js';

/* Puts the emulator together: the data folder recovered, the service on it, the awsJson1.1 layer listening. */

export interface RekognitionEmulatorOptions {
  /** Where images, manifests and evaluation summaries live (the local stack points it at its local S3). */
  readonly s3: S3Client;
  /** Folder for state.json and models/; a restart on the same folder keeps projects, versions and models. */
  readonly dataDir: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  readonly region?: string;
  /** 12 digits. */
  readonly accountId?: string;
  /** STARTING → RUNNING (default 1500 ms). */
  readonly startingDelayMs?: number;
  /** STOPPING → STOPPED (default 1000 ms). */
  readonly stoppingDelayMs?: number;
  readonly training?: TrainingSettings;
  /** Training jobs that run at once (default 1: a job keeps both cores busy); later ones wait, TRAINING_IN_PROGRESS. */
  readonly maxConcurrentTrainings?: number;
  /** BENCHMARK ONLY: replaces the trained model at inference time (see predictor.ts `constantPredictor`). */
  readonly predictor?: Predictor;
  /** Faults armed from the start; more through `injectFault` or `POST /__emulator/faults`. */
  readonly faults?: readonly FaultRule[];
  readonly log?: (line: string) => void;
  /**
   * TESTS ONLY (the local stack never sets it): called at each point a test may need to act inside what would
   * otherwise be a race; when it returns a promise the emulator waits there until it settles (or the emulator
   * closes). See `HoldPoint`.
   */
  readonly hold?: (point: HoldPoint) => Promise<unknown> | undefined;
}

export interface RekognitionEmulator {
  /** `http://host:port`, for `endpoint` / AWS_ENDPOINT_URL_REKOGNITION. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Resolves when no training job and no STARTING/STOPPING transition is pending. */
  idle(): Promise<void>;
  /** Stops listening, cancels training (those versions become TRAINING_FAILED), keeps state on disk. */
  close(): Promise<void>;
}

export async function startRekognitionEmulator(options: RekognitionEmulatorOptions): Promise<RekognitionEmulator> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  if (!/^\d{12}$/.test(accountId)) throw new Error('accountId must be 12 digits');
  const log = options.log ?? (() => undefined);
  const store = new Store(options.dataDir);
  const background = new Background();
  const faults = new Faults(options.faults);
  const testHold = options.hold;
  const hold: HoldHook | undefined = testHold
    ? (point) => {
        const wait = testHold(point);
        return wait ? background.untilClosed(wait) : undefined;
      }
    : undefined;
  const service = new CustomLabelsService({
    s3: options.s3,
    store,
    state: recoverState(store),
    background,
    region,
    accountId,
    startingDelayMs: options.startingDelayMs ?? 1500,
    stoppingDelayMs: options.stoppingDelayMs ?? 1000,
    predictor: options.predictor ?? trainedModelPredictor,
    training: options.training ?? {},
    maxConcurrentTrainings: options.maxConcurrentTrainings ?? 1,
    log,
    ...(hold ? { hold } : {}),
  });
  const http = await listen(awsJsonHandler({ service, faults, log, ...(hold ? { hold } : {}) }), options.port ?? 0, options.host ?? '127.0.0.1');

  return {
    url: http.url,
    port: http.port,
    region,
    injectFault: (rule) => { faults.inject(rule); },
    clearFaults: () => { faults.clear(); },
    idle: () => background.idle(),
    close: async () => {
      if (background.closed) return;
      background.close();
      await service.close();
      await background.settle();
      service.persist();
      await http.close();
    },
  };
}
