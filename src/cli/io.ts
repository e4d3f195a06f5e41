/** Where a command writes. Tests capture it; the real one is the process's stdout and stderr. */
export interface Io {
  /** Data and results: what scripts parse. Lines are written as given plus a newline. */
  out(line: string): void;
  /** Messages for the person at the terminal: what changed, warnings, errors. */
  err(line: string): void;
  /** Raw stderr writes for the progress bar's carriage-return redraws. */
  errRaw(text: string): void;
  /** True only when stderr is a terminal: progress bars are drawn then and never otherwise. */
  readonly errIsTTY: boolean;
  readonly errColumns: number;
}

export function processIo(): Io {
  // `pneumo results | head` closes the pipe early: that is the reader being done, not an error to report.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    errRaw: (text) => process.stderr.write(text),
    errIsTTY: process.stderr.isTTY,
    errColumns: process.stderr.columns || 80,
  };
}
