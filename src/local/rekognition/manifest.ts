import { createHash } from 'node:crypto';
import * as z from 'zod/mini';

/*
 * SageMaker Ground Truth image-classification manifests (JSON Lines), as Custom Labels reads them:
 *   {"source-ref":"s3://bucket/key","pneumonia-class":1,
 *    "pneumonia-class-metadata":{"class-name":"PNEUMONIA","type":"groundtruth/image-classification",...}}
 * The label attribute's name is free; it is the one whose `<name>-metadata` says image-classification.
 */

export interface ManifestEntry {
  readonly bucket: string;
  readonly key: string;
  readonly label: string;
}

export interface ParsedManifest {
  readonly entries: ManifestEntry[];
  /** Lines that were not usable image-classification entries, with why (1-based line numbers). */
  readonly rejected: { readonly line: number; readonly why: string }[];
}

export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) return undefined;
  return { bucket: match[1], key: match[2] };
}

/** A Ground Truth classification job's `<attribute>-metadata` entry. */
const ClassificationMetadataSchema = z.object({ type: z.literal('groundtruth/image-classification'), 'class-name': z.string().check(z.minLength(1)) });

const ManifestLineSchema = z.record(z.string(), z.unknown(), { error: 'not a JSON object' });
const SourceRefSchema = z.object({ 'source-ref': z.string() });

function labelOf(line: Record<string, unknown>): string | undefined {
  for (const [name, value] of Object.entries(line)) {
    if (!name.endsWith('-metadata')) continue;
    const attribute = name.slice(0, -'-metadata'.length);
    const metadata = ClassificationMetadataSchema.safeParse(value);
    if (metadata.success && attribute in line) return metadata.data['class-name'];
  }
  return undefined;
}

export function parseManifest(text: string): ParsedManifest {
  const entries: ManifestEntry[] = [];
  const rejected: ParsedManifest['rejected'] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      rejected.push({ line, why: 'not valid JSON' });
      return;
    }
    const object = ManifestLineSchema.safeParse(parsed);
    if (!object.success) return void rejected.push({ line, why: 'not a JSON object' });
    const sourceRef = SourceRefSchema.safeParse(object.data);
    const source = sourceRef.success ? parseS3Uri(sourceRef.data['source-ref']) : undefined;
    if (!source) return void rejected.push({ line, why: 'no s3:// source-ref' });
    const label = labelOf(object.data);
    if (!label) return void rejected.push({ line, why: 'no groundtruth/image-classification label' });
    entries.push({ ...source, label });
  });
  return { entries, rejected };
}

/** A stable pseudo-random rank for an entry (from its location), so splits repeat across runs and restarts. */
function rank(entry: ManifestEntry, salt: string): string {
  return createHash('sha256').update(`${salt}\0${entry.bucket}\0${entry.key}`).digest('hex');
}

/**
 * Stratified deterministic split: per label, `fraction` of the entries (rounded, at least one when the label has
 * two or more) go to the second list. Used for AutoCreate (80/20) and for the validation carve-out.
 */
export function stratifiedSplit<T extends ManifestEntry>(entries: readonly T[], fraction: number, salt: string): [T[], T[]] {
  const keep: T[] = [];
  const held: T[] = [];
  const labels = [...new Set(entries.map((e) => e.label))].sort();
  for (const label of labels) {
    const group = entries.filter((e) => e.label === label).map((e) => ({ e, r: rank(e, salt) })).sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0));
    let count = Math.round(group.length * fraction);
    if (count === 0 && group.length >= 2 && fraction > 0) count = 1;
    group.forEach(({ e }, i) => (i < count ? held : keep).push(e));
  }
  return [keep, held];
}
