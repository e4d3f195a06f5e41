import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The additional checksums S3 takes (x-amz-checksum-<name>), each computed over the object's bytes. */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function checksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  return CHECKSUM_ALGORITHMS.find((algorithm) => algorithm === name.toUpperCase());
}

/** A running checksum; `digest` gives S3's form, base64 of the big-endian bytes. */
export interface RunningChecksum {
  update(chunk: Buffer): void;
  digest(): string;
}

function tableOf(polynomial: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const CRC32C_TABLE = tableOf(0x82f63b78);

/** CRC-64/NVME (reflected, polynomial 0x9A6C9329AC4BC9B5), the table split in two 32-bit halves for speed. */
const CRC64_TABLE = ((): { high: Uint32Array; low: Uint32Array } => {
  const polynomial = 0x9a6c9329ac4bc9b5n;
  const high = new Uint32Array(256);
  const low = new Uint32Array(256);
  for (let n = 0n; n < 256n; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1n ? polynomial ^ (c >> 1n) : c >> 1n;
    high[Number(n)] = Number(c >> 32n);
    low[Number(n)] = Number(c & 0xffffffffn);
  }
  return { high, low };
})();

function uint32Digest(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

function hashChecksum(hash: Hash): RunningChecksum {
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest('base64') };
}

export function runningChecksum(algorithm: ChecksumAlgorithm): RunningChecksum {
  switch (algorithm) {
    case 'SHA1':
      return hashChecksum(createHash('sha1'));
    case 'SHA256':
      return hashChecksum(createHash('sha256'));
    case 'CRC32': {
      let value = 0;
      return { update: (chunk) => (value = crc32(chunk, value)), digest: () => uint32Digest(value) };
    }
    case 'CRC32C': {
      let value = 0xffffffff;
      return {
        update: (chunk) => {
          for (const byte of chunk) value = (CRC32C_TABLE[(value ^ byte) & 0xff] as number) ^ (value >>> 8);
        },
        digest: () => uint32Digest(value ^ 0xffffffff),
      };
    }
    case 'CRC64NVME': {
      let high = 0xffffffff;
      let low = 0xffffffff;
      return {
        update: (chunk) => {
          for (const byte of chunk) {
            const index = (low ^ byte) & 0xff;
            const shiftedLow = ((low >>> 8) | (high << 24)) >>> 0;
            const shiftedHigh = high >>> 8;
            low = (shiftedLow ^ (CRC64_TABLE.low[index] as number)) >>> 0;
            high = (shiftedHigh ^ (CRC64_TABLE.high[index] as number)) >>> 0;
          }
        },
        digest: () => {
          const bytes = Buffer.alloc(8);
          bytes.writeUInt32BE((high ^ 0xffffffff) >>> 0, 0);
          bytes.writeUInt32BE((low ^ 0xffffffff) >>> 0, 4);
          return bytes.toString('base64');
        },
      };
    }
  }
}
