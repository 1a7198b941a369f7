// The dashboard: a hash router over three views, each refreshing itself while it is shown.

import { overview } from './overview.js';
import { jobs } from './jobs.js';
import { job } from './job.js';
import { workers } from './workers.js';
import { keyControls } from './key.js';
import { visible } from './dom.js';
import { api } from './api.js';

const view = document.getElementById('view');
const live = document.getElementById('live');
let current = null;
/** How long a view waits after one refresh before the next: the api's setting, 2 s until it has answered. */
let refreshMillis = 2000;

/**
 * What a view gets: where to draw, the route's parameters, and a poller that calls `refresh` now and then
 * `refreshMillis` (times `share`) after each call has finished (never two at once), pauses while the page is hidden,
 * and stops when the view is left.
 */
class ViewContext {
  constructor(params) {
    this.params = params;
    this.stopped = false;
    this.timer = null;
    this.controller = new AbortController();
  }

  get signal() {
    return this.controller.signal;
  }

  poll(refresh, share = 1) {
    let running = false;
    const run = async () => {
      if (this.stopped || running) {
        return;
      }
      clearTimeout(this.timer);
      running = true;
      if (!document.hidden) {
        try {
          await refresh();
          if (this.stopped) {
            return;
          }
          status(`updated ${new Date().toLocaleTimeString()}`, false);
        } catch (error) {
          if (this.stopped || error.name === 'AbortError') {
            return;
          }
          if (error.status === 401) {
            // the key prompt is shown; the view is drawn again once a key is given
            status('this api needs an API key', true);
            return;
          }
          status(error.status ? `the api answered ${error.message}` : `cannot reach the api: ${error.message}`, true);
        }
      }
      running = false;
      if (!this.stopped) {
        this.timer = setTimeout(run, refreshMillis * share);
      }
    };
    this.refreshNow = run;
    run();
  }

  /** Refreshes at once (after an action), unless a refresh is under way; poll() sets what it runs. */
  refreshNow() {
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller.abort();
  }
}

function status(text, error) {
  live.textContent = visible(text);
  live.classList.toggle('error', error);
}

/** A path segment decoded; as it is when it holds no valid escape (decodeURIComponent threw: the page stayed blank). */
function decoded(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?');
  const params = Object.fromEntries(new URLSearchParams(search));
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'jobs' && parts[1]) {
    return { name: 'jobs', render: job, params: { ...params, id: decoded(parts[1]) } };
  }
  if (parts[0] === 'jobs') {
    return { name: 'jobs', render: jobs, params };
  }
  if (parts[0] === 'workers') {
    return { name: 'workers', render: workers, params };
  }
  return { name: 'overview', render: overview, params };
}

function show() {
  if (current) {
    current.stop();
  }
  const { name, render, params } = route();
  for (const link of document.querySelectorAll('nav a')) {
    link.classList.toggle('active', link.dataset.view === name);
  }
  current = new ViewContext(params);
  view.replaceChildren();
  render(view, current);
}

/**
 * Reads the api's settings (conveyor.api.dashboard.refresh) once; the first refresh does not wait for them. Without
 * an answer (an api older than the setting, or one out of reach just now) the views refresh every 2 s.
 */
async function settings() {
  try {
    const answer = await api('dashboard.json');
    if (answer && Number.isFinite(answer.refreshMillis) && answer.refreshMillis >= 500) {
      refreshMillis = answer.refreshMillis;
    }
  } catch {
    // the default stands
  }
}

settings();
keyControls(document.getElementById('key-prompt'), document.getElementById('forget-key'), show);
window.addEventListener('hashchange', show);
show();
