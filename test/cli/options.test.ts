import { describe, expect, it } from 'vitest';
import { csvField, duration, renderTable } from '../../src/cli/format.js';
import { datasetPrefix, fraction, integerIn, interval, keyPrefix, label, pointInTime, status, versionName } from '../../src/cli/options.js';
import { ProgressBar, renderBar } from '../../src/cli/progress.js';
import { runCli } from '../../src/cli/program.js';
import { captureIo } from '../fixtures/cli.js';

describe('argument parsers', () => {
  const now = (): number => Date.parse('2026-11-25T12:00:00.000Z');

  it('read times relative to now or as ISO dates', () => {
    const parse = pointInTime(now);
    expect(parse('24h')).toBe('2026-11-24T12:00:00.000Z');
    expect(parse('30m')).toBe('2026-11-25T11:30:00.000Z');
    expect(parse('7d')).toBe('2026-11-18T12:00:00.000Z');
    expect(parse('2026-11-24')).toBe('2026-11-24T00:00:00.000Z');
    expect(parse('2026-11-24T08:15:00+01:00')).toBe('2026-11-24T07:15:00.000Z');
    for (const bad of ['yesterday', '24', '2026-13-45', '-1h', '']) expect(() => parse(bad), bad).toThrow(/Expected a time/);
  });

  it('read numbers, durations, statuses, labels and prefixes, refusing anything else', () => {
    expect(integerIn(1, 10)('3')).toBe(3);
    for (const bad of ['0', '11', '1.5', 'x', '']) expect(() => integerIn(1, 10)(bad), bad).toThrow(/whole number from 1 to 10/);
    expect(fraction('0.85')).toBe(0.85);
    for (const bad of ['1.1', '-0.1', 'abc', '']) expect(() => fraction(bad), bad).toThrow(/0 to 1/);
    expect([interval('2'), interval('500ms'), interval('10m'), interval('1h')]).toEqual([2000, 500, 600_000, 3_600_000]);
    expect(() => interval('0s')).toThrow(/above zero/);
    expect(() => interval('soon')).toThrow(/duration/);
    expect(status('needs-review')).toBe('NEEDS_REVIEW');
    expect(() => status('DONE')).toThrow(/CLASSIFIED, NEEDS_REVIEW, PENDING, REJECTED, FAILED/);
    expect(label('pneumonia')).toBe('PNEUMONIA');
    expect(() => label('two words')).toThrow(/label name/);
    expect(keyPrefix('/ward-3/2026/')).toBe('ward-3/2026');
    for (const bad of ['..', 'a//b', '/', 'a/../b']) expect(() => keyPrefix(bad), bad).toThrow(/folder/);
    expect(versionName('v2026.1_a-b')).toBe('v2026.1_a-b');
    expect(() => versionName('-x')).toThrow(/letters, digits/);
    expect(datasetPrefix('testing')).toBe('testing/');
    expect(() => datasetPrefix('inbox/')).toThrow(/under training\/ or testing\//);
    expect(() => datasetPrefix('training/../inbox/')).toThrow();
  });
});

describe('output helpers', () => {
  it('quote CSV fields per RFC 4180 and align tables', () => {
    expect([csvField('a,b'), csvField('say "hi"'), csvField('line\nbreak'), csvField(null), csvField(1.5)]).toEqual(['"a,b"', '"say ""hi"""', '"line\nbreak"', '', '1.5']);
    expect(renderTable([{ a: 'x', n: '1' }, { a: 'longer', n: '10' }], [{ header: 'A', value: (r) => r.a }, { header: 'N', value: (r) => r.n, align: 'right' }])).toEqual(['A        N', 'x        1', 'longer  10']);
    expect([duration(5_000), duration(65_000), duration(3_725_000)]).toEqual(['5s', '1m 05s', '1h 02m']);
  });

  it('draw the progress bar only when stderr is a terminal, cut to its width', () => {
    expect(renderBar('uploading', 12, 40, '3 MiB', 100)).toBe('uploading [#######-----------------] 12/40  30%  3 MiB');
    expect(renderBar('uploading', 12, 40, 'a long note', 20)).toHaveLength(19);
    const piped = captureIo(false);
    const bar = new ProgressBar(piped, 'uploading', 3);
    bar.tick();
    bar.tick();
    bar.tick();
    bar.finish();
    expect(piped.stderr).toEqual([]);
    const tty = captureIo(true);
    let clock = 0;
    const drawn = new ProgressBar(tty, 'uploading', 2, () => clock);
    drawn.tick();
    clock += 1000;
    drawn.tick();
    drawn.finish();
    expect(tty.stderr).toEqual(['\r\x1b[Kuploading [############------------] 1/2  50%', '\r\x1b[Kuploading [########################] 2/2 100%', '\r\x1b[K']);
    expect(tty.stdout).toEqual([]);
  });
});

describe('date and duration options', () => {
  const now = (): number => Date.parse('2026-11-25T12:00:00.000Z');
  const noTarget = (): never => {
    throw new Error('the target must not be reached with a bad argument');
  };

  // Every option of every command that takes a time or a duration, with values each must refuse.
  const cases: [string[], string, string][] = [
    [['results'], '--since', '300000000d'],
    [['results'], '--since', '2026-02-30'],
    [['results'], '--until', '2026-11-24T25:00:00Z'],
    [['results'], '--until', '2026-04-31T08:00:00Z'],
    [['watch'], '--since', '99999999999w'],
    [['watch'], '--since', '2025-02-29'],
    [['watch'], '--poll', '99999999999h'],
    [['submit', 'x.jpeg'], '--timeout', '1e9h'],
    [['submit', 'x.jpeg'], '--timeout', '100000d'],
    [['submit', 'x.jpeg'], '--poll', '2000h'],
    [['model', 'start'], '--poll', '99999999999999999999s'],
    [['model', 'stop'], '--poll', '30d'],
    [['retrain'], '--poll', '0ms'],
  ];

  it.each(cases)('%j %s %s exits 2 naming the option and the value', async (command, option, value) => {
    const io = captureIo();
    expect(await runCli([...command, option, value], { io, now, resolveTarget: noTarget })).toBe(2);
    const text = io.stderr.join('\n');
    expect(text).toContain(option);
    expect(text).toContain(value);
    expect(text).not.toMatch(/RangeError|Invalid time value/);
  });

  it('accepts a leap day, an offset and the longest durations allowed', () => {
    const parse = pointInTime(now);
    expect(parse('2028-02-29')).toBe('2028-02-29T00:00:00.000Z');
    expect(parse('2026-11-24T23:59:59.999-05:00')).toBe('2026-11-25T04:59:59.999Z');
    expect(parse('52w')).toBe('2025-11-26T12:00:00.000Z');
    expect(interval('1h')).toBe(3_600_000);
  });
});
