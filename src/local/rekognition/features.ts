import sharp from 'sharp';

/*
 * Image → feature vector. Everything here looks at pixels only: the caller never passes a name or a path.
 *
 * The image is decoded to greyscale, squashed to SIDE×SIDE (the training images are already square; real
 * uploads are close to it) and contrast-stretched (1st–99th percentile to 0–255). Features, concatenated:
 *   - HOG (histograms of oriented gradients, 9 unsigned bins, 2×2-cell blocks, L2-Hys) at two scales: 8 px cells
 *     on the SIDE px image and 8 px cells on a SIDE/2 px copy. Gradients capture the texture and edge structure
 *     that consolidation and infiltrates blur.
 *   - A 16-bin intensity histogram and a 16×16 thumbnail (coarse opacity layout of the lung fields).
 */

export const SIDE = 64;
const CELL = 8;
const BINS = 9;
const HIST_BINS = 16;
const THUMB = 16;

export interface Pixels {
  readonly side: number;
  /** Row-major greyscale, 0–255. */
  readonly data: Uint8Array;
}

/** Decodes JPEG/PNG bytes to SIDE×SIDE greyscale. Throws what sharp throws for undecodable input. */
export async function decodeToPixels(bytes: Uint8Array, side = SIDE): Promise<Pixels> {
  const { data, info } = await sharp(bytes, { failOn: 'truncated' })
    .removeAlpha()
    .greyscale()
    .resize(side, side, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey = new Uint8Array(side * side);
  for (let i = 0; i < grey.length; i++) grey[i] = data[i * info.channels] ?? 0;
  return { side, data: stretchContrast(grey) };
}

/**
 * Maps the 1st–99th intensity percentiles to 0–255 (in place), so exposure and contrast differences between
 * machines matter less. Done on the small image: the same as sharp's normalise() at a fraction of the cost.
 */
export function stretchContrast(grey: Uint8Array): Uint8Array {
  const histogram = new Uint32Array(256);
  for (const v of grey) histogram[v] = (histogram[v] ?? 0) + 1;
  const cut = Math.floor(grey.length * 0.01);
  let low = 0;
  for (let seen = 0; low < 255 && seen + (histogram[low] ?? 0) <= cut; low++) seen += histogram[low] ?? 0;
  let high = 255;
  for (let seen = 0; high > 0 && seen + (histogram[high] ?? 0) <= cut; high--) seen += histogram[high] ?? 0;
  if (high <= low) return grey;
  const scale = 255 / (high - low);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.max(0, Math.min(255, Math.round(((grey[i] ?? 0) - low) * scale)));
  return grey;
}

function halve(pixels: Pixels): Pixels {
  const side = pixels.side >> 1;
  const out = new Uint8Array(side * side);
  const src = pixels.data;
  const w = pixels.side;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = 2 * y * w + 2 * x;
      out[y * side + x] = ((src[i] ?? 0) + (src[i + 1] ?? 0) + (src[i + w] ?? 0) + (src[i + w + 1] ?? 0) + 2) >> 2;
    }
  }
  return { side, data: out };
}

/** HOG descriptor length for a square image of `side` px. */
function hogLength(side: number): number {
  const cells = side / CELL;
  return (cells - 1) * (cells - 1) * 4 * BINS;
}

function hog(pixels: Pixels, out: Float32Array, offset: number): number {
  const { side, data } = pixels;
  const cells = side / CELL;
  const hist = new Float32Array(cells * cells * BINS);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const left = data[y * side + Math.max(x - 1, 0)] ?? 0;
      const right = data[y * side + Math.min(x + 1, side - 1)] ?? 0;
      const up = data[Math.max(y - 1, 0) * side + x] ?? 0;
      const down = data[Math.min(y + 1, side - 1) * side + x] ?? 0;
      const gx = right - left;
      const gy = down - up;
      const magnitude = Math.sqrt(gx * gx + gy * gy);
      if (magnitude === 0) continue;
      let angle = Math.atan2(gy, gx);
      if (angle < 0) angle += Math.PI;
      // Linear interpolation between the two nearest orientation bins.
      const position = (angle / Math.PI) * BINS - 0.5;
      const low = Math.floor(position);
      const weightHigh = position - low;
      const binLow = (low + BINS) % BINS;
      const binHigh = (low + 1) % BINS;
      const cell = (Math.floor(y / CELL) * cells + Math.floor(x / CELL)) * BINS;
      hist[cell + binLow] = (hist[cell + binLow] ?? 0) + magnitude * (1 - weightHigh);
      hist[cell + binHigh] = (hist[cell + binHigh] ?? 0) + magnitude * weightHigh;
    }
  }
  let at = offset;
  const block = new Float32Array(4 * BINS);
  for (let by = 0; by < cells - 1; by++) {
    for (let bx = 0; bx < cells - 1; bx++) {
      let k = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
        const cell = ((by + dy) * cells + bx + dx) * BINS;
        for (let b = 0; b < BINS; b++) block[k++] = hist[cell + b] ?? 0;
      }
      // L2-Hys: normalise, clip at 0.2, normalise again.
      for (let pass = 0; pass < 2; pass++) {
        let sum = 1e-6;
        for (const v of block) sum += v * v;
        const norm = 1 / Math.sqrt(sum);
        for (let i = 0; i < block.length; i++) block[i] = Math.min((block[i] ?? 0) * norm, pass === 0 ? 0.2 : 1);
      }
      out.set(block, at);
      at += block.length;
    }
  }
  return at;
}

export const FEATURE_LENGTH = hogLength(SIDE) + hogLength(SIDE / 2) + HIST_BINS + THUMB * THUMB;

/** The feature vector of one SIDE×SIDE greyscale image. */
export function extractFeatures(pixels: Pixels): Float32Array {
  if (pixels.side !== SIDE) throw new Error(`expected ${SIDE} px pixels, got ${pixels.side}`);
  const out = new Float32Array(FEATURE_LENGTH);
  let at = hog(pixels, out, 0);
  const half = halve(pixels);
  at = hog(half, out, at);
  const n = pixels.data.length;
  for (const v of pixels.data) out[at + (v >> 4)] = (out[at + (v >> 4)] ?? 0) + 1 / n;
  at += HIST_BINS;
  let thumb = half;
  while (thumb.side > THUMB) thumb = halve(thumb);
  for (let i = 0; i < THUMB * THUMB; i++) out[at + i] = (thumb.data[i] ?? 0) / 255;
  return out;
}

export async function featuresOf(bytes: Uint8Array): Promise<Float32Array> {
  return extractFeatures(await decodeToPixels(bytes));
}
