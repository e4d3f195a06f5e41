import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RegistryError } from './errors.js';
import { ACTIVE_MODEL_ID, RegistryTable } from './tables/registry.js';

const VERSION_ARN = /^arn:aws[a-z-]*:rekognition:[a-z0-9-]+:\d{12}:project\/[^/]+\/version\/[^/]+\/\d+$/;

export interface ActiveModel {
  readonly projectVersionArn: string;
  readonly versionName: string | undefined;
  /** False once the scheduled stop has run: classify then waits without paying for a failing call. */
  readonly running: boolean;
}

export type ModelLookup = { readonly kind: 'none' } | { readonly kind: 'model'; readonly model: ActiveModel };

/** The `active` item as classify reads it (hand-written: see s3-event.ts for why classify's path has no zod). */
function parseActiveItem(item: Record<string, unknown>): ActiveModel {
  const arn = item.projectVersionArn;
  if (typeof arn !== 'string' || !VERSION_ARN.test(arn)) {
    throw new RegistryError(`registry item "${ACTIVE_MODEL_ID}" has no valid projectVersionArn (got ${JSON.stringify(arn)})`);
  }
  const state = item.state;
  if (state !== undefined && state !== 'RUNNING' && state !== 'STOPPED') {
    throw new RegistryError(`registry item "${ACTIVE_MODEL_ID}" has state ${JSON.stringify(state)}; expected RUNNING or STOPPED`);
  }
  return {
    projectVersionArn: arn,
    versionName: typeof item.versionName === 'string' ? item.versionName : undefined,
    running: state !== 'STOPPED',
  };
}

/**
 * Reads the active model from the registry table so a promotion needs no redeploy. A running model is cached
 * for a short time (one GetItem per container per TTL); "no model" and "stopped" are never cached, so an image
 * re-driven right after a start sees the new model at once.
 */
export class ModelRegistry {
  private cached: { readonly model: ActiveModel; readonly until: number } | undefined;

  private readonly items: RegistryTable;

  constructor(
    documents: DynamoDBDocumentClient,
    table: string,
    private readonly cacheMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.items = new RegistryTable(documents, table);
  }

  async activeModel(): Promise<ModelLookup> {
    const now = this.clock();
    if (this.cached && this.cached.until > now) return { kind: 'model', model: this.cached.model };
    const Item = await this.items.get(ACTIVE_MODEL_ID);
    if (!Item) {
      this.cached = undefined;
      return { kind: 'none' };
    }
    const model = parseActiveItem(Item);
    this.cached = model.running && this.cacheMs > 0 ? { model, until: now + this.cacheMs } : undefined;
    return { kind: 'model', model };
  }

  /** Called when the service says the cached version is not running: the registry has likely moved on. */
  invalidate(): void {
    this.cached = undefined;
  }
}
