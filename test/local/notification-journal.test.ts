import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JournalError, NotificationJournal } from '../../src/local/notification-journal.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pneumo-journal-'));
  file = join(dir, 'data', 'notifications.jsonl');
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const event = (key: string): unknown => ({ Records: [{ s3: { object: { key } } }] });

describe('notification journal', () => {
  it('starts empty, creating its folder', () => {
    const { journal, unsettled } = NotificationJournal.open(file);
    expect(unsettled).toEqual([]);
    expect(statSync(file).size).toBe(0);
    journal.close();
  });

  it('gives a process opened after a kill the notifications left unsettled, in order, with their events', () => {
    const first = NotificationJournal.open(file).journal;
    const a = first.queued('ClassifyLambdaFunction', event('inbox/a.jpeg'));
    const b = first.queued('ClassifyLambdaFunction', event('inbox/b.jpeg'));
    const c = first.queued('OtherFunction', event('inbox/c.jpeg'));
    first.settled(b);
    // No close: a SIGKILL leaves the file as the writes left it.
    const { journal, unsettled } = NotificationJournal.open(file);
    expect(unsettled).toEqual([
      { id: a, functionLogicalId: 'ClassifyLambdaFunction', event: event('inbox/a.jpeg') },
      { id: c, functionLogicalId: 'OtherFunction', event: event('inbox/c.jpeg') },
    ]);
    expect(journal.size).toBe(2);
    // New ids never reuse an old one, so a settled line cannot settle the wrong notification.
    expect(journal.queued('ClassifyLambdaFunction', event('inbox/d.jpeg'))).toBeGreaterThan(c);
    journal.close();
  });

  it('rewrites itself to the unsettled notifications on open, and empties once all are settled', () => {
    const first = NotificationJournal.open(file).journal;
    const ids = ['a', 'b', 'c'].map((key) => first.queued('F', event(key)));
    first.settled(ids[0] ?? 0);
    first.close();
    const { journal, unsettled } = NotificationJournal.open(file);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    for (const entry of unsettled) journal.settled(entry.id);
    expect(statSync(file).size).toBe(0);
    // Appends after the truncation start at the beginning of the file again.
    journal.queued('F', event('e'));
    journal.close();
    expect(NotificationJournal.open(file).unsettled.map((entry) => entry.event)).toEqual([event('e')]);
  });

  it('drops a last line cut short by a kill, with a warning, and keeps the complete lines', () => {
    const first = NotificationJournal.open(file).journal;
    first.queued('F', event('whole'));
    first.close();
    appendFileSync(file, '{"op":"queued","id":2,"functionLogicalId":"F","ev');
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { journal, unsettled } = NotificationJournal.open(file);
    expect(unsettled.map((entry) => entry.event)).toEqual([event('whole')]);
    expect(warning).toHaveBeenCalledWith(expect.stringMatching(/dropped an incomplete last line/));
    journal.close();
  });

  it('refuses a damaged journal, naming the file and line, rather than guess what to re-deliver', () => {
    const damaged = join(dir, 'damaged.jsonl');
    writeFileSync(damaged, '{"op":"queued","id":1,"functionLogicalId":"F","event":{}}\nnot json\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(JournalError);
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 2: not JSON`);
    writeFileSync(damaged, '{"op":"queued","id":1,"event":{}}\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 1: functionLogicalId is missing`);
    writeFileSync(damaged, '{"op":"forgotten","id":1}\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 1: unknown op "forgotten"`);
    writeFileSync(damaged, '{"op":"settled","id":"1"}\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 1: id is not an integer`);
    writeFileSync(damaged, '{"op":"forgotten","id":1.5}\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 1: id is not an integer`);
    writeFileSync(damaged, '{"op":"queued","id":1,"functionLogicalId":"F"}\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 1: event is missing`);
    writeFileSync(damaged, '{"op":"queued","id":1,"functionLogicalId":"","event":{}}\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 1: functionLogicalId is missing`);
    writeFileSync(damaged, '[1]\n');
    expect(() => NotificationJournal.open(damaged)).toThrow(`${damaged} line 1: id is not an integer`);
  });

  it('ignores a settle after close (re-delivered later as a duplicate) and refuses new notifications', () => {
    const { journal } = NotificationJournal.open(file);
    const id = journal.queued('F', event('a'));
    journal.close();
    expect(() => {
      journal.settled(id);
    }).not.toThrow();
    expect(() => journal.queued('F', event('b'))).toThrow(/closed/);
    expect(NotificationJournal.open(file).unsettled.map((entry) => entry.id)).toEqual([id]);
  });
});
