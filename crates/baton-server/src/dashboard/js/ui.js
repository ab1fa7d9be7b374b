// Small DOM and formatting helpers shared by every view. `h` is the only way stored text gets
// into the page, and it always goes in as text (textContent / text nodes), never as HTML:
// transcripts and north stars are written by agents and people.

export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid == null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// Dollars: cents from $1 up, and up to 4 decimals below (`$0.0125`, `$0.03`), so small costs
// do not all read as $0.01. Sums are made from the unrounded values before this is called.
export function money(x) {
  if (x == null) return '–';
  const n = Number(x);
  if (Math.abs(n) >= 1) return '$' + n.toFixed(2);
  let text = n.toFixed(4);
  while (text.endsWith('0') && text.length - text.indexOf('.') > 3) text = text.slice(0, -1);
  return '$' + text;
}

// Who ran a job: its runner while it runs, the last attempt's once it has ended.
export function jobRunner(job) {
  if (job.runner) return job.runner;
  const attempts = job.attempt_history || [];
  const last = attempts.length ? attempts[attempts.length - 1] : null;
  return (last && last.runner) || null;
}

export function tokens(job) {
  if (job.tokens_in == null && job.tokens_out == null) return null;
  const n = (x) => Number(x || 0).toLocaleString('en-US');
  return `${n(job.tokens_in)} in / ${n(job.tokens_out)} out tokens`;
}

// A job's cost with its source: never a made-up $0 for usage that has no price.
export function jobCost(job) {
  if (job.cost_source === 'unpriced') return job.cost_usd != null ? `${money(job.cost_usd)} + unpriced usage` : 'unpriced';
  if (job.cost_source === 'estimated') return `${money(job.cost_usd)} (estimated)`;
  return money(job.cost_usd);
}

export function duration(ms) {
  if (ms == null) return '';
  ms = Math.max(0, ms);
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)}m${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3600000)}h${String(Math.floor(ms / 60000) % 60).padStart(2, '0')}m`;
}

export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return new Date(iso).toLocaleDateString();
}

export function clock(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

export function clip(text, n) {
  text = String(text || '');
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

export function pill(status) {
  return h('span', { class: `pill ${status}`, text: status });
}

// A span whose text is the time elapsed since `iso`, refreshed every second by `tick`.
export function since(iso) {
  return h('span', { class: 'since', dataset: { since: iso }, text: duration(Date.now() - Date.parse(iso)) });
}

export function tick() {
  for (const el of document.querySelectorAll('[data-since]')) {
    el.textContent = duration(Date.now() - Date.parse(el.dataset.since));
  }
}

let toastTimer = null;
export function toast(message, isError = false) {
  const el = $('#toast');
  el.textContent = message;
  el.className = isError ? 'toast error' : 'toast';
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, isError ? 9000 : 4000);
}
