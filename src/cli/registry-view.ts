import { RegistryTable } from '../lib/tables/registry.js';
import type { RegistryItem } from '../lib/tables/registry.js';
import type { Target } from './target.js';

export type Item = RegistryItem;

function registry(target: Target): RegistryTable {
  return new RegistryTable(target.clients.documents, target.names.registryTable);
}

export async function getRegistryItem(target: Target, id: string): Promise<Item | undefined> {
  return registry(target).get(id);
}

/** Every `version#<name>` item (a filtered scan: see RegistryTable.versionItems). */
export async function listVersionItems(target: Target): Promise<Item[]> {
  return registry(target).versionItems();
}

export function str(item: Item | undefined, field: string): string | undefined {
  const value = item?.[field];
  return typeof value === 'string' ? value : undefined;
}

export function num(item: Item | undefined, field: string): number | undefined {
  const value = item?.[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export interface LabelMetricView {
  readonly label: string;
  readonly f1: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly threshold: number | null;
  readonly testImages: number | null;
}

export function labelMetrics(item: Item | undefined): LabelMetricView[] {
  const list = item?.labelMetrics;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const metric = entry as Item;
    const label = str(metric, 'label');
    if (label === undefined) return [];
    return [
      {
        label,
        f1: num(metric, 'f1') ?? null,
        precision: num(metric, 'precision') ?? null,
        recall: num(metric, 'recall') ?? null,
        threshold: num(metric, 'threshold') ?? null,
        testImages: num(metric, 'testImages') ?? null,
      },
    ];
  });
}

export interface GateView {
  readonly decision: string;
  readonly reasons: readonly string[];
  readonly minF1: number | null;
  readonly minPneumoniaRecall: number | null;
  readonly liveF1: number | null;
}

export function gateOf(item: Item | undefined): GateView | null {
  const gate = item?.gate;
  if (typeof gate !== 'object' || gate === null) return null;
  const record = gate as Item;
  return {
    decision: str(record, 'decision') ?? 'UNKNOWN',
    reasons: Array.isArray(record.reasons) ? record.reasons.filter((reason): reason is string => typeof reason === 'string') : [],
    minF1: num(record, 'minF1') ?? null,
    minPneumoniaRecall: num(record, 'minPneumoniaRecall') ?? null,
    liveF1: num(record, 'liveF1') ?? null,
  };
}
