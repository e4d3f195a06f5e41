import type { Io } from './io.js';

/** Redraws at most this often, so a fast loop over thousands of files does not flood the terminal. */
const REDRAW_MS = 80;
const BAR_WIDTH = 24;

/**
 * A one-line progress bar on stderr. Drawn only when stderr is a terminal: piped or redirected output (CI logs,
 * `--format json > file`) gets the final summary lines the commands print, never carriage-return noise.
 */
export class ProgressBar {
  private done = 0;
  private note = '';
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly io: Io,
    private readonly label: string,
    private total: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.enabled = io.errIsTTY && total > 0;
  }

  setTotal(total: number): void {
    this.total = total;
    this.draw(true);
  }

  tick(count = 1, note?: string): void {
    this.done += count;
    if (note !== undefined) this.note = note;
    this.draw(this.done >= this.total);
  }

  update(done: number, note?: string): void {
    this.done = done;
    if (note !== undefined) this.note = note;
    this.draw(false);
  }

  /** Removes the bar so the next line starts clean. */
  finish(): void {
    if (this.enabled && this.drawn) this.io.errRaw('\r\x1b[K');
    this.drawn = false;
  }

  /** Prints a message above the bar without tearing it. */
  log(line: string): void {
    this.finish();
    this.io.err(line);
    this.draw(true);
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = this.clock();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.io.errRaw(`\r\x1b[K${renderBar(this.label, this.done, this.total, this.note, this.io.errColumns)}`);
    this.drawn = true;
  }
}

/** `label [#########---------] 12/40  30%  note`, cut to the terminal's width. */
export function renderBar(label: string, done: number, total: number, note: string, columns: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * BAR_WIDTH);
  const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${String(Math.floor(ratio * 100)).padStart(3)}%${note ? `  ${note}` : ''}`;
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** A status line for open-ended waits (no total): redrawn in place on a terminal, printed on change otherwise. */
export class StatusLine {
  private drawn = false;

  constructor(private readonly io: Io) {}

  show(text: string, changed: boolean): void {
    if (this.io.errIsTTY) {
      const cut = text.length > this.io.errColumns - 1 ? text.slice(0, this.io.errColumns - 1) : text;
      this.io.errRaw(`\r\x1b[K${cut}`);
      this.drawn = true;
    } else if (changed) {
      this.io.err(text);
    }
  }

  finish(): void {
    if (this.drawn) this.io.errRaw('\r\x1b[K');
    this.drawn = false;
  }
}
