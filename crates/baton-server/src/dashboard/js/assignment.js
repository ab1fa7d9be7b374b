// `#/a/<id>`: one assignment — where it works (branch, worktree, base), the assignments it waits
// for and those waiting for it, a time line of its jobs and its cost over time, its job chain
// with the PM's decisions, its history, resume / complete / cancel, merge once complete, and the
// insert-job form while it is open. Re-read whenever the namespace changes; forms being filled
// in are kept across updates.
import { h, $, money, jobCost, duration, ago, clock, clip, pill, since } from './ui.js';
import { api, act } from './api.js';
import { state, IDLE_TEXT } from './state.js';
import { changesSection, jobDiffFold } from './diff.js';
import { jobTimeline, costChart, jobCostPoints } from './charts.js';
import { dependencyLinks } from './links.js';

export function assignmentView(main, id) {
  const head = h('section', { class: 'card head-card' }, h('p', { class: 'muted', text: 'Loading…' }));
  const links = h('section', { class: 'card dep-links', hidden: true });
  const timeline = h('ol', { class: 'timeline' });
  const history = h('ul', { class: 'history' });
  const insert = insertForm(id);
  const insertSection = h('div', { class: 'insert-section' }, h('h2', { text: 'Insert a job' }), insert.el);
  const changes = changesSection(id);
  const times = h('div', { class: 'chart-box job-times' });
  const costs = h('div', { class: 'chart-box job-costs' });
  main.replaceChildren(
    h('div', { class: 'crumbs' }, h('a', { href: '#/', text: 'assignments' }), ` / ${id}`),
    head,
    links,
    h('h2', { text: 'Time line' }),
    h('section', { class: 'card charts-card' }, times, h('h3', { text: 'Cost over time' }), costs),
    h('h2', { text: 'Changes against its base' }), changes.el,
    h('div', { class: 'two-col' },
      h('div', {}, h('h2', { text: 'Job chain' }), timeline, insertSection),
      h('div', {}, h('h2', { text: 'History' }), h('div', { class: 'card' }, history))));
  let lastStatus = null;
  let closed = false;
  let inFlight = null;
  let again = false;

  async function load() {
    // One read at a time; changes during a read cause exactly one more.
    if (inFlight) { again = true; return; }
    inFlight = api('GET', `/api/assignments/${id}`).catch((e) => {
      if (!closed && e.status !== 401) head.replaceChildren(h('p', { class: 'result error', text: e.message }));
      return null;
    });
    const detail = await inFlight;
    inFlight = null;
    if (closed) return;
    if (detail) {
      // A merge changes no status but replaces the merge form with its outcome.
      const shape = `${detail.status} ${detail.merged_commit || ''}`;
      if (shape !== lastStatus) { renderHead(head, detail); lastStatus = shape; } else updateHead(head, detail);
      dependencyLinks(links, detail);
      timeline.replaceChildren(...detail.jobs.map((j) => timelineItem(j, detail.history)));
      if (!detail.jobs.length) timeline.append(h('li', { class: 'muted', text: 'No jobs yet: insert one below.' }));
      history.replaceChildren(...[...detail.history].reverse().map(historyItem));
      times.replaceChildren(jobTimeline(detail.jobs));
      costs.replaceChildren(costChart(jobCostPoints(detail.jobs), { title: 'the assignment’s cost over time' }));
      // A finished assignment takes no more jobs: the form goes.
      insertSection.hidden = detail.status === 'complete' || detail.status === 'cancelled';
      insert.update(detail);
      changes.update(detail);
    }
    if (again) { again = false; load(); }
  }

  load();
  return { refresh: load, close() { closed = true; } };
}

function headFacts(d) {
  const budget = d.budget_usd != null ? ` of ${money(d.budget_usd)}` : '';
  const final = d.status === 'complete' || d.status === 'cancelled';
  const elapsed = final ? duration(Date.parse(d.updated_at) - Date.parse(d.created_at)) : since(d.created_at);
  return [
    h('span', {}, 'cost ', h('b', { text: money(d.cost_usd) }), budget),
    h('span', {}, 'jobs ', h('b', { text: `${d.job_count}/${d.max_jobs}` })),
    h('span', {}, 'created ', h('b', { text: clock(d.created_at) })),
    h('span', {}, final ? 'took ' : 'open for ', h('b', {}, elapsed)),
    h('span', {}, 'updated ', h('b', { text: ago(d.updated_at) })),
    ...hostFacts(d),
  ];
}

// Where the assignment works: its branch, its worktree and the base it started from.
function placeFacts(d) {
  const base = d.base_branch || d.base_ref;
  return [
    h('span', { dataset: { fact: 'branch' } }, 'branch ', h('b', { class: 'mono', text: d.branch || 'none yet (made when its first job runs)' })),
    h('span', { dataset: { fact: 'base' } }, 'base ', h('b', { class: 'mono', text: baseText(base, d.base_commit) })),
    h('span', { dataset: { fact: 'worktree' }, class: 'path' }, 'worktree ', h('b', { class: 'mono', text: d.worktree || 'none' })),
  ];
}

