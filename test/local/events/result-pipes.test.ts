import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { matchesPattern, renderInputTemplate, streamPipes } from '../../../src/local/events/result-pipes.js';
import type { StreamPipe, StreamRecord } from '../../../src/local/events/result-pipes.js';
import { readTemplate } from '../../../src/local/template.js';

/* The pipes of the packaged template, applied as the local stack applies them to stream records. */

async function pipes(): Promise<StreamPipe[]> {
  return streamPipes(await readTemplate(join(inject('packageDir'), 'cloudformation-template-update-stack.json')));
}

function insert(image: StreamRecord['dynamodb']['NewImage']): StreamRecord {
  return { eventName: 'INSERT', eventSource: 'aws:dynamodb', dynamodb: { Keys: { imageKey: image?.imageKey ?? { S: '?' } }, ...(image ? { NewImage: image } : {}) } };
}

/** The detail each matching pipe would put on the bus for one record. */
function details(all: readonly StreamPipe[], streamRecord: StreamRecord): unknown[] {
  return all.filter((pipe) => pipe.filters.some((filter) => matchesPattern(filter, streamRecord))).map((pipe) => renderInputTemplate(pipe.inputTemplate, streamRecord));
}

const LABELLED = {
  imageKey: { S: 'inbox/ward "3"/a.jpeg' },
  status: { S: 'NEEDS_REVIEW' },
  label: { S: 'PNEUMONIA' },
  confidence: { N: '71.25' },
  modelVersionArn: { S: 'arn:aws:rekognition:eu-west-1:000000000000:project/pneumo-ci/version/v1/1' },
  processedAt: { S: '2026-12-01T08:00:00.000Z' },
  labels: { L: [{ M: { name: { S: 'PNEUMONIA' } } }] },
  width: { N: '224' },
};

describe('result-event pipes of the template', () => {
  it('are two, both on the results table stream, with the events the README documents', async () => {
    const all = await pipes();
    expect(all.map((pipe) => [pipe.tableLogicalId, pipe.source, pipe.detailType])).toEqual([
      ['ResultsTable', 'pneumo.results', 'Result Stored'],
      ['ResultsTable', 'pneumo.results', 'Result Stored'],
    ]);
  });

  it('a labelled row becomes exactly one event: key, status, label, confidence, model version, processed time', async () => {
    expect(details(await pipes(), insert(LABELLED))).toEqual([
      {
        key: 'inbox/ward "3"/a.jpeg',
        status: 'NEEDS_REVIEW',
        label: 'PNEUMONIA',
        confidence: '71.25',
        modelVersion: 'arn:aws:rekognition:eu-west-1:000000000000:project/pneumo-ci/version/v1/1',
        processedAt: '2026-12-01T08:00:00.000Z',
      },
    ]);
  });

  it('a row without a label becomes exactly one event with null label, confidence and model version', async () => {
    const pending = { imageKey: { S: 'inbox/b.png' }, status: { S: 'PENDING' }, reason: { S: 'no-model' }, processedAt: { S: '2026-12-01T08:01:00.000Z' } };
    expect(details(await pipes(), insert(pending))).toEqual([
      { key: 'inbox/b.png', status: 'PENDING', label: null, confidence: null, modelVersion: null, processedAt: '2026-12-01T08:01:00.000Z' },
    ]);
  });

  it('a deleted row is no event', async () => {
    expect(details(await pipes(), { eventName: 'REMOVE', eventSource: 'aws:dynamodb', dynamodb: { Keys: { imageKey: { S: 'inbox/c.png' } } } })).toEqual([]);
  });
});

describe('the pattern subset', () => {
  it('matches value lists, exists true and false, prefixes, nested fields', () => {
    const record = { a: 'x', b: { c: 'inbox/1' } };
    expect(matchesPattern({ a: ['y', 'x'] }, record)).toBe(true);
    expect(matchesPattern({ a: ['y'] }, record)).toBe(false);
    expect(matchesPattern({ b: { c: [{ prefix: 'inbox/' }] } }, record)).toBe(true);
    expect(matchesPattern({ b: { d: [{ exists: false }] } }, record)).toBe(true);
    expect(matchesPattern({ b: { c: [{ exists: false }] } }, record)).toBe(false);
    expect(matchesPattern({ z: [{ exists: true }] }, record)).toBe(false);
  });
});
