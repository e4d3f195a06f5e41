import type { ItemView, SessionView } from '../api-types.js';
import { api, ApiError } from './api.js';
import { byId, h, percent, when } from './dom.js';
import { keyFor, labelKeys } from './keys.js';
import { renderModel } from './model.js';

/*
 * The review page: a worklist on the left, the selected X-ray and its answer on the right, decided with the
 * keyboard alone. Keys: one per label (keys.ts), J/↓ next, K/↑ previous, U undo, T add
 * to training, E write a note, Esc leave the note.
 */

interface State {
  session: SessionView | undefined;
  items: ItemView[];
  selected: number;
  cursor: string | null;
  filter: Record<string, string>;
  busy: boolean;
  message: { readonly text: string; readonly kind: 'ok' | 'error' } | undefined;
}

const state: State = { session: undefined, items: [], selected: -1, cursor: null, filter: {}, busy: false, message: undefined };

function keyText(labels: readonly string[], label: string): string {
  const key = keyFor(labels, label);
  return key === null ? '' : `[${key}] `;
}

function shortName(key: string): string {
  return key.replace(/^inbox\//, '');
}

function setMessage(text: string, kind: 'ok' | 'error'): void {
  state.message = { text, kind };
}

function markOf(item: ItemView): HTMLElement {
  if (!item.review) return h('span', { className: 'mark', text: item.decidable ? '' : '–' });
  const kind = item.review.agreement === 'AGREED' ? 'agreed' : 'corrected';
  const text = `${item.review.agreement === 'AGREED' ? '✓' : '✎'} ${item.review.reviewedLabel}${item.review.trainingKey ? ' ⊕' : ''}`;
  return h('span', { className: `mark ${kind}`, text, attrs: { title: `${kind} by ${item.review.reviewer}` } });
}

function renderList(): void {
  const list = byId('items', HTMLOListElement);
  list.replaceChildren(
    ...state.items.map((item, index) => {
      const meta = `${item.label ?? 'no label'} ${percent(item.confidence)} · ${when(item.answeredAt)}`;
      const li = h('li', { className: index === state.selected ? 'selected' : '', attrs: { 'data-key': item.key, tabindex: '-1' } }, [
        h('span', { className: 'name', text: shortName(item.key) }),
        markOf(item),
        h('span', { className: 'meta' }, [h('span', { className: `status ${item.status}`, text: item.status }), document.createTextNode(` ${meta}`)]),
      ]);
      li.addEventListener('click', () => {
        select(index);
      });
      return li;
    }),
  );
  if (state.items.length === 0) list.append(h('li', { text: 'Nothing to show for this filter.' }));
  byId('more', HTMLButtonElement).disabled = state.cursor === null || state.busy;
  list.querySelector('li.selected')?.scrollIntoView({ block: 'nearest' });
}

function confidenceBars(item: ItemView): HTMLElement {
  return h('div', {}, item.labels.map((entry) => {
    const fill = h('div', { className: 'fill' });
    fill.style.width = `${Math.max(0, Math.min(100, entry.confidence))}%`;
    return h('div', { className: 'bar' }, [h('span', { text: entry.name }), h('div', { className: 'track' }, [fill]), h('span', { text: percent(entry.confidence) })]);
  }));
}

function decisionText(item: ItemView): string | null {
  const review = item.review;
  if (!review) return null;
  const who = review.mine ? 'you' : review.reviewer;
  const verb = review.agreement === 'AGREED' ? 'confirmed' : 'corrected to';
  return `Decided: ${verb} ${review.reviewedLabel} by ${who}, ${when(review.reviewedAt)}${review.reviewNote ? `. Note: ${review.reviewNote}` : ''}`;
}

function renderDetail(): void {
  const detail = byId('detail', HTMLElement);
  const item = state.items[state.selected];
  if (!item) {
    detail.replaceChildren(h('p', { className: 'empty', text: state.items.length === 0 ? 'No image to review here.' : 'No image selected.' }));
    return;
  }
  const image = h('img', { attrs: { src: api.imageUrl(item), alt: `Chest X-ray ${shortName(item.key)}` } });
  const labels = state.session?.labels ?? [];
  const choices = h('div', { className: 'decide' }, labels.map((label) => {
    const button = h('button', {
      className: `choice${label === item.label ? ' model' : ''}`,
      text: `${keyText(labels, label)}${label}${label === item.label ? ' (confirm)' : ' (correct)'}`,
      attrs: { type: 'button', 'data-label': label },
    });
    button.disabled = !item.decidable || item.review !== null || state.busy;
    button.addEventListener('click', () => void decide(label));
    return button;
  }));
  const undo = h('button', { text: '[U] Undo my decision', attrs: { type: 'button', id: 'undo' } });
  undo.disabled = !item.review?.mine || state.busy;
  undo.addEventListener('click', () => void undoDecision());
  const training = h('button', { text: item.review?.trainingKey ? 'In training data' : '[T] Add to training data', attrs: { type: 'button', id: 'train' } });
  training.disabled = !item.review || item.review.trainingKey !== undefined || state.busy;
  training.addEventListener('click', () => void addToTraining());
  const note = h('textarea', { attrs: { id: 'note', placeholder: 'Note (optional) — press E to write, Esc to leave', maxlength: '500' } });
  const decision = decisionText(item);
  const message = state.message ? h('p', { className: `message ${state.message.kind}`, text: state.message.text, attrs: { id: 'message', role: 'status' } }) : null;
  const facts = h('div', { className: 'facts' }, [
    h('h2', { text: shortName(item.key) }),
    h('p', {}, [h('span', { className: `status ${item.status}`, text: item.status })]),
    confidenceBars(item),
    h('dl', {}, [
      h('dt', { text: 'Model says' }), h('dd', { text: item.label === null ? 'no answer' : `${item.label} (${percent(item.confidence)})` }),
      h('dt', { text: 'Model version' }), h('dd', { text: item.modelVersion ?? '–' }),
      h('dt', { text: 'Arrived' }), h('dd', { text: when(item.arrivedAt) }),
      h('dt', { text: 'Answered' }), h('dd', { text: when(item.answeredAt) }),
      h('dt', { text: 'Image' }), h('dd', { text: item.width !== null && item.height !== null ? `${item.width}×${item.height} ${item.format ?? ''}` : '–' }),
      ...(item.review?.trainingKey ? [h('dt', { text: 'Training copy' }), h('dd', { text: item.review.trainingKey })] : []),
    ]),
    decision ? h('p', { className: 'decision', text: decision }) : null,
    item.decidable ? choices : h('p', { text: 'This result has no model answer to confirm or correct.' }),
    note,
    h('div', { className: 'decide' }, [undo, training]),
    message,
  ]);
  detail.replaceChildren(h('div', { className: 'xray' }, [image]), facts);
}

function render(): void {
  renderList();
  renderDetail();
}

function select(index: number): void {
  if (index < 0 || index >= state.items.length) return;
  state.selected = index;
  state.message = undefined;
  render();
}

function replaceItem(updated: ItemView): void {
  const index = state.items.findIndex((item) => item.key === updated.key);
  if (index >= 0) state.items[index] = updated;
}

function noteText(): string {
  const note = document.getElementById('note');
  return note instanceof HTMLTextAreaElement ? note.value : '';
}

async function act(work: () => Promise<void>): Promise<void> {
  if (state.busy) return;
  state.busy = true;
  try {
    await work();
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.body.item) replaceItem(error.body.item);
      setMessage(error.status === 409 ? `Conflict: ${error.message}` : error.message, 'error');
    } else {
      setMessage(`Could not reach the review server (${error instanceof Error ? error.message : String(error)})`, 'error');
    }
  } finally {
    state.busy = false;
    render();
  }
}