// Where its worktree lives, and whether its branch's last commit is on the [sync] remote (so
// another host could continue it).
function hostFacts(d) {
  if (!d.host) return [];
  const facts = [h('span', {}, 'host ', h('b', { text: d.host }))];
  if (!d.pushed_commit) return facts;
  const heads = d.jobs.filter((j) => j.git_head_after).sort((a, b) => (a.started_at || '').localeCompare(b.started_at || ''));
  const head = heads.length ? heads[heads.length - 1].git_head_after : d.base_commit;
  const text = head === d.pushed_commit ? `in sync at ${head.slice(0, 12)}` : `remote at ${d.pushed_commit.slice(0, 12)}, branch ahead`;
  facts.push(h('span', {}, 'branch ', h('b', { text })));
  return facts;
}

function updateHead(head, d) {
  const facts = $('.facts', head);
  if (facts) facts.replaceChildren(...headFacts(d));
  const place = $('.place', head);
  if (place) place.replaceChildren(...placeFacts(d));
  const idle = $('.idle-why', head);
  if (idle) idle.hidden = !isIdle(d);
  const reason = $('.reason', head);
  if (reason) reason.textContent = d.reason || '';
}

function renderHead(head, d) {
  const kids = [
    h('div', {}, pill(d.status), ' ', h('span', { class: 'mono muted', text: d.id })),
    h('h1', { text: d.north_star }),
    h('div', { class: 'facts' }, headFacts(d)),
    h('div', { class: 'facts place' }, placeFacts(d)),
    h('div', { class: 'idle-why', hidden: !isIdle(d), text: IDLE_TEXT }),
  ];
  if (d.status === 'blocked') {
    const note = h('input', { type: 'text', placeholder: 'Note for the PM (optional)', 'aria-label': 'note for the PM' });
    const maxJobs = h('input', { type: 'number', min: '1', placeholder: `max jobs (${d.max_jobs})`, 'aria-label': 'new job limit' });
    const budget = h('input', { type: 'number', min: '0.01', step: '0.01', placeholder: 'budget USD', 'aria-label': 'new budget' });
    const resume = h('button', { class: 'primary', type: 'submit', text: 'Resume' });
    const form = h('form', { class: 'inline-form' }, note, maxJobs, budget, resume);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const body = { status: 'active' };
      if (note.value.trim()) body.note = note.value.trim();
      if (maxJobs.value) body.max_jobs = Number(maxJobs.value);
      if (budget.value) body.budget_usd = Number(budget.value);
      act(resume, () => api('PATCH', `/api/assignments/${d.id}`, body), 'resumed');
    });
    kids.push(h('div', { class: 'reason', text: d.reason || 'no reason given' }), form);
  }
  if (d.status === 'active' || d.status === 'blocked') {
    const complete = h('button', { type: 'button', text: 'Mark complete' });
    complete.addEventListener('click', () => {
      if (confirm('Mark this assignment complete? Its pending jobs are cancelled and a running one is stopped.')) {
        act(complete, () => api('PATCH', `/api/assignments/${d.id}`, { status: 'complete' }), 'marked complete');
      }
    });
    const cancel = h('button', { type: 'button', class: 'danger', text: 'Cancel assignment' });
    cancel.addEventListener('click', () => {
      if (confirm('Cancel this assignment? Its pending jobs are cancelled and a running one is stopped.')) {
        act(cancel, () => api('PATCH', `/api/assignments/${d.id}`, { status: 'cancelled' }), 'cancelled');
      }
    });
    kids.push(h('div', { class: 'actions-bar' }, complete, cancel));
  }
  const merge = mergeBar(d);
  if (merge) kids.push(merge);
  head.replaceChildren(...kids);
}

// `baton merge` for a complete assignment with a branch: into its base branch (or the one typed),
// optionally squashed. A refusal (a dirty checkout, a conflict) comes back as the toast's message.
function mergeBar(d) {
  if (d.status !== 'complete' || !d.branch) return null;
  if (d.merged_commit) {
    return h('p', { class: 'muted merged', text: `${d.branch} merged (now at ${d.merged_commit.slice(0, 12)})` });
  }
  const into = h('input', { type: 'text', placeholder: d.base_branch ? `into ${d.base_branch}` : 'branch to merge into (required)', 'aria-label': 'branch to merge into' });
  const squash = h('input', { type: 'checkbox', 'aria-label': 'squash into one commit' });
  const merge = h('button', { class: 'primary', type: 'submit', text: `Merge ${d.branch}` });
  const form = h('form', { class: 'inline-form merge-form' }, into, h('label', {}, squash, ' squash into one commit'), merge);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { squash: squash.checked };
    if (into.value.trim()) body.into = into.value.trim();
    act(merge, () => api('POST', `/api/assignments/${d.id}/merge`, body), `merged ${d.branch}`);
  });
  return h('div', { class: 'actions-bar' }, form);
}

