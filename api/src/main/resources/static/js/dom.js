// Builds DOM nodes. Text always goes in as text (textContent, text nodes), never as HTML: jobs' payloads, results,
// errors, types and worker ids are whatever clients and workers sent.

/**
 * The bidirectional formatting characters (embeddings, overrides, isolates: U+202A to U+202E, U+2066 to U+2069),
 * which are invisible and reorder the text after them: "invoice\u202etxt.exe" shows as "invoiceexe.txt".
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text as it is, but for its bidirectional formatting characters, written as JSON writes an escape ("\u202e"), so
 * that a value shows in the order it holds its characters and a payload shown as JSON is still valid JSON.
 */
export function visible(text) {
  return text.replace(BIDI_CONTROLS, c => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * h('a', {href: '#/x', class: 'y', dataset: {id: 1}, style: {color: 'red'}, onclick: f}, 'text', child) makes an
 * element. Children may be strings (added as text), nodes, arrays of them, or null (skipped).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'value') {
      element.value = value;
    } else if (name === 'style') {
      // through the element's style object: the dashboard's Content-Security-Policy refuses style attributes
      Object.assign(element.style, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(element, child);
    } else if (child instanceof Node) {
      element.appendChild(child);
    } else {
      element.appendChild(document.createTextNode(visible(String(child))));
    }
  }
}

/** An SVG element (charts). */
export function svg(tag, attributes = {}) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  return element;
}

/** A status badge. */
export function badge(status) {
  const known = ['SCHEDULED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
  return h('span', { class: `badge ${known.includes(status) ? status : ''}` }, status);
}
