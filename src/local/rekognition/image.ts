import type { S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { ApiError } from './errors.js';
import { readObject, S3ReadError, TooLargeError } from './s3.js';
import type { DetectCustomLabelsRequest } from './schemas.js';

/* The image checks DetectCustomLabels makes before the model sees an image, with the service's limits and errors. */

const MAX_S3_BYTES = 15 * 1024 * 1024;
const MAX_INLINE_BYTES = 4 * 1024 * 1024;
const MIN_SIDE = 64;
const MAX_SIDE = 4096;

/** The image's bytes: inline, or read from S3 (the object's size checked before its body is read). */
export async function imageBytes(s3: S3Client, image: DetectCustomLabelsRequest['Image']): Promise<Uint8Array> {
  if (image.Bytes) {
    if (image.Bytes.length > MAX_INLINE_BYTES) throw new ApiError('ImageTooLargeException', `Image bytes are ${image.Bytes.length} bytes; the limit is 4 MB`);
    return image.Bytes;
  }
  if (!image.S3Object) throw new ApiError('InvalidParameterException', 'Image needs exactly one of Bytes or S3Object');
  const { Bucket, Name, Version } = image.S3Object;
  try {
    return await readObject(s3, Bucket, Name, { maxBytes: MAX_S3_BYTES, ...(Version ? { versionId: Version } : {}) });
  } catch (error) {
    if (error instanceof TooLargeError) throw new ApiError('ImageTooLargeException', `The S3 object is ${error.bytes} bytes; the limit is 15 MB`);
    if (error instanceof S3ReadError && error.kind !== 'fault') {
      throw new ApiError('InvalidS3ObjectException', `Unable to get object metadata from S3. Check object key, region and/or access permissions. (${error.message})`);
    }
    throw error;
  }
}

/** Refuses what is not a JPEG or PNG of 64–4096 px a side. */
export async function checkImage(bytes: Uint8Array): Promise<void> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch {
    throw new ApiError('InvalidImageFormatException', 'Request has invalid image format');
  }
  const { format, width, height } = metadata;
  if (format !== 'jpeg' && format !== 'png') throw new ApiError('InvalidImageFormatException', `Request has invalid image format (${format}); use JPEG or PNG`);
  if (width > MAX_SIDE || height > MAX_SIDE) throw new ApiError('ImageTooLargeException', `Image is ${width}×${height}; the limit is ${MAX_SIDE}×${MAX_SIDE}`);
  if (width < MIN_SIDE || height < MIN_SIDE) throw new ApiError('InvalidParameterException', `Image is ${width}×${height}; the minimum is ${MIN_SIDE}×${MIN_SIDE}`);
}
