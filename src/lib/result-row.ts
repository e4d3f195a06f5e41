import * as z from 'zod/mini';
import { looseNumber, looseString } from './schema.js';

/** One label of a result as classify stores it. */
const LabelSchema = z.object({ name: z.string(), confidence: z.number() });

/** The well-formed entries of a row's labels; none when the attribute is missing or not a list. */
const LabelsSchema = z.pipe(
  z.catch(z.array(z.unknown()), []),
  z.transform((entries) =>
    entries.flatMap((entry) => {
      const label = LabelSchema.safeParse(entry);
      return label.success ? [label.data] : [];
    }),
  ),
);

/**
 * A results-table row read for display (the CLI's results, the review page): every attribute its stored type or
 * absent, so a row written by an older or newer classify shows what it has instead of failing the whole list.
 */
const ResultRowSchema = z.object({
  imageKey: looseString(),
  status: looseString(),
  label: looseString(),
  confidence: looseNumber(),
  labels: LabelsSchema,
  reason: looseString(),
  detail: looseString(),
  modelVersionArn: looseString(),
  eventTime: looseString(),
  processedAt: looseString(),
  sequencer: looseString(),
  bucket: looseString(),
  size: looseNumber(),
  width: looseNumber(),
  height: looseNumber(),
  imageFormat: looseString(),
  eTag: looseString(),
  objectVersionId: looseString(),
});

export type ResultRow = z.output<typeof ResultRowSchema>;

export function readResultRow(item: Readonly<Record<string, unknown>>): ResultRow {
  return ResultRowSchema.parse(item);
}
