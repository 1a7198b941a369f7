// Workers: the live list (GET /v1/workers), held in the api's memory.

import { api } from './api.js';
import { h, visible } from './dom.js';
import { needsAdmin } from './key.js';
import * as format from './format.js';

export function workers(root, context) {
  const body = h('tbody');
  const foot = h('tfoot');
  root.append(h('h1', {}, 'Workers'),
    h('table', { id: 'workers' }, h('thead', {}, h('tr', {},
      h('th', {}, 'Worker'), h('th', {}, 'Queues'), h('th', {}, 'Types'), h('th', { class: 'num' }, 'In flight'),
      h('th', { class: 'num' }, 'Completed'), h('th', {}, 'Started'), h('th', {}, 'Last seen'))), body, foot),
    h('p', { class: 'muted' }, 'Workers heard from within the api\'s worker-ttl (30 s by default). Completed counts '
      + 'attempts since the worker started.'));

  /** What a row shows of a worker, cell by cell. */
  function cells(w, now) {
    return [w.id, w.queues.join(', '), w.types.join(', '), format.count(w.inFlight), format.count(w.completed),
      format.instant(w.startedAt), format.ago(w.lastSeenAt, now)];
  }

  const CLASSES = ['mono', 'wrap', 'wrap', 'num', 'num', '', ''];

  /**
   * Shows the workers. When the same workers are listed as before, only the cells whose text changed are written (the
   * last-seen column, mostly): drawn anew every 2 s, the page lost what the user had selected in it (a worker's id,
   * to look for in its logs) at each refresh.
   */
  function draw(list, now) {
    const rows = [...body.children];
    if (list.length && rows.length === list.length && list.every((w, i) => rows[i].dataset.worker === w.id)) {
      list.forEach((w, i) => cells(w, now).forEach((text, j) => {
        const cell = rows[i].children[j];
        if (cell.textContent !== visible(text)) {
          cell.textContent = visible(text);
        }
      }));
      return;
    }
    body.replaceChildren(...(list.length ? list.map(w => h('tr', { dataset: { worker: w.id } },
      cells(w, now).map((text, j) => h('td', { class: CLASSES[j] || null }, text))))
      : [h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No worker heard from.'))]));
  }

  const refused = needsAdmin(root, context, 'Workers');
  context.poll(async () => {
    let list;
    try {
      list = (await api('v1/workers', { signal: context.signal })).workers;
    } catch (error) {
      refused(error);
      return;
    }
    draw(list, Date.now());
    if (list.length > 1) {
      const sum = field => list.reduce((total, w) => total + w[field], 0);
      foot.replaceChildren(h('tr', { class: 'total' }, h('td', {}, `${list.length} workers`), h('td'), h('td'),
        h('td', { class: 'num' }, format.count(sum('inFlight'))), h('td', { class: 'num' }, format.count(sum('completed'))),
        h('td'), h('td')));
    } else {
      foot.replaceChildren();
    }
  });
}
