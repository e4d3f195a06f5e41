import type { Io } from './io.js';

export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  readonly align?: 'left' | 'right';
}

/** Plain aligned columns: readable in a terminal, and `grep`/`awk`-able (no box drawing). */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => (line[i] ?? '').length)));
  const render = (line: readonly string[]): string =>
    line
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return columns[i]?.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)];
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderCsv<T>(rows: readonly T[], fields: readonly { readonly header: string; readonly value: (row: T) => unknown }[]): string[] {
  return [fields.map((field) => csvField(field.header)).join(','), ...rows.map((row) => fields.map((field) => csvField(field.value(row))).join(','))];
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

export function printLines(io: Io, lines: readonly string[]): void {
  for (const line of lines) io.out(line);
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '-' : `${value.toFixed(digits)}%`;
}

export function decimal(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  if (count < 1024 * 1024 * 1024) return `${(count / 1024 / 1024).toFixed(1)} MiB`;
  return `${(count / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** `1h 02m 03s` style, for elapsed times and serving windows. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}
