/*
 * Conditional writes of the table modules. A failed condition means another writer got there first or the item
 * has moved on, which every caller takes as "not this time", never as an error; any other failure is thrown.
 */

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

export type ConditionalOutcome<T> = { readonly written: true; readonly output: T } | { readonly written: false };

export async function conditionalWrite<T>(write: () => Promise<T>): Promise<ConditionalOutcome<T>> {
  try {
    return { written: true, output: await write() };
  } catch (error) {
    if (isConditionFailure(error)) return { written: false };
    throw error;
  }
}
