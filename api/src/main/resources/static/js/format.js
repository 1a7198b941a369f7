// Numbers and times as people read them.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function count(n) {
  return n === null || n === undefined ? '' : integer.format(n);
}

export function rate(n) {
  return n === null || n === undefined ? '' : n >= 100 ? integer.format(n) : decimal.format(n);
}

/** Seconds as "0.4 s", "3 min 20 s", "2 h 5 min". */
export function seconds(s) {
  if (s === null || s === undefined) {
    return '';
  }
  if (s < 10) {
    return `${decimal.format(s)} s`;
  }
  if (s < 60) {
    return `${integer.format(s)} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Milliseconds as "12 ms" or "1.2 s". */
export function millis(ms) {
  if (ms === null || ms === undefined) {
    return '–';
  }
  return ms < 1000 ? `${integer.format(ms)} ms` : seconds(ms / 1000);
}

/** An ISO instant as local "2026-12-01 11:40:02.123". */
export function instant(iso) {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return String(iso);
  }
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} `
    + `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** How long ago an ISO instant was, e.g. "3 s ago". */
export function ago(iso, now = Date.now()) {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? '' : `${seconds(Math.max(0, (now - then) / 1000))} ago`;
}
