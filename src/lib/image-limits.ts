/** Rekognition Custom Labels limits for images read from S3. */
export const IMAGE_LIMITS = {
  maxBytes: 15 * 1024 * 1024,
  minSide: 64,
  maxSide: 4096,
} as const;
