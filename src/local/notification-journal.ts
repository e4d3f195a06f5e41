import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import * as z from 'zod/mini';
import { isPlainObject, parseWith } from '../lib/schema.js';

/** A notification handed to a function and not yet settled (handled, or written to the dead-letter file). */
export interface JournalEntry {
  readonly id: number;
  /** Logical id of the function the notification invokes. */
  readonly functionLogicalId: string;
  readonly event: unknown;
}

type Line = { readonly op: 'queued'; readonly id: number; readonly functionLogicalId: string; readonly event: unknown } | { readonly op: 'settled'; readonly id: number };

export class JournalError extends Error {
  override readonly name = 'JournalError';
}

const id = z.number().check(z.refine(Number.isSafeInteger));

const LineSchema = z.discriminatedUnion('op', [
  z.object({ id, op: z.literal('settled') }),
  z.object({ id, op: z.literal('queued'), functionLogicalId: z.string().check(z.minLength(1)), event: z.unknown().check(z.refine((event) => event !== undefined)) }),
]);

function parseLine(text: string, file: string, lineNumber: number): Line {
  const fail = (why: string): JournalError => new JournalError(`${file} line ${lineNumber}: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new JournalError(`${file} line ${lineNumber}: not JSON`, { cause });
  }
  const line = isPlainObject(value) ? value : {};
  // The id first: a line whose id cannot be read cannot be settled, whatever else is wrong with it.
  if (!id.safeParse(line.id).success) throw fail('id is not an integer');
  return parseWith(LineSchema, line, (_message, [field]) =>
    fail(field === 'functionLogicalId' ? 'functionLogicalId is missing' : field === 'event' ? 'event is missing' : `unknown op ${JSON.stringify(line.op)}`),
  );
}

/**
 * Makes the local stack's S3 notifications as durable as on AWS, where S3 hands each event to Lambda's
 * asynchronous queue before the upload is acknowledged. Each notification is appended here (synchronously,
 * before the local S3 answers the PUT) and marked settled once the function handled it or dead-lettered it; a stack
 * restarted on the same data folder re-delivers what a killed process left unsettled. A re-delivery of an
 * event the function did handle is a duplicate delivery, which classify recognises by its sequencer (S3 itself
 * delivers at least once).
 */
export class NotificationJournal {
  private readonly unsettled = new Set<number>();
  private closed = false;

  private constructor(
    private readonly fd: number,
    private nextId: number,
  ) {}

  /**
   * Opens the journal in `file` and returns the notifications a previous process left unsettled, in the order
   * they were queued. The file is rewritten to hold only those. A last line cut short by a kill is dropped: its
   * write never completed, so the upload it belonged to was never acknowledged.
   */
  static open(file: string): { readonly journal: NotificationJournal; readonly unsettled: readonly JournalEntry[] } {
    mkdirSync(dirname(file), { recursive: true });
    const pending = new Map<number, JournalEntry>();
    let lastId = 0;
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      const complete = lines.slice(0, -1);
      const tail = lines.at(-1) ?? '';
      complete.forEach((text, index) => {
        if (text === '') return;
        const line = parseLine(text, file, index + 1);
        lastId = Math.max(lastId, line.id);
        if (line.op === 'queued') pending.set(line.id, { id: line.id, functionLogicalId: line.functionLogicalId, event: line.event });
        else pending.delete(line.id);
      });
      if (tail !== '') process.emitWarning(`${file}: dropped an incomplete last line (${tail.length} bytes) left by a stopped process`);
    }
    const unsettled = [...pending.values()].sort((a, b) => a.id - b.id);
    // Rewritten through a temporary file so a kill during the rewrite leaves the old journal, not half a new one.
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, unsettled.map((entry) => `${JSON.stringify({ op: 'queued', ...entry })}\n`).join(''));
    renameSync(temporary, file);
    const journal = new NotificationJournal(openSync(file, 'a'), lastId + 1);
    for (const entry of unsettled) journal.unsettled.add(entry.id);
    return { journal, unsettled };
  }

  /** Records a notification about to be handed to a function; returns its id for `settled`. */
  queued(functionLogicalId: string, event: unknown): number {
    if (this.closed) throw new JournalError('the notification journal is closed');
    const id = this.nextId++;
    writeSync(this.fd, `${JSON.stringify({ op: 'queued', id, functionLogicalId, event })}\n`);
    this.unsettled.add(id);
    return id;
  }

  /** After `close` this does nothing: the entry stays unsettled and a restart re-delivers it as a duplicate. */
  settled(id: number): void {
    if (this.closed || !this.unsettled.delete(id)) return;
    if (this.unsettled.size === 0) {
      // Nothing left to re-deliver: start the file over, so it stays small however long the stack runs.
      ftruncateSync(this.fd, 0);
      return;
    }
    writeSync(this.fd, `${JSON.stringify({ op: 'settled', id })}\n`);
  }

  /** Notifications queued and not settled, in this process. */
  get size(): number {
    return this.unsettled.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
