// `#/`: what needs a person first (blocked assignments with their reason and a resume button,
// idle ones with nothing queued), the namespace's totals, then the open assignments and the
// finished ones under the filters, and a form to create one. Rebuilt from each pushed snapshot.
import { h, $, money, ago, pill, since } from './ui.js';
import { api, act } from './api.js';
import { state, currentJob, isIdle, IDLE_TEXT } from './state.js';
import { totalsCard } from './totals.js';
import { filterBar, filtering, matches } from './filters.js';
import { waitsForMarker } from './links.js';

function currentCell(a) {
  const job = currentJob(a.id);
  if (!job) {
    if (isIdle(a)) return h('div', { class: 'current idle', text: 'idle: nothing queued' });
    if (a.status === 'deferred') return waitsForMarker(a);
    return h('div', { class: 'current muted', text: '' });
  }
  if (job.status === 'running') {
    return h('div', { class: 'current running' }, h('span', { class: 'dot' }),
      `${job.type} on ${job.harness} · `, since(job.started_at));
  }
  const wait = job.not_before && Date.parse(job.not_before) > Date.now();
  return h('div', { class: 'current' }, h('span', { class: 'dot' }),
    `${job.type} ${wait ? 'retries at ' + new Date(job.not_before).toLocaleTimeString() : 'is next'}`);
}

export function listView(main) {
  const needs = h('div', { class: 'needs' });
  const needsSection = h('div', { hidden: true }, h('h2', { text: 'Needs you' }), needs);
  const totals = totalsCard();
  const open = h('div', { class: 'card rows open-rows' });
  const finished = h('div', { class: 'card rows finished-rows' });
  const finishedSection = h('div', { hidden: true }, h('h2', { text: 'Finished' }), finished);
  const filters = filterBar(() => refresh());
  main.replaceChildren(needsSection, h('h2', { text: 'Totals' }), totals.el,
    h('h2', { text: 'Assignments' }), filters.el, open, finishedSection, createForm());
  const cards = new Map();

  function refresh() {
    const snap = state.snapshot;
    if (!snap) return;
    totals.refresh();
    const waiting = snap.assignments.filter((a) => a.status === 'blocked' || isIdle(a));
    // Cards are kept by id (and kind) so a note being typed survives updates.
    const key = (a) => `${a.id} ${a.status}`;
    for (const [k, card] of cards) {
      if (!waiting.some((a) => key(a) === k)) { card.remove(); cards.delete(k); }
    }
    for (const a of waiting) {
      let card = cards.get(key(a));
      if (!card) { card = a.status === 'blocked' ? blockedCard(a) : idleCard(a); cards.set(key(a), card); }
      if (a.status === 'blocked') $('.reason', card).textContent = a.reason || 'no reason given';
      if (card.parentNode !== needs) needs.append(card);
    }
    needsSection.hidden = waiting.length === 0;

    const shown = snap.assignments.filter(matches);
    const openList = shown.filter((a) => a.status === 'active' || a.status === 'blocked' || a.status === 'deferred');
    open.replaceChildren(rowHead(), ...openList.map(row));
    if (!openList.length) {
      const text = filtering() ? 'Nothing open matches the filters.' : 'Nothing active. Create an assignment below or with `baton create "…"`.';
      open.append(h('div', { class: 'empty', text }));
    }
    const done = shown.filter((a) => a.status === 'complete' || a.status === 'cancelled');
    finished.replaceChildren(rowHead(), ...done.map(row));
    finishedSection.hidden = done.length === 0;
    filters.count.textContent = filtering() ? `${shown.length} of ${snap.assignments.length} shown` : '';
  }

  refresh();
  return { refresh, close: totals.close };
}

function rowHead() {
  return h('div', { class: 'row head' }, h('span', { text: 'status' }), h('span', { text: 'north star' }),
    h('span', { text: 'now' }), h('span', { class: 'num', text: 'jobs' }), h('span', { class: 'num', text: 'cost' }),
    h('span', { class: 'num', text: 'updated' }));
}

