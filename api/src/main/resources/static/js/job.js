// One job (GET /v1/jobs/{id}): everything it holds, with cancel and retry.

import { api } from './api.js';
import { h, badge, visible } from './dom.js';
import * as format from './format.js';

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** JSON as indented text (shown with textContent: a payload is whatever its client sent), bidi controls escaped. */
function json(value) {
  return value === null || value === undefined ? '' : visible(JSON.stringify(value, null, 2));
}

export function job(root, context) {
  const id = context.params.id;
  const path = `v1/jobs/${encodeURIComponent(id)}`;
  const status = h('span', { id: 'job-status' });
  const cancel = h('button', { id: 'cancel', class: 'danger', disabled: true }, 'Cancel');
  const retry = h('button', { id: 'retry', disabled: true }, 'Retry');
  const message = h('div', { id: 'message', role: 'status' });
  const fields = h('dl', { class: 'fields', id: 'fields' });
  const progress = h('div', { id: 'progress' });
  const payload = h('pre', { id: 'payload' });
  const result = h('pre', { id: 'result' });
  const error = h('div', { id: 'error' });

  root.append(
    h('p', {}, h('a', { href: '#/jobs' }, '‹ Jobs')),
    h('div', { class: 'detail-head' }, h('h1', { class: 'mono' }, id), status, cancel, retry),
    message,
    h('div', { class: 'cols' },
      h('section', {}, h('h2', {}, 'Job'), fields, progress),
      h('section', {}, h('h2', {}, 'Payload'), payload, h('h2', {}, 'Result'), result, h('h2', {}, 'Error'), error)));

  /**
   * The job as last downloaded whole. A refresh asks for its summary (no payload or result: those took up to 2 MiB
   * every 1.5 s) and downloads it whole again only when the summary says it changed: every change of a job moves its
   * updatedAt, and its payload never changes.
   */
  let whole = null;

  async function act(action, button) {
    button.disabled = true;
    try {
      const changed = await api(`${path}/${action}`, { method: 'POST' });
      whole = changed;
      show(changed);
      message.className = 'message ok';
      message.textContent = action === 'retry' ? `Retried: the job is ${changed.status} again.`
        : `Cancel asked: the job is ${changed.status}.`;
    } catch (failure) {
      message.className = 'message error';
      message.textContent = visible(`${action} refused: ${failure.message}`);
    }
    context.refreshNow();
  }
  cancel.addEventListener('click', () => act('cancel', cancel));
  retry.addEventListener('click', () => act('retry', retry));

  function field(name, value) {
    return [h('dt', {}, name), h('dd', { dataset: { field: name } }, value === null || value === undefined ? '' : value)];
  }

  /** The job last drawn, as JSON: a refresh that finds it unchanged leaves the page as it is. */
  let drawn = null;

  function show(job) {
    cancel.disabled = TERMINAL.includes(job.status);
    retry.disabled = !(job.status === 'FAILED' || job.status === 'CANCELLED');
    // Drawn anew every 1.5 s, the page lost what the user had selected in it (to copy an error, say) at each refresh.
    const text = JSON.stringify(job);
    if (text === drawn) {
      return;
    }
    drawn = text;
    status.replaceChildren(badge(job.status));
    status.dataset.status = job.status;
    fields.replaceChildren(...[
      field('type', job.type), field('queue', job.queue),
      field('attempts', `${job.attempts} of ${job.maxAttempts}`),
      field('timeout', `${job.timeoutSeconds} s`),
      field('worker', job.workerId), field('idempotency key', job.idempotencyKey),
      field('created', format.instant(job.createdAt)), field('run at', format.instant(job.runAt)),
      field('started', format.instant(job.startedAt)), field('finished', format.instant(job.finishedAt)),
      field('updated', format.instant(job.updatedAt)),
    ].flat());
    if (job.progress) {
      const fraction = Number(job.progress.fraction);
      progress.replaceChildren(h('h2', {}, 'Progress'),
        h('progress', { max: 1, value: Number.isFinite(fraction) ? fraction : 0 }), ' ',
        h('span', {}, Number.isFinite(fraction) ? `${Math.round(fraction * 100)} %` : ''), ' ',
        h('span', { class: 'muted' }, job.progress.message || ''));
    } else {
      progress.replaceChildren();
    }
    payload.textContent = json(job.payload);
    result.textContent = job.result === undefined || job.result === null ? '—' : json(job.result);
    error.replaceChildren(...(job.error
      ? [h('dl', { class: 'fields' }, field('code', job.error.code), field('message', job.error.message),
        field('retryable', String(job.error.retryable)))]
      : [h('span', { class: 'muted' }, '—')]));
  }

  // a little more often than the other views (1.5 s by default): one job, watched as it runs
  context.poll(async () => {
    try {
      const summary = await api(`${path}?view=summary`, { signal: context.signal });
      if (whole && summary.updatedAt === whole.updatedAt && summary.status === whole.status
        && summary.attempts === whole.attempts) {
        // in the whole job's order of fields, so that an unchanged job is not drawn anew
        show({ ...whole, ...summary });
        return;
      }
      whole = await api(path, { signal: context.signal });
      show(whole);
    } catch (failure) {
      if (failure.status === 404 || failure.status === 400) {
        message.className = 'message error';
        message.textContent = visible(failure.message);
        return;
      }
      throw failure;
    }
  }, 0.75);
}
