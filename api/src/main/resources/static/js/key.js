// The API key: a prompt that appears when the api answers 401 (it has keys configured), and "Forget key". An api
// without keys never answers 401, so nothing of this shows there. The key never goes into the page as markup.

import { apiKey, auth, forgetKey, useKey } from './api.js';
import { h } from './dom.js';

/**
 * Builds the prompt in `prompt` and the "Forget key" button `forget`; calls `changed` after the key changes (the
 * page then shows its view again, with the new key).
 */
export function keyControls(prompt, forget, changed) {
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'cvk_…', size: 52 });
  const message = h('p', { id: 'key-message', class: 'muted' });
  const form = h('form', { id: 'key-form', onsubmit: event => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      return;
    }
    useKey(key);
    input.value = '';
    prompt.hidden = true;
    update();
    changed();
  } }, h('label', {}, 'API key', input), h('button', { type: 'submit', id: 'use-key' }, 'Use key'));
  prompt.replaceChildren(h('strong', {}, 'This api needs an API key.'), form, message);
  forget.addEventListener('click', () => {
    forgetKey();
    update();
    changed();
  });

  function update() {
    forget.hidden = !apiKey();
  }

  auth.addEventListener('unauthorized', event => {
    const sent = event.detail.key;
    if (sent !== apiKey()) {
      return; // an answer to a request sent before the key changed
    }
    if (sent) {
      forgetKey();
      update();
      message.textContent = 'The api refused that key (unknown or revoked). Enter another.';
    } else if (prompt.hidden) {
      message.textContent = 'The dashboard keeps it in this browser tab only, until the tab is closed.';
    }
    if (prompt.hidden) {
      prompt.hidden = false;
      input.focus();
    }
  });
  update();
}

/**
 * For a view that needs the admin scope: a handler of its refresh's errors that, on 403, says so in place of the
 * view and stops its refreshing. Other errors are thrown on.
 */
export function needsAdmin(root, context, title) {
  return error => {
    if (error.status !== 403) {
      throw error;
    }
    context.stop();
    root.replaceChildren(h('h1', {}, title),
      h('p', { id: 'no-admin', class: 'message error' },
        `This API key has no admin scope: the ${title.toLowerCase()} page is for admin keys.`),
      h('p', {}, 'A key with jobs:read sees its own tenant\'s jobs under ', h('a', { href: '#/jobs' }, 'Jobs'), '.'));
  };
}
