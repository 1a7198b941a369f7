// Every request of the dashboard goes through api(): relative /v1 URLs (so the dashboard works behind a path
// prefix), JSON in and out, problem documents turned into errors. The API key, when the user gave one, is added here
// and nowhere else. It is kept in sessionStorage: this tab only, gone when the tab closes (never localStorage).

const KEY = 'conveyor.apiKey';

/** The API key the user gave in this tab, or null. */
export function apiKey() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Sends `key` on every request from now on. */
export function useKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

/**
 * Fires "unauthorized" when the api answers 401 (it has keys configured, and the request had no valid one); the
 * event's detail.key is the key the request was sent with, or null.
 */
export const auth = new EventTarget();

/** A refusal of the api: its status and the problem document's detail. */
export class ApiError extends Error {
  constructor(status, message, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls the api: `path` is relative to the dashboard (e.g. "v1/jobs"), `body` is sent as JSON. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const key = apiKey();
  if (key) {
    headers.Authorization = `Bearer ${key}`;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, {
    method, headers, signal, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (response.status === 401) {
    auth.dispatchEvent(new CustomEvent('unauthorized', { detail: { key } }));
  }
  if (!response.ok) {
    const detail = json && (json.detail || json.title);
    throw new ApiError(response.status, `${response.status} ${detail || response.statusText || 'error'}`, json);
  }
  return json;
}

/** A query string of the non-empty values, e.g. query({status: 'FAILED', type: ''}) is "?status=FAILED". */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') {
      search.set(key, value);
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
