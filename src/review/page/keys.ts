/*
 * A key per decidable label, in the order the server sends them (by name, so the same labels always get the same
 * keys): its number (1–9) and its first letter, unless an earlier label took that letter or one of the page's own
 * actions uses it — a TUBERCULOSIS label must not take T from "add to training".
 */

/** Letters of the page's own actions (next, previous, undo, add to training, note). */
export const ACTION_KEYS: ReadonlySet<string> = new Set(['j', 'k', 'u', 't', 'e']);

/** Pressed key (lower case) → label. */
export function labelKeys(labels: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  labels.forEach((label, index) => {
    if (index < 9) keys.set(String(index + 1), label);
    const letter = label.charAt(0).toLowerCase();
    if (/^[a-z]$/.test(letter) && !ACTION_KEYS.has(letter) && !keys.has(letter)) keys.set(letter, label);
  });
  return keys;
}

/** The key shown for a label: its letter when it has one, else its number; null past the ninth without a letter. */
export function keyFor(labels: readonly string[], label: string): string | null {
  const keys = [...labelKeys(labels)].filter(([, which]) => which === label).map(([key]) => key);
  return keys.find((key) => /^[a-z]$/.test(key))?.toUpperCase() ?? keys[0] ?? null;
}
