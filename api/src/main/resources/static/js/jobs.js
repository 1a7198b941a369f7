// Jobs: filtered by status, queue and type (GET /v1/jobs), newest first, 50 a page, paged with the api's cursor.

import { api, query } from './api.js';
import { h, badge } from './dom.js';
import * as format from './format.js';

const STATUSES = ['SCHEDULED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const PAGE = 50;
/**
 * Per filter, the pages "Older" led to: by a page's cursor, the cursor of the page before it and the page's number
 * (null once unknown, after a reload). Kept by cursor, not as a stack of the pages gone through, so that "Newer" still
 * goes to the page before the one shown after the browser's Back or Forward button: the stack then named the page
 * shown, and "Newer" did nothing.
 */
const visited = new Map();

/** The route of a list with these filters (and cursor). */
export function jobsHash(filters) {
  return `#/jobs${query(filters)}`;
}

export function jobs(root, context) {
  const filters = { status: context.params.status || '', queue: context.params.queue || '',
    type: context.params.type || '' };
  const after = context.params.after || '';
  const key = JSON.stringify(filters);
  const pages = visited.get(key) || new Map();
  visited.set(key, pages);
  const here = after ? pages.get(after) : { previous: '', page: 1 };

  const status = h('select', { name: 'status' }, h('option', { value: '' }, 'any'),
    STATUSES.map(s => h('option', { value: s }, s)));
  status.value = filters.status;
  // A queue is typed, or picked from the queues that have jobs when the key may read those (GET /v1/stats is for
  // admins: a key with jobs:read alone still filters by queue).
  const queueNames = h('datalist', { id: 'queue-names' });
  const queue = h('input', { name: 'queue', placeholder: 'any', size: 14, value: filters.queue, list: 'queue-names' });
  const type = h('input', { name: 'type', placeholder: 'any', size: 14, value: filters.type });
  const apply = event => {
    event.preventDefault();
    location.hash = jobsHash({ status: status.value, queue: queue.value.trim(), type: type.value.trim() });
  };
  status.addEventListener('change', apply);
  queue.addEventListener('change', apply);
  const form = h('form', { class: 'filters', onsubmit: apply },
    h('label', {}, 'Status', status), h('label', {}, 'Queue', queue, queueNames), h('label', {}, 'Type', type),
    h('button', { type: 'submit' }, 'Filter'));

  const body = h('tbody');
  const newer = h('button', { id: 'newer', disabled: !after }, '‹ Newer');
  const first = h('button', { id: 'first', disabled: !after }, '« Newest');
  const older = h('button', { id: 'older', disabled: true }, 'Older ›');
  const where = h('span', { class: 'muted' },
    !after ? 'newest jobs, live' : here && here.page ? `page ${here.page}` : 'older jobs');
  let next = null;
  newer.addEventListener('click', () => {
    location.hash = jobsHash({ ...filters, after: here ? here.previous : '' });
  });
  first.addEventListener('click', () => {
    location.hash = jobsHash(filters);
  });
  older.addEventListener('click', () => {
    if (next) {
      pages.set(next, { previous: after, page: here && here.page ? here.page + 1 : null });
      location.hash = jobsHash({ ...filters, after: next });
    }
  });

  root.append(h('h1', {}, 'Jobs'), form,
    h('table', { id: 'jobs' }, h('thead', {}, h('tr', {},
      ['Job', 'Type', 'Queue', 'Status', 'Attempts', 'Created', 'Ended', 'Error'].map(t => h('th', {}, t)))), body),
    h('div', { class: 'pager' }, first, newer, older, where));

  // the queues to offer: those that have jobs (one cheap, cached read; refused to a key without admin)
  api('v1/stats', { signal: context.signal }).then(stats => {
    queueNames.replaceChildren(...stats.queues.map(q => h('option', { value: q.name })));
  }).catch(() => {});

  /** What each row shows, as JSON, by row. */
  const drawn = new WeakMap();

  /** What a row shows of a job. */
  function cells(job) {
    return [job.id, job.type, job.queue, job.status, `${job.attempts} / ${job.maxAttempts}`,
      format.instant(job.createdAt), format.instant(job.finishedAt), job.error ? job.error.code : ''];
  }

  function row(job, shown) {
    const [id, type, queue, status, attempts, created, ended, error] = shown;
    const link = h('a', { href: `#/jobs/${encodeURIComponent(job.id)}`, class: 'mono' }, id);
    const tr = h('tr', { dataset: { id: job.id, status: job.status } },
      h('td', {}, link), h('td', {}, type), h('td', {}, queue), h('td', {}, badge(status)),
      h('td', { class: 'num' }, attempts), h('td', {}, created), h('td', {}, ended), h('td', { class: 'mono' }, error));
    drawn.set(tr, JSON.stringify(shown));
    return tr;
  }

  /**
   * Shows the page's jobs. Rows whose job shows the same as before are left as they are, and when the page holds the
   * same jobs as before only the changed rows are replaced: drawn anew every 2 s, the list lost what the user had
   * selected in it (a job's id, to copy) at each refresh.
   */
  function draw(jobs) {
    const rows = [...body.children];
    if (jobs.length && rows.length === jobs.length && jobs.every((job, i) => rows[i].dataset.id === job.id)) {
      jobs.forEach((job, i) => {
        const shown = cells(job);
        if (drawn.get(rows[i]) !== JSON.stringify(shown)) {
          rows[i].replaceWith(row(job, shown));
        }
      });
      return;
    }
    body.replaceChildren(...(jobs.length ? jobs.map(job => row(job, cells(job)))
      : [h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No jobs match.'))]));
  }

  // view=summary: the rows show no payload or result, and whole jobs took up to the api's 8 MiB a page, every 2 s
  context.poll(async () => {
    const page = await api(`v1/jobs${query({ ...filters, limit: PAGE, after, view: 'summary' })}`,
      { signal: context.signal });
    draw(page.jobs);
    next = page.next;
    older.disabled = !next;
  });
}
