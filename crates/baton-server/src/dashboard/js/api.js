// Talking to the JSON API: the token travels in the HttpOnly cookie set by `/?token=…`, changes
// are sent as JSON (the server refuses anything else), and errors carry the CLI's own message.
import { h, toast, $ } from './ui.js';
import { state } from './state.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The token travels in an HttpOnly cookie set by `/?token=…`; mutations send JSON only.
export async function api(method, path, body) {
  const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (method !== 'GET') {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (_) { /* an empty or non-JSON answer */ }
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText}`;
    if (response.status === 401) showLocked(message);
    throw new ApiError(response.status, message);
  }
  return data;
}

// Runs a change, reporting its error (the CLI's own message) in the toast.
export async function act(button, fn, success) {
  if (button) button.disabled = true;
  try {
    const result = await fn();
    if (success) toast(typeof success === 'function' ? success(result) : success);
    return result;
  } catch (e) {
    toast(e.message, true);
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}

export function showLocked(message) {
  state.locked = true;
  $('#main').replaceChildren(h('section', { class: 'card locked' },
    h('h1', { text: 'This dashboard needs its token' }),
    h('p', { text: 'Open the address that `baton serve` printed: it ends in ?token=… and lets this browser in.' }),
    h('p', { class: 'muted', text: message })));
}
