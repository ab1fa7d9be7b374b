// The list's filters: status (idle included), harness (any job of the assignment ran on it)
// and a text search over id, north star, reason and branch. Their values live in
// `state.filters`, so they survive updates and a visit to another page.
import { h } from './ui.js';
import { state, isIdle, currentJob } from './state.js';

const STATUSES = ['active', 'idle', 'deferred', 'blocked', 'complete', 'cancelled'];

export function filterBar(onChange) {
  const f = state.filters;
  const text = h('input', { type: 'search', name: 'search', value: f.text, placeholder: 'Search id, north star, reason, branch', 'aria-label': 'search assignments' });
  const status = h('select', { name: 'status', 'aria-label': 'status' }, h('option', { value: '', text: 'any status' }),
    STATUSES.map((v) => h('option', { value: v, text: v })));
  const harness = h('select', { name: 'harness', 'aria-label': 'harness' }, h('option', { value: '', text: 'any harness' }),
    ((state.info && state.info.harnesses) || []).map((v) => h('option', { value: v, text: v })));
  status.value = f.status;
  harness.value = f.harness;
  const count = h('span', { class: 'muted filter-count' });
  const update = () => {
    f.text = text.value;
    f.status = status.value;
    f.harness = harness.value;
    onChange();
  };
  text.addEventListener('input', update);
  status.addEventListener('change', update);
  harness.addEventListener('change', update);
  return { el: h('div', { class: 'filters' }, text, status, harness, count), count };
}

export function filtering() {
  const f = state.filters;
  return Boolean(f.text.trim() || f.status || f.harness);
}

export function matches(a) {
  const f = state.filters;
  if (f.status === 'idle' ? !isIdle(a) : f.status && a.status !== f.status) return false;
  if (f.harness) {
    const current = currentJob(a.id);
    const ran = state.jobs.some((j) => j.assignment_id === a.id && j.harness === f.harness);
    if (!ran && !(current && current.harness === f.harness)) return false;
  }
  const needle = f.text.trim().toLowerCase();
  if (!needle) return true;
  return [a.id, a.north_star, a.reason, a.branch].some((v) => v && String(v).toLowerCase().includes(needle));
}