async function decide(label: string): Promise<void> {
  const item = state.items[state.selected];
  if (!item?.decidable || item.review) return;
  const note = noteText();
  await act(async () => {
    const { item: updated } = await api.decide(item, label, note);
    replaceItem(updated);
    const index = state.selected;
    if (index + 1 < state.items.length) state.selected = index + 1;
    setMessage(`Saved for ${shortName(item.key)}: ${label} (${updated.review?.agreement === 'AGREED' ? 'confirmed' : 'corrected'}).`, 'ok');
  });
}

async function undoDecision(): Promise<void> {
  const item = state.items[state.selected];
  const review = item?.review;
  if (!item || !review?.mine) return;
  await act(async () => {
    const { item: updated } = await api.undo(item, review.reviewedAt);
    replaceItem(updated);
    setMessage(`Decision on ${shortName(item.key)} undone${review.trainingKey ? ' and its training copy removed' : ''}.`, 'ok');
  });
}

async function addToTraining(): Promise<void> {
  const item = state.items[state.selected];
  if (!item?.review || item.review.trainingKey !== undefined) return;
  await act(async () => {
    const { item: updated } = await api.addToTraining(item);
    replaceItem(updated);
    setMessage(`${shortName(item.key)} added to the training data as ${updated.review?.reviewedLabel ?? ''}; the next retrain includes it.`, 'ok');
  });
}

async function addAllToTraining(): Promise<void> {
  await act(async () => {
    let added = 0;
    let cursor: string | null = null;
    do {
      const batch: { added: number; cursor: string | null } = await api.addAllToTraining(state.filter, cursor);
      added += batch.added;
      cursor = batch.cursor;
    } while (cursor !== null);
    setMessage(`${added} decided image(s) added to the training data.`, 'ok');
    await reload(false);
  });
}

