import type { ErrorView, ItemView, ModelView, SessionView, WorklistPage } from '../api-types.js';

/** A refusal from the server, with the row as it now is when the server sent it (a conflict). */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly body: ErrorView,
  ) {
    super(body.message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  const body = (await response.json().catch(() => ({ error: 'bad-response', message: `the server answered ${response.status}` }))) as unknown;
  if (!response.ok) throw new ApiError(response.status, body as ErrorView);
  return body as T;
}

function post<T>(path: string, body: unknown): Promise<T> {
  return call<T>(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

export const api = {
  session: (): Promise<SessionView> => call('/api/session'),
  worklist: (filter: Readonly<Record<string, string>>, cursor: string | null): Promise<WorklistPage> => {
    const query = new URLSearchParams(filter);
    if (cursor !== null) query.set('cursor', cursor);
    return call(`/api/worklist?${query.toString()}`);
  },
  decide: (item: ItemView, label: string, note: string): Promise<{ item: ItemView }> =>
    post('/api/decisions', { imageKey: item.key, label, sequencer: item.sequencer, ...(note.trim() !== '' ? { note } : {}) }),
  undo: (item: ItemView, reviewedAt: string): Promise<{ item: ItemView }> => post('/api/undo', { imageKey: item.key, reviewedAt }),
  addToTraining: (item: ItemView): Promise<{ item: ItemView }> => post('/api/training', { imageKey: item.key }),
  addAllToTraining: (filter: Readonly<Record<string, string>>, cursor: string | null): Promise<{ added: number; cursor: string | null }> =>
    post('/api/training/all', { filter, ...(cursor !== null ? { cursor } : {}) }),
  model: (): Promise<ModelView> => call('/api/model'),
  imageUrl: (item: ItemView): string => `/api/image?${new URLSearchParams({ key: item.key }).toString()}`,
};
