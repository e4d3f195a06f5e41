import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';

/** An event as EventBridge delivers it to a rule's target. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

/** The file `pneumo watch --events` follows: one event per line, in the order the local bus accepted them. */
export const EVENTS_FILE = 'events.jsonl';

/**
 * The local stand-in for the stage's event bus: every event the deployed bus would carry (results through the
 * pipes, retrain outcomes through PutEvents) is appended here, so a subscriber can be tested offline.
 */
export class EventLog {
  constructor(
    readonly path: string,
    private readonly account: string,
    private readonly region: string,
    private readonly now: () => number = Date.now,
  ) {}

  append(source: string, detailType: string, detail: unknown): BusEvent {
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source,
      account: this.account,
      time: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [],
      detail,
    };
    // Synchronous: lines never interleave, and an event is on disk before PutEvents answers.
    appendFileSync(this.path, `${JSON.stringify(event)}\n`);
    return event;
  }
}
