import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { CommandContext } from './context.js';
import { defaultSleep } from './context.js';
import { describeError, EXIT, UsageError } from './errors.js';
import type { ExitCode } from './errors.js';
import { FORMATS } from './format.js';
import type { Format } from './format.js';
import type { Io } from './io.js';
import { datasetPrefix, fraction, futureTime, holdReason, integerIn, interval, keyPrefix, label, nonNegativeNumber, pointInTime, reviewerName, status, versionName, waitTimeout } from './options.js';
import type { ResultStatus } from '../lib/result-status.js';
import { PROJECT_DIR, resolveTarget } from './target.js';
import type { Target, TargetOptions } from './target.js';
import { localUp } from './commands/local.js';
import { dlqList, dlqRedrive } from './commands/dlq.js';
import { datasetStats, datasetUpload } from './commands/dataset.js';
import { modelStart, modelStatus, modelStop } from './commands/model.js';
import { result, results } from './commands/results.js';
import { retrain } from './commands/retrain.js';
import { review } from './commands/review.js';
import { submit } from './commands/submit.js';
import { watch } from './commands/watch.js';
import { watchEvents } from './commands/watch-events.js';
import { health } from './commands/health.js';
import { check } from './commands/check.js';

export interface ProgramDeps {
  readonly io: Io;
  /** Finds the target from the global options; tests hand in one pointing at their own servers. */
  readonly resolveTarget: (options: TargetOptions) => Promise<Target>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface GlobalOptions extends TargetOptions {
  readonly verbose?: boolean;
}

function packageVersion(): string {
  const parsed = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : 'unknown';
}

type Action = (ctx: CommandContext) => Promise<ExitCode>;

/**
 * Runs a command with a signal that the first Ctrl-C (or the given signals) aborts, so it can stop starting work
 * and say what it did; the listener is used once, so a second Ctrl-C ends the process as usual.
 */
async function interruptible(signals: readonly NodeJS.Signals[], body: (signal: AbortSignal) => Promise<ExitCode>): Promise<ExitCode> {
  const controller = new AbortController();
  const stop = (): void => {
    controller.abort();
  };
  for (const name of signals) process.once(name, stop);
  try {
    return await body(controller.signal);
  } finally {
    for (const name of signals) process.removeListener(name, stop);
  }
}

function formatOption(choices: readonly Format[] = FORMATS): Option {
  return new Option('-f, --format <format>', 'output format').choices(choices).default('table');
}

/** Commands whose output is a report, not rows: CSV would have nothing to put in columns. */
const REPORT_FORMATS: readonly Format[] = ['table', 'json'];

const EXAMPLES = `
Examples:
  pneumo local up                                  # the local stack (other terminal); commands then use it
  pneumo submit scans/ --prefix ward-3 --wait      # check, upload, wait for each result
  pneumo results --label PNEUMONIA --since 24h     # newest first; --format json|csv for scripts
  pneumo result ward-3/chest.jpeg
  pneumo retrain --min-f1 0.9 --wait               # exit 1 if training fails or the gate refuses
  pneumo model status --price 4                    # versions, F1, units, serving cost estimate
  pneumo review                                    # the review page: look, confirm or correct, add to training
  pneumo --stage prod --region eu-west-1 model stop --wait

Exit codes: 0 ok, 1 the operation failed (a file refused or unreadable included), 2 bad arguments,
3 target unavailable (no credentials, stack or bucket not there, local stack not running),
130 interrupted by Ctrl-C (submit and dataset upload first say what went up).`;

/**
 * Builds the `pneumo` program. Actions store their exit code in `state` instead of exiting, so the same program
 * runs in tests in-process and in the real process (main.ts sets process.exitCode).
 */
export function buildProgram(deps: ProgramDeps, state: { exitCode: ExitCode }): Command {
  const { io } = deps;
  const program = new Command('pneumo');
  program
    .description('Chest X-ray pneumonia screening (a screening aid, not a diagnosis): submit images, read results, retrain and run the model.\nTargets a deployed stage (--stage/--region, AWS credentials as the SDK finds them) or the local stack (--local; automatic when this folder\'s local stack is running).')
    .option('--stage <stage>', 'deployed stage to use: stack pneumo-<stage> (default: dev, unless a local stack is running)')
    .option('--region <region>', 'AWS region of the stage (default: the SDK\'s, e.g. AWS_REGION)')
    .option('--local', 'use the local stack of this folder (pneumo local up)')
    .option('--data-dir <dir>', 'use the local stack whose data folder is <dir>')
    .option('-v, --verbose', 'print stack traces with errors')
    .version(packageVersion(), '-V, --version', 'print the version')
    .configureOutput({ writeOut: (text) => { io.out(text.replace(/\n$/, '')); }, writeErr: (text) => { io.err(text.replace(/\n$/, '')); } })
    .addHelpText('after', EXAMPLES)
    .exitOverride();

  const run = (command: Command, action: Action): Promise<void> => runAction(deps, state, command, action);

  program
    .command('submit')
    .description('check JPEG/PNG files as classify would and upload them to inbox/ (directories recursively)')
    .argument('<paths...>', 'files or directories')
    .option('-p, --prefix <folder>', 'folder under inbox/ to upload into', keyPrefix)
    .option('-c, --concurrency <n>', 'uploads in flight', integerIn(1, 64), 8)
    .option('-w, --wait', 'follow each image until it has a result, then print the results')
    .addOption(new Option('--timeout <duration>', 'with --wait: give up after this long').argParser(waitTimeout).default(600_000, '10m'))
    .option('--poll <duration>', 'with --wait: pause between checks (default 5s on AWS, 0.5s locally)', interval)
    .addOption(formatOption())
    .action((paths: string[], options: { prefix?: string; concurrency: number; wait?: boolean; timeout: number; poll?: number; format: Format }, command: Command) =>
      run(command, (ctx) =>
        interruptible(['SIGINT'], (signal) =>
          submit(ctx, paths, {
            prefix: options.prefix,
            concurrency: options.concurrency,
            wait: options.wait === true,
            timeoutMs: options.timeout,
            pollMs: options.poll,
            format: options.format,
            signal,
          }),
        ),
      ),
    );

  program
    .command('results')
    .description('results newest first, from the byLabel/byStatus indexes (never a table scan)')
    .option('-l, --label <label>', 'only this label (e.g. PNEUMONIA)', label)
    .option('-s, --status <status>', 'only this status: CLASSIFIED, NEEDS_REVIEW, PENDING, REJECTED, FAILED', status)
    .option('--since <time>', 'processed at or after: 30m, 24h, 7d (ago) or an ISO date/time', pointInTime(deps.now))
    .option('--until <time>', 'processed at or before: same forms as --since', pointInTime(deps.now))
    .option('-n, --limit <n>', 'at most this many rows', integerIn(1, 100_000), 50)
    .addOption(formatOption())
    .action((options: { label?: string; status?: ResultStatus; since?: string; until?: string; limit: number; format: Format }, command: Command) =>
      run(command, (ctx) => results(ctx, options)),
    );

  program
    .command('result')
    .description('one result, by key (inbox/…), S3 URI (s3://bucket/inbox/…) or file name')
    .argument('<ref>', 'key, s3:// URI or file name')
    .addOption(formatOption())
    .action((reference: string, options: { format: Format }, command: Command) => run(command, (ctx) => result(ctx, reference, options)));

  program
    .command('watch')
    .description('print results as they land, until Ctrl-C (--format json: one JSON object per line)')
    .option('-l, --label <label>', 'only this label', label)
    .option('-s, --status <status>', 'only this status', status)
    .option('--since <time>', 'start from this time instead of now', pointInTime(deps.now))
    .option('--poll <duration>', 'pause between checks (default 5s on AWS, 0.5s locally)', interval)
    .option('--count <n>', 'stop after this many results', integerIn(1, 1_000_000))
    .option('--events', 'follow the result and retrain events the stage\'s bus carries (local stack: its event file)')
    .addOption(formatOption())
    .action((options: { label?: string; status?: ResultStatus; since?: string; poll?: number; count?: number; events?: boolean; format: Format }, command: Command) =>
      run(command, (ctx) =>
        interruptible(['SIGINT'], (signal) =>
          options.events ? watchEvents(ctx, { ...options, pollMs: options.poll, signal }) : watch(ctx, { ...options, pollMs: options.poll, signal }),
        ),
      ),
    );

  program
    .command('review')
    .description('a page on this machine (127.0.0.1) where a clinician looks at the X-rays, confirms or corrects the model with the keyboard and adds reviewed images to the training data; until Ctrl-C')
    .option('--port <n>', 'port to serve on (default: a free one)', integerIn(1, 65_535))
    .option('--no-open', 'only print the address; do not start a browser')
    .option('--reviewer <name>', 'who decides, as stored on each result (default: the AWS caller\'s ARN; locally local:<user>)', reviewerName)
    .action((options: { port?: number; open: boolean; reviewer?: string }, command: Command) =>
      run(command, (ctx) => interruptible(['SIGINT', 'SIGTERM'], (signal) => review(ctx, { ...options, signal }))),
    );

  program
    .command('health')
    .description('alarms in ALARM, dead letters, the oldest PENDING image, the model, the last retrain, serving cost today (exit 1 while anything alarms)')
    .option('--max-pending-minutes <n>', 'local stack: an image waiting for a start longer than this (quiet hours, cap and hold not counted) alarms (the stage default)', integerIn(1, 100_000), 30)
    .option('--price <usd>', 'US$ per inference-unit-hour for the estimate', nonNegativeNumber, 4)
    .addOption(formatOption())
    .action((options: { maxPendingMinutes: number; price: number; format: Format }, command: Command) => run(command, (ctx) => health(ctx, options)));

  program
    .command('check')
    .description('after a deployment: a synthetic upload to its row, IAM per role, notifications, schedules, alarms, alarm subscribers (exit 1 on any failure; never trains or starts a model)')
    .option('--timeout <duration>', 'how long to wait for the synthetic image\'s row', interval, 90_000)
    .addOption(formatOption())
    .action((options: { timeout: number; format: Format }, command: Command) => run(command, (ctx) => check(ctx, { format: options.format, timeoutMs: options.timeout })));

  const model = program.command('model').description('the active model and its versions; start and stop serving');
  model
    .command('status')
    .description('the registry\'s active model, every version (status, F1, units, gate), why it started and stopped, and its cost: this serving window, and per month for each policy on the stage\'s recent traffic')
    .option('--price <usd>', 'US$ per inference-unit-hour for the estimate', nonNegativeNumber, 4)
    .option('--start-latency-minutes <n>', 'how long a model start takes, in the projection', nonNegativeNumber, 10)
    .option('--days <n>', 'days of recent traffic the projection replays', nonNegativeNumber, 7)
    .addOption(formatOption())
    .action((options: { price: number; startLatencyMinutes: number; days: number; format: Format }, command: Command) => run(command, (ctx) => modelStatus(ctx, options)));
  model
    .command('start')
    .description('run the start-model state machine: start a version (default: the promoted one), wait for RUNNING, promote it, stop the previous one; releases a hold placed by `model stop`')
    .option('--version-name <name>', 'version to start (default: the promoted model)', versionName)
    .option('--min-units <n>', 'minimum inference units', integerIn(1, 100))
    .option('--max-units <n>', 'maximum inference units (auto-scaling)', integerIn(1, 100))
    .option('-w, --wait', 'follow the execution until it ends')
    .option('--poll <duration>', 'with --wait: pause between checks', interval)
    .addOption(formatOption(REPORT_FORMATS))
    .action((options: { versionName?: string; minUnits?: number; maxUnits?: number; wait?: boolean; poll?: number; format: Format }, command: Command) =>
      run(command, (ctx) => {
        if (options.minUnits !== undefined && options.maxUnits !== undefined && options.maxUnits < options.minUnits) {
          throw new UsageError(`--max-units (${options.maxUnits}) must not be below --min-units (${options.minUnits})`);
        }
        return modelStart(ctx, { ...options, wait: options.wait === true, pollMs: options.poll });
      }),
    );
  model
    .command('stop')
    .description('hold the model stopped (no on-demand or scheduled start until `model start` or --until) and run the stop-model state machine: every running version of the project stops (billing stops)')
    .option('--until <time>', 'the hold lapses then: a duration from now (2h, 3d) or an ISO date/time; images that waited are then served', futureTime(deps.now))
    .option('--reason <text>', 'why, stored on the hold with who and when (no patient data)', holdReason)
    .option('-w, --wait', 'follow the execution until it ends')
    .option('--poll <duration>', 'with --wait: pause between checks', interval)
    .addOption(formatOption(REPORT_FORMATS))
    .action((options: { until?: string; reason?: string; wait?: boolean; poll?: number; format: Format }, command: Command) =>
      run(command, (ctx) => modelStop(ctx, { wait: options.wait === true, pollMs: options.poll, format: options.format, until: options.until, reason: options.reason })),
    );

  program
    .command('retrain')
    .description('start the train-and-deploy state machine (execution train-<version>); exit 1 with --wait when training fails or the gate refuses')
    .option('--version-name <name>', 'name of the new version (default: v<date>-<time>)', versionName)
    .option('--min-f1 <x>', 'gate: minimum aggregate F1, 0–1 (default: the stage\'s)', fraction)
    .option('--min-recall <x>', 'gate: minimum PNEUMONIA recall, 0–1 (default: the stage\'s)', fraction)
    .option('--training-prefix <prefix>', 'training images (default training/)', datasetPrefix)
    .option('--testing-prefix <prefix>', 'testing images (default: the service splits the training set)', datasetPrefix)
    .option('--min-units <n>', 'inference units when started', integerIn(1, 100))
    .option('--max-units <n>', 'maximum inference units when started', integerIn(1, 100))
    .option('--no-start', 'train and gate only: do not start or promote the new version')
    .option('-w, --wait', 'follow until the end, then show F1, per-label metrics and the gate decision')
    .option('--poll <duration>', 'with --wait: pause between checks', interval)
    .addOption(formatOption(REPORT_FORMATS))
    .action(
      (
        options: { versionName?: string; minF1?: number; minRecall?: number; trainingPrefix?: string; testingPrefix?: string; minUnits?: number; maxUnits?: number; start: boolean; wait?: boolean; poll?: number; format: Format },
        command: Command,
      ) => run(command, (ctx) => retrain(ctx, { ...options, wait: options.wait === true, pollMs: options.poll })),
    );

  const dataset = program.command('dataset').description('the training images in the bucket (training/<LABEL>/, testing/<LABEL>/)');
  dataset
    .command('upload')
    .description('upload a folder laid out like the Kaggle set (<LABEL>/… or train|val|test/<LABEL>/…), skipping images already there')
    .argument('<dir>', 'dataset folder')
    .option('-c, --concurrency <n>', 'uploads in flight', integerIn(1, 64), 8)
    .option('--dry-run', 'only say what would be uploaded')
    .addOption(formatOption())
    .action((dir: string, options: { concurrency: number; dryRun?: boolean; format: Format }, command: Command) =>
      run(command, (ctx) =>
        interruptible(['SIGINT'], (signal) => datasetUpload(ctx, dir, { concurrency: options.concurrency, dryRun: options.dryRun === true, format: options.format, signal })),
      ),
    );
  dataset
    .command('stats')
    .description('images and bytes per label under training/ and testing/, and how many came from the review page')
    .addOption(formatOption())
    .action((options: { format: Format }, command: Command) => run(command, (ctx) => datasetStats(ctx, options)));

  const dlq = program.command('dlq').description('images whose classification failed after every retry (the dead-letter queue)');
  dlq
    .command('list')
    .description('show the dead letters: when, the error, the images (on AWS the messages are back in the queue after 30 s)')
    .addOption(formatOption())
    .action((options: { format: Format }, command: Command) => run(command, (ctx) => dlqList(ctx, options)));
  dlq
    .command('redrive')
    .description('send each dead letter\'s images to classify again (the object is copied onto itself: a fresh S3 event), then remove the letter')
    .option('--dry-run', 'only say what would be re-driven')
    .addOption(formatOption(REPORT_FORMATS))
    .action((options: { dryRun?: boolean; format: Format }, command: Command) =>
      run(command, (ctx) => dlqRedrive(ctx, { dryRun: options.dryRun === true, format: options.format })),
    );

  const local = program.command('local').description('the local stack: S3, DynamoDB, Step Functions and a Rekognition emulator on this machine');
  local
    .command('up')
    .description('run the local stack in the foreground (what `npm start` runs): train on the bundled sample once, classify the inbox sample, then serve until Ctrl-C; other options (e.g. --s3-port 0) are passed on')
    .option('--once', 'exit after the sample run (exit 1 if training failed or an image got no result)')
    .option('--retrain', 'train a new model version even if one is active')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (options: { once?: boolean; retrain?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      state.exitCode = await localUp(io, {
        once: options.once === true,
        retrain: options.retrain === true,
        verbose: globals.verbose === true,
        dataDir: globals.dataDir,
        extra: command.args,
      });
    });

  return program;
}

async function runAction(deps: ProgramDeps, state: { exitCode: ExitCode }, command: Command, action: Action): Promise<void> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const target = await deps.resolveTarget({ stage: globals.stage, region: globals.region, local: globals.local, dataDir: globals.dataDir });
  try {
    state.exitCode = await action({ target, io: deps.io, now: deps.now ?? Date.now, sleep: deps.sleep ?? defaultSleep });
  } finally {
    target.close();
  }
}

/** Parses `argv` (user arguments only), runs the command and returns its exit code; never exits the process. */
export async function runCli(argv: readonly string[], deps: Partial<ProgramDeps> & { readonly io: Io }): Promise<ExitCode> {
  const state: { exitCode: ExitCode } = { exitCode: EXIT.ok };
  const program = buildProgram({ resolveTarget, ...deps }, state);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to exitOverride; commander has already printed its message.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, exitCode } = describeError(error);
    deps.io.err(`pneumo: ${message}`);
    if (argv.includes('--verbose') || argv.includes('-v')) deps.io.err(error instanceof Error ? (error.stack ?? String(error)) : String(error));
    return exitCode;
  }
}
