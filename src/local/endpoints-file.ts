import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalStack } from './stack.js';

/** Name of the file in a local stack's data folder through which the CLI finds the running stack. */
export const ENDPOINTS_FILE = 'endpoints.json';

/** Records where a running stack listens, for `pneumo` (src/cli/target.ts reads it back). */
export async function writeEndpointsFile(stack: LocalStack, dataDir: string, region: string, pid: number = process.pid): Promise<void> {
  const content = { pid, region, endpoints: stack.endpoints, names: stack.names, deadLetterFile: stack.deadLetterFile };
  await writeFile(join(dataDir, ENDPOINTS_FILE), JSON.stringify(content, null, 2));
}
