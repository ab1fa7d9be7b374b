// The baton dashboard: a small hash-routed page over the JSON API.
//
// - `#/`          assignments (list.js)
// - `#/a/<id>`    one assignment (assignment.js)
// - `#/j/<id>`    one job and its live transcript (job.js)
//
// Live updates come from server-sent events (`/api/events` for the namespace, one stream per open
// job page), never from polling.
import { h, $, tick } from './ui.js';
import { api } from './api.js';
import { state } from './state.js';
import { listView } from './list.js';
import { assignmentView } from './assignment.js';
import { jobView } from './job.js';

function route() {
  if (state.locked) return;
  if (state.view && state.view.close) state.view.close();
  const hash = location.hash || '#/';
  const match = hash.match(/^#\/([aj])\/([A-Za-z0-9_-]+)/);
  const main = $('#main');
  if (match && match[1] === 'a') state.view = assignmentView(main, match[2]);
  else if (match && match[1] === 'j') state.view = jobView(main, match[2]);
  else state.view = listView(main);
  window.scrollTo(0, 0);
}

function connectEvents() {
  const live = $('#live');
  const source = new EventSource('/api/events');
  source.onopen = () => { live.classList.add('on'); live.title = 'live: updates arrive as they happen'; };
  source.onerror = () => { live.classList.remove('on'); live.title = 'reconnecting…'; };
  source.addEventListener('snapshot', (e) => {
    state.snapshot = JSON.parse(e.data);
    renderHeader();
    refreshRunners();
    if (state.view && state.view.refresh) state.view.refresh();
  });
}

function renderHeader() {
  const q = state.snapshot && state.snapshot.queue;
  if (!q) return;
  const n = (map, k) => (map && map[k]) || 0;
  $('#counts').replaceChildren(
    h('span', {}, h('b', { text: n(q.assignments, 'active') }), ' active'),
    h('span', {}, h('b', { text: n(q.assignments, 'blocked') }), ' blocked'),
    h('span', {}, h('b', { text: n(q.jobs, 'running') }), ' running'),
    h('span', {}, h('b', { text: n(q.jobs, 'pending') }), ' pending'));
}

let runnersPending = false;
async function refreshRunners() {
  if (runnersPending) return;
  runnersPending = true;
  try {
    const runners = await api('GET', '/api/runners');
    const live = runners.filter((r) => !r.lost);
    const el = $('#runners');
    el.className = live.length ? 'runners' : 'runners none';
    // Each runner's host: with several machines, which of them are serving the queue.
    const hosts = [...new Set(live.map((r) => r.host))].sort().join(', ');
    el.textContent = live.length ? `${live.length} runner${live.length > 1 ? 's' : ''} on ${hosts}` : 'no runner: start `baton run`';
  } catch (_) { /* shown by the toast of the failing view, if any */ } finally {
    runnersPending = false;
  }
}

async function start() {
  try {
    state.info = await api('GET', '/api/info');
  } catch (e) {
    if (e.status !== 401) $('#main').replaceChildren(h('p', { class: 'result error', text: e.message }));
    return;
  }
  $('#namespace').textContent = state.info.namespace;
  document.title = `baton · ${state.info.namespace}`;
  window.addEventListener('hashchange', route);
  route();
  connectEvents();
  setInterval(tick, 1000);
}

start();
