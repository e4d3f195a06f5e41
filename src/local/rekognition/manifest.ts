import { createHash } from 'node:crypto';

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function labelOf(line: Record<string, unknown>): string | undefined {
  for (const [name, value] of Object.entries(line)) {
    if (!name.endsWith('-metadata') || !isRecord(value)) continue;
    const attribute = name.slice(0, -'-metadata'.length);
    if (value.type !== 'groundtruth/image-classification' || !(attribute in line)) continue;
    const className = value['class-name'];
    if (typeof className === 'string' && className.length > 0) return className;
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
    if (!isRecord(parsed)) return void rejected.push({ line, why: 'not a JSON object' });
    const source = typeof parsed['source-ref'] === 'string' ? parseS3Uri(parsed['source-ref']) : undefined;
    if (!source) return void rejected.push({ line, why: 'no s3:// source-ref' });
    const label = labelOf(parsed);
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
