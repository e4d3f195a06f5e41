import { describe, expect, it } from 'vitest';

describe('SDK clients', () => {
  it('retry throttling and 5xx with more attempts than the default', async () => {
    const { documentClient, rekognitionClient, s3Client } = await import('../../src/lib/clients.js');
    for (const client of [rekognitionClient, s3Client, documentClient]) {
      expect(await client.config.maxAttempts()).toBe(5);
    }
  });
});