function baseText(name, commit) {
  const at = commit ? commit.slice(0, 12) : null;
  if (name) return at ? `${name} @ ${at}` : name;
  return at || 'the checkout’s HEAD';
}

// Active with no job pending or running: nothing happens until a person acts.
function isIdle(d) {
  return d.status === 'active' && !d.jobs.some((j) => j.status === 'pending' || j.status === 'running');
}

function timelineItem(job, history) {
  // A PM job's decisions are the history entries it made as `job:<id>`.
  const decisions = history.filter((e) => e.actor === `job:${job.id}`);
  const meta = [];
  if (job.status === 'running' && job.started_at) meta.push(since(job.started_at));
  else if (job.duration_ms != null) meta.push(duration(job.duration_ms));
  if (job.cost_usd != null || job.cost_source) meta.push(' · ', jobCost(job));
  if (job.attempts > 1) meta.push(` · attempt ${job.attempts}/${job.max_attempts}`);
  const body = h('div', { class: 'card tl-body' },
    h('div', { class: 'tl-head' },
      h('span', { class: 'muted', text: `#${job.position}` }),
      h('span', { class: 'type', text: job.type }),
      h('span', { class: 'muted', text: `on ${job.harness}` }),
      pill(job.status),
      h('a', { class: 'mono', href: `#/j/${job.id}`, text: `${job.id} →` }),
      h('span', { class: 'meta' }, meta)),
    job.context ? h('p', { class: 'ctx', text: clip(job.context, 400) }) : null,
    job.type === 'pm' && job.result ? h('div', { class: 'pm-decision' }, h('span', { class: 'label', text: 'PM' }), clip(job.result, 800)) : null,
    job.type !== 'pm' && job.result ? h('p', { class: 'result', text: clip(job.result, 500) }) : null,
    job.error ? h('p', { class: 'result error', text: clip(job.error, 400) }) : null,
    jobDiffFold(job),
    decisions.length ? h('ul', { class: 'decisions' }, decisions.map((e) => h('li', {}, e.action, e.reason ? ` — ${e.reason}` : ''))) : null);
  return h('li', { class: `tl-item st-${job.status} type-${job.type}`, dataset: { job: job.id } }, h('div', { class: 'tl-dot' }), body);
}

function historyItem(e) {
  const isJob = e.actor.startsWith('job:');
  return h('li', {},
    h('div', {}, h('span', { class: 'when', text: clock(e.at) }), h('span', { class: isJob ? 'actor job' : 'actor', text: e.actor })),
    h('div', { text: e.action }),
    e.reason ? h('div', { class: 'why', text: e.reason }) : null);
}

function insertForm(assignmentId) {
  const info = state.info || { job_types: [], harnesses: [], default_harness: {} };
  const type = h('select', { name: 'type', 'aria-label': 'job type' }, info.job_types.map((t) => h('option', { value: t, text: t })));
  const harness = h('select', { name: 'harness', 'aria-label': 'harness' });
  const context = h('textarea', { name: 'context', placeholder: 'Context for the job: what exactly to do' });
  const after = h('select', { name: 'after', 'aria-label': 'position' }, h('option', { value: '', text: 'at the end of the chain' }));
  const submit = h('button', { class: 'primary', type: 'submit', text: 'Insert job' });
  function fillHarness() {
    const keep = harness.value;
    const fallback = info.default_harness[type.value] || 'default';
    harness.replaceChildren(h('option', { value: '', text: `default (${fallback})` }),
      ...info.harnesses.map((name) => h('option', { value: name, text: name })));
    harness.value = keep;
  }
  type.value = info.job_types.includes('implement') ? 'implement' : type.value;
  type.addEventListener('change', fillHarness);
  fillHarness();
  const form = h('form', { class: 'card form-grid' },
    h('label', { text: 'Type' }), type,
    h('label', { text: 'Harness' }), harness,
    h('label', { text: 'Context' }), context,
    h('label', { text: 'Position' }), after,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { type: type.value, context: context.value };
    if (harness.value) body.harness = harness.value;
    if (after.value) body.after = after.value;
    const job = await act(submit, () => api('POST', `/api/assignments/${assignmentId}/jobs`, body),
      (j) => `queued job ${j.id} (${j.type}) at position ${j.position}`);
    if (job) context.value = '';
  });
  return {
    el: form,
    update(detail) {
      const keep = after.value;
      after.replaceChildren(h('option', { value: '', text: 'at the end of the chain' }),
        ...detail.jobs.map((j) => h('option', { value: j.id, text: `after #${j.position} ${j.type} (${j.id}, ${j.status})` })));
      after.value = detail.jobs.some((j) => j.id === keep) ? keep : '';
      const final = detail.status === 'complete' || detail.status === 'cancelled';
      submit.disabled = final;
      submit.title = final ? `assignment is ${detail.status}` : '';
    },
  };
}