function filterFromForm(): Record<string, string> {
  const form = byId('filters', HTMLFormElement);
  const data = new FormData(form);
  const filter: Record<string, string> = {};
  const text = (name: string): string => {
    const value = data.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  for (const name of ['status', 'label', 'prefix', 'reviewed']) {
    const value = text(name);
    if (value !== '' && !(name === 'reviewed' && value === 'any')) filter[name] = value;
  }
  // Dates are the reviewer's local days.
  const since = text('since');
  const until = text('until');
  if (since !== '') filter.since = new Date(`${since}T00:00:00`).toISOString();
  if (until !== '') filter.until = new Date(`${until}T23:59:59.999`).toISOString();
  return filter;
}

async function loadMore(): Promise<void> {
  if (state.cursor === null) return;
  const cursor = state.cursor;
  await act(async () => {
    const page = await api.worklist(state.filter, cursor);
    state.items.push(...page.items);
    state.cursor = page.cursor;
  });
}

async function reload(keepSelection: boolean): Promise<void> {
  const selectedKey = keepSelection ? state.items[state.selected]?.key : undefined;
  const page = await api.worklist(state.filter, null);
  state.items = [...page.items];
  state.cursor = page.cursor;
  const index = selectedKey === undefined ? -1 : state.items.findIndex((item) => item.key === selectedKey);
  state.selected = index >= 0 ? index : state.items.length > 0 ? 0 : -1;
}

function renderKeys(): void {
  const labels = state.session?.labels ?? [];
  const parts: [string, string][] = [...labels.flatMap((label): [string, string][] => { const key = keyFor(labels, label); return key === null ? [] : [[key, label]]; }), ['J / ↓', 'next'], ['K / ↑', 'previous'], ['U', 'undo'], ['T', 'add to training'], ['E', 'note'], ['Esc', 'leave the note']];
  byId('keys').replaceChildren(...parts.flatMap(([key, what]) => [h('kbd', { text: key }), document.createTextNode(` ${what}   `)]));
}

function showTab(tab: 'worklist' | 'model'): void {
  byId('worklist-view').hidden = tab !== 'worklist';
  byId('model-view').hidden = tab !== 'model';
  for (const name of ['worklist', 'model'] as const) {
    const button = byId(`tab-${name}`);
    button.classList.toggle('active', name === tab);
    button.setAttribute('aria-pressed', String(name === tab));
  }
  if (tab === 'model') {
    const container = byId('model-view');
    container.replaceChildren(h('p', { text: 'Loading…' }));
    api.model().then(
      (view) => {
        renderModel(container, view);
      },
      (error: unknown) => {
        container.replaceChildren(h('p', { className: 'message error', text: error instanceof Error ? error.message : String(error) }));
      },
    );
  }
}

function onKey(event: KeyboardEvent): void {
  const target = event.target;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
  if (typing) {
    if (event.key === 'Escape') (target as HTMLElement).blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || byId('worklist-view').hidden) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const label = labelKeys(state.session?.labels ?? []).get(key);
  let handled = true;
  if (label !== undefined) void decide(label);
  else if (key === 'j' || key === 'ArrowDown') select(state.selected + 1);
  else if (key === 'k' || key === 'ArrowUp') select(state.selected - 1);
  else if (key === 'u') void undoDecision();
  else if (key === 't') void addToTraining();
  else if (key === 'e') document.getElementById('note')?.focus();
  else handled = false;
  if (handled) event.preventDefault();
}

async function start(): Promise<void> {
  const session = await api.session();
  state.session = session;
  byId('who').textContent = `Reviewer: ${session.reviewer} · ${session.target}${session.threshold === null ? '' : ` · review threshold ${session.threshold}%`}`;
  const labelSelect = byId('filters', HTMLFormElement).elements.namedItem('label');
  if (labelSelect instanceof HTMLSelectElement) for (const label of session.labels) labelSelect.append(h('option', { text: label }));
  renderKeys();
  document.addEventListener('keydown', onKey);
  byId('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    state.filter = filterFromForm();
    void act(() => reload(false));
  });
  byId('more').addEventListener('click', () => void loadMore());
  byId('add-all').addEventListener('click', () => void addAllToTraining());
  byId('tab-worklist').addEventListener('click', () => {
    showTab('worklist');
  });
  byId('tab-model').addEventListener('click', () => {
    showTab('model');
  });
  await act(() => reload(false));
}

document.addEventListener('DOMContentLoaded', () => {
  start().catch((error: unknown) => {
    byId('detail').replaceChildren(h('p', { className: 'message error', text: `The page could not start: ${error instanceof Error ? error.message : String(error)}` }));
  });
});
