// Overview: per queue, jobs by status and the oldest queued job's age; throughput and latency charts. Everything
// here is summed by the server (GET /v1/stats): the browser draws at most a few hundred points per refresh.

import { api } from './api.js';
import { h } from './dom.js';
import { needsAdmin } from './key.js';
import { LineChart } from './chart.js';
import * as format from './format.js';

const STATUSES = ['scheduled', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const ALL = '';

export function overview(root, context) {
  let shown = ALL;
  const body = h('tbody');
  const foot = h('tfoot');
  const picker = h('select', { id: 'series-queue', onchange: () => { shown = picker.value; draw(); } },
    h('option', { value: ALL }, 'all queues'));
  const throughput = new LineChart('Jobs ended per second', [
    { key: 'perSecond', label: 'ended/s', color: '#1a5fb4' },
    { key: 'failedPerSecond', label: 'failed/s', color: '#c01c28' },
  ], format.rate);
  const latency = new LineChart('Latency, due to recorded end', [
    { key: 'p50Ms', label: 'p50', color: '#26a269' },
    { key: 'p95Ms', label: 'p95', color: '#e5a50a' },
    { key: 'p99Ms', label: 'p99', color: '#c01c28' },
  ], format.millis);
  throughput.element.id = 'throughput';
  latency.element.id = 'latency';
  const note = h('p', { class: 'muted' });
  root.append(
    h('h1', {}, 'Overview'),
    h('table', { id: 'queues' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Queue'), STATUSES.map(s => h('th', { class: 'num' }, s)),
        h('th', { class: 'num' }, 'oldest queued'), h('th', { class: 'num' }, 'ended/s (1 min)'))),
      body, foot),
    h('h2', {}, 'Throughput and latency ', picker),
    h('div', { class: 'charts' }, throughput.element, latency.element),
    note);

  let stats = null;

  /**
   * A queue's series: none when no job of it ended in the window. (Read as a plain property, a queue named
   * "constructor" with no end read Object's constructor, and the overview failed at every refresh.)
   */
  function endedIn(queue) {
    return Object.hasOwn(stats.endedByQueue, queue) ? stats.endedByQueue[queue] : [];
  }

  function draw() {
    const series = shown === ALL ? stats.ended : endedIn(shown);
    const points = series.map(b => ({ ...b, failedPerSecond: b.failed / stats.bucketSeconds }));
    throughput.update(points);
    latency.update(points);
  }

  /** Jobs ended per second over the last minute, from the series' last buckets. */
  function lastMinute(series) {
    if (!series || !series.length) {
      return 0;
    }
    const buckets = Math.max(1, Math.round(60 / stats.bucketSeconds));
    const recent = series.slice(-buckets);
    return recent.reduce((sum, b) => sum + b.ended, 0) / (recent.length * stats.bucketSeconds);
  }

  function countCell(queue, status, n) {
    const link = h('a', { href: `#/jobs?queue=${encodeURIComponent(queue)}&status=${status.toUpperCase()}` },
      format.count(n));
    return h('td', { class: 'num', dataset: { status } }, n > 0 ? link : format.count(n));
  }

  function render() {
    const rows = stats.queues.map(q => h('tr', { dataset: { queue: q.name } },
      h('td', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}` }, q.name)),
      STATUSES.map(s => countCell(q.name, s, q[s])),
      h('td', { class: 'num' }, q.queued > 0 ? format.seconds(q.oldestQueuedSeconds) : '–'),
      h('td', { class: 'num' }, format.rate(lastMinute(endedIn(q.name))))));
    const drawn = [...body.children];
    if (rows.length && drawn.length === rows.length
      && rows.every((row, i) => drawn[i].dataset.queue === row.dataset.queue)) {
      // the same queues as before: only the cells that changed are replaced, so that a queue's name selected (to
      // copy it) stays selected; drawn anew every 2 s, the table lost the selection at each refresh
      rows.forEach((row, i) => [...row.children].forEach((cell, j) => {
        const old = drawn[i].children[j];
        if (old.outerHTML !== cell.outerHTML) {
          old.replaceWith(cell);
        }
      }));
    } else {
      body.replaceChildren(...(rows.length ? rows
        : [h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No jobs yet.'))]));
    }
    if (stats.queues.length > 1) {
      const sum = s => stats.queues.reduce((total, q) => total + q[s], 0);
      const oldest = Math.max(0, ...stats.queues.filter(q => q.queued > 0).map(q => q.oldestQueuedSeconds));
      foot.replaceChildren(h('tr', { class: 'total' }, h('td', {}, 'all'),
        STATUSES.map(s => h('td', { class: 'num' }, format.count(sum(s)))),
        h('td', { class: 'num' }, sum('queued') > 0 ? format.seconds(oldest) : '–'),
        h('td', { class: 'num' }, format.rate(lastMinute(stats.ended)))));
    } else {
      foot.replaceChildren();
    }
    const names = Object.keys(stats.endedByQueue).sort();
    const options = [ALL, ...names];
    if (picker.options.length !== options.length || options.some((name, i) => picker.options[i].value !== name)) {
      picker.replaceChildren(...options.map(name => h('option', { value: name }, name === ALL ? 'all queues' : name)));
      picker.value = options.includes(shown) ? shown : ALL;
      shown = picker.value;
    }
    note.textContent = `Points of ${stats.bucketSeconds} s; latency is from when a job was due to when its end was `
      + 'recorded (queue wait, run and report). Series start when the api starts.';
    draw();
  }

  const refused = needsAdmin(root, context, 'Overview');
  context.poll(async () => {
    try {
      stats = await api('v1/stats', { signal: context.signal });
    } catch (error) {
      refused(error);
      return;
    }
    render();
  });
}
