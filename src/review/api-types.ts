/*
 * The JSON the review server sends and the page reads: plain types with no imports, so the page (DOM, bundled
 * by esbuild) and the server (Node) compile against the same definitions.
 */

export interface ReviewView {
  readonly reviewedLabel: string;
  readonly reviewer: string;
  readonly reviewedAt: string;
  readonly agreement: 'AGREED' | 'CORRECTED';
  readonly reviewNote?: string | undefined;
  readonly trainingKey?: string | undefined;
  readonly trainingCopiedAt?: string | undefined;
  /** True when this server's reviewer made the decision (only then can it be undone here). */
  readonly mine: boolean;
}

/** A results row as the page shows it. */
export interface ItemView {
  readonly key: string;
  readonly status: string;
  readonly label: string | null;
  readonly confidence: number | null;
  readonly labels: readonly { readonly name: string; readonly confidence: number }[];
  readonly modelVersion: string | null;
  /** When the image arrived (the S3 event) and when classify answered. */
  readonly arrivedAt: string | null;
  readonly answeredAt: string | null;
  readonly sequencer: string;
  readonly width: number | null;
  readonly height: number | null;
  readonly format: string | null;
  /** Only rows with a model answer can be confirmed or corrected. */
  readonly decidable: boolean;
  readonly review: ReviewView | null;
}

export interface WorklistPage {
  readonly items: readonly ItemView[];
  /** Continues the same filter; null at the end. */
  readonly cursor: string | null;
}

export interface SessionView {
  readonly reviewer: string;
  readonly target: string;
  readonly labels: readonly string[];
  readonly positiveLabel: string;
  readonly threshold: number | null;
}

export interface LabelMetricsView {
  readonly label: string;
  readonly f1: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly threshold: number | null;
  readonly testImages: number | null;
}

export interface ModelView {
  readonly active: { readonly versionName: string | null; readonly state: string | null; readonly f1: number | null; readonly promotedAt: string | null } | null;
  readonly labels: readonly LabelMetricsView[];
  /** Fractions of each ground-truth label's test images predicted as each label (rows sum to 1). */
  readonly confusion: { readonly labels: readonly string[]; readonly cells: readonly { readonly truth: string; readonly predicted: string; readonly fraction: number }[] } | null;
  readonly threshold: number | null;
  readonly histogram: { readonly binWidth: number; readonly sample: number; readonly bins: readonly { readonly from: number; readonly classified: number; readonly needsReview: number }[] };
  readonly agreement: { readonly days: readonly { readonly day: string; readonly agreed: number; readonly corrected: number }[]; readonly reviewed: number; readonly complete: boolean };
  readonly notes: readonly string[];
}

export interface ErrorView {
  readonly error: string;
  readonly message: string;
  readonly item?: ItemView;
}
