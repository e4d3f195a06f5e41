import * as z from 'zod/mini';
import { looseNumber, looseString } from '../lib/schema.js';
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

const text = looseString();
const number = looseNumber();

export function str(item: Item | undefined, field: string): string | undefined {
  return text.parse(item?.[field]);
}

export function num(item: Item | undefined, field: string): number | undefined {
  return number.parse(item?.[field]);
}

/** A finite number when stored, null otherwise: what the views show. */
const shown = z.pipe(looseNumber(), z.transform((value) => value ?? null));

/** One entry of a version's `labelMetrics`; an entry without a label is left out. */
const LabelMetricSchema = z.object({ label: z.string(), f1: shown, precision: shown, recall: shown, threshold: shown, testImages: shown });

export type LabelMetricView = Readonly<z.output<typeof LabelMetricSchema>>;

export function labelMetrics(item: Item | undefined): LabelMetricView[] {
  const list = item?.labelMetrics;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    const metric = LabelMetricSchema.safeParse(entry);
    return metric.success ? [metric.data] : [];
  });
}

/** A version's quality-gate decision as the registry stores it; what is missing reads as unknown or null. */
const GateSchema = z.object({
  decision: z.pipe(looseString(), z.transform((value) => value ?? 'UNKNOWN')),
  reasons: z.pipe(
    z.catch(z.array(z.unknown()), []),
    z.transform((reasons) => reasons.flatMap((reason) => text.parse(reason) ?? [])),
  ),
  minF1: shown,
  minPneumoniaRecall: shown,
  liveF1: shown,
});

export type GateView = Readonly<z.output<typeof GateSchema>>;

export function gateOf(item: Item | undefined): GateView | null {
  const gate = GateSchema.safeParse(item?.gate);
  return gate.success ? gate.data : null;
}