function row(a) {
  const cost = a.budget_usd != null ? `${money(a.cost_usd || 0)} / ${money(a.budget_usd)}` : money(a.cost_usd);
  return h('a', { class: 'row', href: `#/a/${a.id}`, dataset: { assignment: a.id } },
    h('span', {}, pill(a.status)),
    h('div', { class: 'ns-title' }, h('div', { class: 'ns-title', text: a.north_star }), h('div', { class: 'sub mono', text: a.id })),
    currentCell(a),
    h('span', { class: 'num', text: `${a.job_count}/${a.max_jobs}` }),
    h('span', { class: 'num', text: cost }),
    h('span', { class: 'num muted', text: ago(a.updated_at) }));
}

function blockedCard(a) {
  const note = h('input', { type: 'text', placeholder: 'Note for the PM (optional): what you decided', 'aria-label': 'note for the PM' });
  const resume = h('button', { class: 'primary', type: 'submit', text: 'Resume' });
  const form = h('form', { class: 'inline-form' }, note, resume);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { status: 'active' };
    if (note.value.trim()) body.note = note.value.trim();
    const done = await act(resume, () => api('PATCH', `/api/assignments/${a.id}`, body), `resumed ${a.id}`);
    if (done) note.value = '';
  });
  return h('section', { class: 'card blocked-card', dataset: { blocked: a.id } },
    h('div', {}, h('a', { class: 'title', href: `#/a/${a.id}`, text: a.north_star }), ' ', h('span', { class: 'mono muted', text: a.id })),
    h('div', { class: 'reason' }), form);
}

function idleCard(a) {
  const complete = h('button', { type: 'button', text: 'Mark complete' });
  complete.addEventListener('click', () => {
    act(complete, () => api('PATCH', `/api/assignments/${a.id}`, { status: 'complete' }), `completed ${a.id}`);
  });
  return h('section', { class: 'card blocked-card idle-card', dataset: { idle: a.id } },
    h('div', {}, h('a', { class: 'title', href: `#/a/${a.id}`, text: a.north_star }), ' ', h('span', { class: 'mono muted', text: a.id })),
    h('div', { class: 'idle-why', text: IDLE_TEXT }),
    h('div', { class: 'inline-form' }, h('a', { class: 'button', href: `#/a/${a.id}`, text: 'Insert a job' }), complete));
}

function createForm() {
  const northStar = h('textarea', { name: 'north_star', placeholder: 'What should the assignment achieve? e.g. Add OAuth login', required: true });
  const first = h('select', { name: 'first' }, h('option', { value: '', text: '— no first job —' }),
    ...((state.info && state.info.job_types) || []).filter((t) => t !== 'pm').map((t) => h('option', { value: t, text: t })));
  const context = h('textarea', { name: 'context', placeholder: 'Context for the first job (optional)' });
  const budget = h('input', { type: 'number', name: 'budget_usd', min: '0.01', step: '0.01', placeholder: 'e.g. 5' });
  const submit = h('button', { class: 'primary', type: 'submit', text: 'Create assignment' });
  const form = h('form', { class: 'form-grid' },
    h('label', { text: 'North star' }), northStar,
    h('label', { text: 'First job' }), first,
    h('label', { text: 'Context' }), context,
    h('label', { text: 'Budget (USD)' }), budget,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { north_star: northStar.value };
    if (first.value) { body.first = first.value; if (context.value.trim()) body.context = context.value; }
    if (budget.value) body.budget_usd = Number(budget.value);
    const created = await act(submit, () => api('POST', '/api/assignments', body), (d) => `created ${d.id}`);
    if (created) location.hash = `#/a/${created.id}`;
  });
  return h('details', { class: 'card' }, h('summary', { text: 'New assignment' }), form);
}
