// Workers: the live list (GET /v1/workers), held in the api's memory.

import { api } from './api.js';
import { h } from './dom.js';
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

  const refused = needsAdmin(root, context, 'Workers');
  context.poll(2000, async () => {
    let list;
    try {
      list = (await api('v1/workers', { signal: context.signal })).workers;
    } catch (error) {
      refused(error);
      return;
    }
    const now = Date.now();
    body.replaceChildren(...(list.length ? list.map(w => h('tr', { dataset: { worker: w.id } },
      h('td', { class: 'mono' }, w.id), h('td', { class: 'wrap' }, w.queues.join(', ')),
      h('td', { class: 'wrap' }, w.types.join(', ')), h('td', { class: 'num' }, format.count(w.inFlight)),
      h('td', { class: 'num' }, format.count(w.completed)), h('td', {}, format.instant(w.startedAt)),
      h('td', {}, format.ago(w.lastSeenAt, now))))
      : [h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No worker heard from.'))]));
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
