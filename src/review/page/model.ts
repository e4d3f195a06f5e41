import type { ModelView } from '../api-types.js';
import { fraction, h, svg, when } from './dom.js';

function card(title: string, children: readonly (Node | null)[]): HTMLElement {
  return h('section', { className: 'card' }, [h('h2', { text: title }), ...children]);
}

function evaluationCard(view: ModelView): HTMLElement {
  const active = view.active;
  const head = active
    ? h('p', { text: `Active version ${active.versionName ?? '(unnamed)'}, ${active.state ?? 'state unknown'}, F1 ${fraction(active.f1)}, promoted ${when(active.promotedAt)}` })
    : h('p', { text: 'No model has been promoted yet.' });
  const metrics = h('table', { attrs: { 'aria-label': 'Per-label precision and recall' } }, [
    h('thead', {}, [h('tr', {}, ['Label', 'Precision', 'Recall', 'F1', 'Threshold', 'Test images'].map((text) => h('th', { text })))]),
    h('tbody', {}, view.labels.map((m) =>
      h('tr', {}, [
        h('th', { text: m.label }),
        h('td', { text: fraction(m.precision) }),
        h('td', { text: fraction(m.recall) }),
        h('td', { text: fraction(m.f1) }),
        h('td', { text: fraction(m.threshold) }),
        h('td', { text: m.testImages === null ? '–' : String(m.testImages) }),
      ]),
    )),
  ]);
  return card('Evaluation of the active model (its test images)', [head, view.labels.length > 0 ? metrics : null]);
}

function confusionCard(view: ModelView): HTMLElement {
  const confusion = view.confusion;
  if (!confusion) return card('Confusion matrix', [h('p', { text: 'The evaluation has no confusion matrix.' })]);
  const cell = (truth: string, predicted: string): number => confusion.cells.find((c) => c.truth === truth && c.predicted === predicted)?.fraction ?? 0;
  const table = h('table', { attrs: { 'aria-label': 'Confusion matrix' } }, [
    h('thead', {}, [h('tr', {}, [h('th', { text: 'True \\ predicted' }), ...confusion.labels.map((label) => h('th', { text: label }))])]),
    h('tbody', {}, confusion.labels.map((truth) =>
      h('tr', {}, [
        h('th', { text: truth }),
        ...confusion.labels.map((predicted) => {
          const value = cell(truth, predicted);
          return h('td', { className: truth === predicted ? 'cell-high' : '', text: `${(value * 100).toFixed(1)}%` });
        }),
      ]),
    )),
  ]);
  return card('Confusion matrix', [table, h('p', { text: 'Each row: the share of that label\'s test images the model called each label.' })]);
}

function histogramCard(view: ModelView): HTMLElement {
  const { sample, binWidth } = view.histogram;
  // From 30 points below the threshold (or the lowest answer) to 100: where the decisions are.
  const lowestAnswer = view.histogram.bins.find((b) => b.classified + b.needsReview > 0)?.from ?? 0;
  const start = Math.max(0, Math.floor(Math.min(lowestAnswer, (view.threshold ?? 50) - 30) / binWidth) * binWidth);
  const bins = view.histogram.bins.filter((b) => b.from >= start);
  const width = 560;
  const height = 200;
  const left = 36;
  const right = 16;
  const bottom = 24;
  const max = Math.max(1, ...bins.map((b) => b.classified + b.needsReview));
  const plot = width - left - right;
  const barWidth = plot / Math.max(1, bins.length);
  const xOf = (confidence: number): number => left + ((confidence - start) / (100 - start)) * plot;
  const chart = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Confidence histogram' });
  const y = (count: number): number => ((height - bottom - 8) * count) / max;
  bins.forEach((bin, index) => {
    const x = left + index * barWidth;
    const needs = y(bin.needsReview);
    const classified = y(bin.classified);
    chart.append(svg('rect', { class: 'needs', x: x + 1, y: height - bottom - needs, width: barWidth - 2, height: needs }));
    chart.append(svg('rect', { class: 'classified', x: x + 1, y: height - bottom - needs - classified, width: barWidth - 2, height: classified }));
    if (bin.from % 10 === 0) chart.append(svg('text', { x, y: height - 8, 'text-anchor': 'middle' }, String(bin.from)));
  });
  chart.append(svg('text', { x: xOf(100), y: height - 8, 'text-anchor': 'end' }, '100'));
  chart.append(svg('text', { x: 0, y: 14 }, String(max)));
  if (view.threshold !== null) {
    const x = xOf(view.threshold);
    chart.append(svg('line', { class: 'threshold', x1: x, x2: x, y1: 4, y2: height - bottom }));
    chart.append(svg('text', { x: x - 4, y: 14, 'text-anchor': 'end' }, `review threshold ${view.threshold}`));
  }
  const legend = h('p', { className: 'legend' }, [
    h('span', {}, [h('span', { className: 'swatch classified' }), document.createTextNode('at or above the threshold')]),
    h('span', {}, [h('span', { className: 'swatch needs' }), document.createTextNode('needs review')]),
  ]);
  return card(`Confidence of the newest ${sample} answers (top label, ${binWidth}-point bins)`, [sample > 0 ? chart : h('p', { text: 'No answers yet.' }), legend]);
}

function agreementCard(view: ModelView): HTMLElement {
  const { days, reviewed, complete } = view.agreement;
  const width = 560;
  const height = 200;
  const bottom = 24;
  const chart = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Agreement over time' });
  const max = Math.max(1, ...days.map((d) => d.agreed + d.corrected));
  const barWidth = Math.min(40, (width - 40) / Math.max(1, days.length));
  days.forEach((day, index) => {
    const x = 36 + index * barWidth;
    const agreed = ((height - bottom - 8) * day.agreed) / max;
    const corrected = ((height - bottom - 8) * day.corrected) / max;
    chart.append(svg('rect', { class: 'agreed', x: x + 2, y: height - bottom - agreed, width: barWidth - 4, height: agreed }));
    chart.append(svg('rect', { class: 'corrected', x: x + 2, y: height - bottom - agreed - corrected, width: barWidth - 4, height: corrected }));
    chart.append(svg('text', { x: x + 2, y: height - 8 }, day.day.slice(5)));
  });
  chart.append(svg('text', { x: 0, y: 14 }, String(max)));
  const agreedTotal = days.reduce((sum, d) => sum + d.agreed, 0);
  const summary =
    reviewed === 0
      ? 'No decisions in the last 30 days.'
      : `${reviewed} decision(s) in the last 30 days: the reviewer agreed with the model on ${agreedTotal} (${((100 * agreedTotal) / reviewed).toFixed(0)}%)${complete ? '' : ' (the newest ones only)'}.`;
  const legend = h('p', { className: 'legend' }, [
    h('span', {}, [h('span', { className: 'swatch agreed' }), document.createTextNode('agreed')]),
    h('span', {}, [h('span', { className: 'swatch corrected' }), document.createTextNode('corrected')]),
  ]);
  return card('Agreement between model and reviewers, per day', [h('p', { text: summary }), days.length > 0 ? chart : null, legend]);
}

export function renderModel(container: HTMLElement, view: ModelView): void {
  container.replaceChildren(
    evaluationCard(view),
    confusionCard(view),
    histogramCard(view),
    agreementCard(view),
    ...view.notes.map((note) => h('p', { className: 'message', text: note })),
  );
}
