import { ConfigError } from './errors.js';

export interface ClassifyConfig {
  readonly resultsTable: string;
  readonly registryTable: string;
  /** Top-label confidence (0–100) below which a result is NEEDS_REVIEW instead of CLASSIFIED. */
  readonly reviewThreshold: number;
  /** How long a running model's registry entry is trusted before it is read again. */
  readonly registryCacheMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is not set');
  return value;
}

function numberIn(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function loadClassifyConfig(env: Env = process.env): ClassifyConfig {
  return {
    resultsTable: required(env, 'RESULTS_TABLE'),
    registryTable: required(env, 'REGISTRY_TABLE'),
    reviewThreshold: numberIn(env, 'REVIEW_THRESHOLD', 80, 0, 100),
    registryCacheMs: numberIn(env, 'REGISTRY_CACHE_SECONDS', 30, 0, 3600) * 1000,
  };
}
