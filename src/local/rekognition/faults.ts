import { ApiError } from './errors.js';

export interface FaultRule {
  /** Operation name, e.g. `DetectCustomLabels`; `*` for every operation. */
  readonly operation: string;
  /** How many of the next matching calls fail. */
  readonly count: number;
  /** `__type` to return (HTTP 400), or `InternalServerError` / `ServiceUnavailableException` (HTTP 500). Default ThrottlingException. */
  readonly error?: string;
}

const SERVER_SIDE = new Set(['InternalServerError', 'ServiceUnavailableException']);

/** Fault switches: the next `count` calls of an operation fail with the rule's error. */
export class Faults {
  private rules: FaultRule[] = [];

  constructor(initial: readonly FaultRule[] = []) {
    for (const rule of initial) this.inject(rule);
  }

  inject(rule: FaultRule): void {
    if (!Number.isInteger(rule.count) || rule.count < 0) throw new Error('fault count must be a whole number');
    this.rules.push(rule);
  }

  clear(): void {
    this.rules = [];
  }

  list(): readonly FaultRule[] {
    return this.rules;
  }

  /** The error the next call of `operation` must fail with (using up one count of the first matching rule), if any. */
  take(operation: string): ApiError | undefined {
    const index = this.rules.findIndex((f) => f.count > 0 && (f.operation === operation || f.operation === '*'));
    const rule = this.rules[index];
    if (!rule) return undefined;
    this.rules[index] = { ...rule, count: rule.count - 1 };
    this.rules = this.rules.filter((f) => f.count > 0);
    const type = rule.error ?? 'ThrottlingException';
    return new ApiError(type, `Injected fault (${type})`, SERVER_SIDE.has(type) ? 500 : 400);
  }
}
