// The namespace's totals on the list page: spend today and this week (in the browser's time
// zone: "today" is the reader's day), jobs run, failures by kind, and the namespace's cost per
// day over the last two weeks. Read from the newest jobs (`/api/jobs?limit=`), at most once
// every few seconds however often the namespace changes.
import { h, money } from './ui.js';
import { api } from './api.js';
import { state } from './state.js';
import { costChart } from './charts.js';

// Jobs read for the totals; older ones are left out (and the card says so).
export const TOTALS_JOBS = 1000;
const MIN_INTERVAL = 3000;
const DAY = 86400000;

function startOfDay(t) {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// Monday 00:00 of the week holding `t`.
function startOfWeek(t) {
  const day = startOfDay(t);
  const weekday = (new Date(day).getDay() + 6) % 7;
  return day - weekday * DAY;
}

// When a job's cost was spent: when it ended (or started, while it runs).
const spentAt = (j) => Date.parse(j.finished_at || j.started_at || j.created_at);

export function computeTotals(jobs, now = Date.now()) {
  const today = startOfDay(now);
  const week = startOfWeek(now);
  const t = { today: 0, week: 0, run: 0, failures: {}, days: [] };
  const perDay = new Map();
  for (const j of jobs) {
    if (j.started_at) t.run += 1;
    if (j.status === 'failed') {
      const kind = j.error_kind || 'unknown';
      t.failures[kind] = (t.failures[kind] || 0) + 1;
    }
    if (j.cost_usd == null) continue;
    const at = spentAt(j);
    const cost = Number(j.cost_usd);
    if (at >= today) t.today += cost;
    if (at >= week) t.week += cost;
    const day = startOfDay(at);
    if (day > today - 14 * DAY) perDay.set(day, (perDay.get(day) || 0) + cost);
  }
  t.days = [...perDay.entries()].map(([day, cost]) => ({ at: day, cost, label: new Date(day).toLocaleDateString() }));
  return t;
}

export function totalsCard() {
  const facts = h('div', { class: 'facts totals-facts' });
  const chart = h('div', { class: 'chart-box ns-cost' });
  const note = h('p', { class: 'muted small', hidden: true });
  const el = h('section', { class: 'card totals-card' }, facts, h('h3', { text: 'Cost per day, last two weeks' }), chart, note);
  let last = 0;
  let timer = null;
  let busy = false;

  async function load() {
    if (busy) return;
    busy = true;
    last = Date.now();
    try {
      const jobs = await api('GET', `/api/jobs?limit=${TOTALS_JOBS}`);
      state.jobs = jobs;
      render(jobs);
    } catch (_) { /* the toast of the failing view, if any, says why */ } finally {
      busy = false;
    }
  }

  function render(jobs) {
    const t = computeTotals(jobs);
    const kinds = Object.entries(t.failures).sort((a, b) => b[1] - a[1]);
    facts.replaceChildren(
      h('span', { dataset: { total: 'today' } }, 'spent today ', h('b', { text: money(t.today) })),
      h('span', { dataset: { total: 'week' } }, 'this week ', h('b', { text: money(t.week) })),
      h('span', { dataset: { total: 'run' } }, 'jobs run ', h('b', { text: String(t.run) })),
      h('span', { dataset: { total: 'failures' } }, 'failures ',
        h('b', { text: kinds.length ? kinds.map(([k, n]) => `${k} ${n}`).join(', ') : 'none' })));
    const now = Date.now();
    chart.replaceChildren(costChart(t.days, { title: 'the namespace’s cost per day', first: startOfDay(now) - 13 * DAY, last: startOfDay(now) }));
    note.hidden = jobs.length < TOTALS_JOBS;
    note.textContent = `From the newest ${TOTALS_JOBS} jobs; older ones are not counted.`;
  }

  return {
    el,
    // Called on every namespace change: reads at once, or once the interval has passed.
    refresh() {
      const wait = last + MIN_INTERVAL - Date.now();
      if (wait <= 0) { load(); return; }
      if (!timer) timer = setTimeout(() => { timer = null; load(); }, wait);
    },
    close() { clearTimeout(timer); },
  };
}
