import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricsOptions } from '@aws-lambda-powertools/metrics/types';
import { awsClients } from '../lib/composition.js';
import type { AwsService, ClientSettings, Env, Runtime } from '../lib/composition.js';
import { LOCAL_CREDENTIALS } from './credentials.js';
import { TemplateError } from './template.js';

/*
 * One function's runtime on the local stack, as its own container would have it: its own clients (and so its own
 * SDK retry quota), a logger and metrics configured from its own environment. Nothing is read from or written to
 * process.env, so two stacks, or two functions, in one process never see each other's settings.
 */

const ENDPOINT_VARIABLES: Readonly<Record<AwsService, string>> = {
  s3: 'AWS_ENDPOINT_URL_S3',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  rekognition: 'AWS_ENDPOINT_URL_REKOGNITION',
  sfn: 'AWS_ENDPOINT_URL_SFN',
  eventbridge: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
};

// Powertools' own spellings of a flag (commons' getBooleanFromEnv with extended parsing).
const TRUE = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const FALSE = new Set(['0', 'n', 'no', 'f', 'false', 'off']);

function flag(env: Env, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined) return undefined;
  if (TRUE.has(raw)) return true;
  if (FALSE.has(raw)) return false;
  throw new TemplateError(`${name} must be a boolean, got "${env[name] ?? ''}"`);
}

/**
 * Powertools Metrics (2.36) takes no `disabled` option: it reads POWERTOOLS_METRICS_DISABLED (then POWERTOOLS_DEV)
 * from process.env. Locally the function's environment decides instead: disabled, a flush empties the buffers and
 * writes nothing; enabled, the EMF line goes to stdout as Powertools writes it, whatever the process's variables say.
 */
class LocalMetrics extends Metrics {
  constructor(
    private readonly options: MetricsOptions,
    private readonly disabledLocally: boolean,
  ) {
    super(options);
  }

  override publishStoredMetrics(): this {
    // With nothing stored Powertools only warns and clears; that stays its own.
    if (!this.hasStoredMetrics()) return super.publishStoredMetrics();
    const line = this.disabledLocally ? undefined : JSON.stringify(this.serializeMetrics());
    this.clearMetrics();
    this.clearDimensions();
    this.clearMetadata();
    if (line) process.stdout.write(`${line}\n`);
    return this;
  }

  override singleMetric(): Metrics {
    return new LocalMetrics({ ...this.options, singleMetric: true }, this.disabledLocally);
  }
}

function localMetrics(env: Env): Metrics {
  const disabled = flag(env, 'POWERTOOLS_METRICS_DISABLED') ?? flag(env, 'POWERTOOLS_DEV') ?? false;
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE?.trim();
  const functionName = env.POWERTOOLS_METRICS_FUNCTION_NAME?.trim();
  const options: MetricsOptions = {
    ...(namespace ? { namespace } : {}),
    ...(env.POWERTOOLS_SERVICE_NAME ? { serviceName: env.POWERTOOLS_SERVICE_NAME } : {}),
    ...(functionName ? { functionName } : {}),
  };
  return new LocalMetrics(options, disabled);
}

function localLogger(env: Env): Logger {
  // Powertools' default level when neither variable is set, given explicitly so the process's own is never used.
  const logLevel = (env.POWERTOOLS_LOG_LEVEL?.trim() || env.LOG_LEVEL?.trim() || 'INFO') as LogLevel;
  const sampleRate = env.POWERTOOLS_LOGGER_SAMPLE_RATE?.trim();
  return new Logger({
    logLevel,
    ...(env.POWERTOOLS_SERVICE_NAME ? { serviceName: env.POWERTOOLS_SERVICE_NAME } : {}),
    ...(sampleRate ? { sampleRateValue: Number(sampleRate) } : {}),
  });
}

/**
 * The runtime of one local function. Its clients go to the stack's endpoints unless its environment names another
 * (AWS_ENDPOINT_URL_<SERVICE>, as the SDK would read it in Lambda: a test puts a proxy in front of DynamoDB so).
 */
export function localRuntime(env: Env, stack: { readonly region: string; readonly endpoints: Readonly<Record<AwsService, string>> }): Runtime {
  const endpoints = Object.fromEntries(
    (Object.keys(ENDPOINT_VARIABLES) as AwsService[]).map((service) => [service, env[ENDPOINT_VARIABLES[service]]?.trim() || stack.endpoints[service]]),
  ) as Record<AwsService, string>;
  const clientSettings: ClientSettings = { region: stack.region, credentials: LOCAL_CREDENTIALS, endpoints };
  return { ...awsClients(clientSettings), logger: localLogger(env), metrics: localMetrics(env), clientSettings, clock: Date.now };
}

