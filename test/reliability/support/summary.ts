/*
 * One line per family: "<family>: N tried, N ok, N lost". `tried` counts cases (images or scenarios) put through
 * the stack, `ok` those that reached their expected end state, `lost` uploads or events that ended with neither
 * a row, nor a dead letter, nor an expected skip.
 */
export class FamilyTally {
  tried = 0;
  ok = 0;
  lost = 0;
  private readonly notes: string[] = [];

  constructor(readonly family: string) {}

  record(ok: boolean, lost = 0): void {
    this.tried += 1;
    if (ok) this.ok += 1;
    this.lost += lost;
  }

  add(tried: number, ok: number, lost: number): void {
    this.tried += tried;
    this.ok += ok;
    this.lost += lost;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  line(): string {
    return `${this.family}: ${this.tried} tried, ${this.ok} ok, ${this.lost} lost`;
  }

  /** Printed to stdout directly so it shows whatever the reporter does with console output. */
  print(): void {
    const extra = this.notes.map((note) => `  ${note}\n`).join('');
    process.stdout.write(`\n[reliability] ${this.line()}\n${extra}`);
  }
}

/** Renders rows of cells as an aligned text table. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const all = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}
