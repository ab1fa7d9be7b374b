// `#/j/<id>`: one job — its outcome and its transcript, which streams live over server-sent
// events (`/api/jobs/<id>/stream`) and resumes after a reconnect without repeating a line.
import { h, $, jobCost, jobRunner, duration, clock, pill, since, toast } from './ui.js';
import { api, act } from './api.js';
import { jobChanges } from './diff.js';
import { jobPrompt } from './prompt.js';

export function jobView(main, id) {
  const head = h('section', { class: 'card head-card' }, h('p', { class: 'muted', text: 'Loading…' }));
  const lines = h('ol', { class: 'transcript', 'aria-live': 'polite' });
  const foot = h('div', { class: 'transcript-foot', text: 'connecting…' });
  const changes = h('section', { class: 'card job-changes', hidden: true });
  const showChanges = jobChanges(changes);
  const prompts = h('section', { class: 'card job-prompt', hidden: true });
  const showPrompt = jobPrompt(prompts);
  main.replaceChildren(
    h('div', { class: 'crumbs' }, h('a', { href: '#/', text: 'assignments' }), ' / ', h('span', { class: 'job-crumb' }), ` / ${id}`),
    head,
    changes,
    prompts,
    h('h2', { text: 'Transcript' }),
    h('section', { class: 'card' }, lines, foot));

  let lastSeq = 0;
  let lastAttempt = null;
  let shown = 0;
  let ended = false;
  const source = new EventSource(`/api/jobs/${id}/stream`);
  source.onopen = () => { if (!ended) foot.textContent = 'live: new lines appear as the agent works'; };
  source.onerror = () => { if (!ended) foot.textContent = 'reconnecting…'; };
  source.addEventListener('job', (e) => { const job = JSON.parse(e.data); renderJob(head, job); showChanges(job); showPrompt(job); });
  source.addEventListener('transcript', (e) => {
    const line = JSON.parse(e.data);
    if (line.seq <= lastSeq) return; // a reconnect resumes after Last-Event-ID; never show a line twice
    lastSeq = line.seq;
    if (line.text == null) return;
    const stick = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 40;
    if (lastAttempt !== null && line.attempt !== lastAttempt) {
      lines.append(h('li', { class: 'attempt', text: `— attempt ${line.attempt} —` }));
    }
    lastAttempt = line.attempt;
    lines.append(h('li', { class: `k-${(line.event && line.event.kind) || 'other'}`, dataset: { seq: line.seq }, text: line.text }));
    shown += 1;
    if (stick) lines.scrollTop = lines.scrollHeight;
  });
  source.addEventListener('end', (e) => {
    ended = true;
    source.close();
    const job = JSON.parse(e.data);
    renderJob(head, job);
    showChanges(job);
    showPrompt(job);
    foot.textContent = `job ${job.status}; ${shown} line${shown === 1 ? '' : 's'}`;
  });
  source.addEventListener('fault', (e) => toast(JSON.parse(e.data).error, true));

  return { close() { source.close(); } };
}

function renderJob(head, job) {
  const crumb = $('.job-crumb');
  if (crumb) crumb.replaceChildren(h('a', { href: `#/a/${job.assignment_id}`, text: job.assignment_id }));
  const facts = [
    ['assignment', h('a', { href: `#/a/${job.assignment_id}`, class: 'mono', text: job.assignment_id })],
    ['position', `#${job.position}`],
    ['attempts', `${job.attempts}/${job.max_attempts}`],
    ['started', clock(job.started_at)],
    ['duration', job.status === 'running' && job.started_at ? since(job.started_at) : (duration(job.duration_ms) || '–')],
    ['cost', jobCost(job)],
    ['tokens', job.tokens_in != null ? `${job.tokens_in} in / ${job.tokens_out} out` : '–'],
    ['runner', jobRunner(job) || '–'],
  ];
  if (job.exit_code != null) facts.push(['exit code', job.exit_code]);
  if (job.model || job.effort) facts.push(['model', `${job.model || 'default'}${job.effort ? ' · effort ' + job.effort : ''}`]);
  if (job.session_source_job_id) {
    const how = { continued: 'continues', forked: 'forks', fresh: 'fresh instead of' }[job.session_mode] || job.session_mode;
    facts.push(['session', h('span', {}, `${how} `, h('a', { href: `#/j/${job.session_source_job_id}`, class: 'mono', text: job.session_source_job_id }))]);
  }
  if (job.session_fallback_reason) facts.push(['fell back', job.session_fallback_reason]);
  if (job.for_job_id) facts.push(['reviews', h('a', { href: `#/j/${job.for_job_id}`, class: 'mono', text: job.for_job_id })]);
  const buttons = [];
  if (job.status === 'pending' || job.status === 'running') {
    const cancel = h('button', { type: 'button', class: 'danger', text: 'Cancel job' });
    cancel.addEventListener('click', () => {
      if (confirm('Cancel this job? A running agent is stopped.')) act(cancel, () => api('POST', `/api/jobs/${job.id}/cancel`), 'cancelled');
    });
    buttons.push(cancel);
  }
  if (job.status === 'failed' || job.status === 'cancelled') {
    const retry = h('button', { type: 'button', text: 'Retry (queue a copy)' });
    retry.addEventListener('click', async () => {
      const copy = await act(retry, () => api('POST', `/api/jobs/${job.id}/retry`), (j) => `queued ${j.id}`);
      if (copy) location.hash = `#/j/${copy.id}`;
    });
    buttons.push(retry);
  }
  // replaceChildren would print a null as "null": absent blocks are filtered out first.
  head.replaceChildren(...[
    h('div', {}, pill(job.status), ' ', h('span', { class: 'mono muted', text: job.id })),
    h('h1', { text: `${job.type} on ${job.harness}` }),
    h('div', { class: 'grid-facts' }, facts.map(([k, v]) => h('div', {}, h('span', { text: k }), v))),
    job.context ? h('div', { class: 'block' }, h('span', { class: 'muted', text: 'context' }), h('pre', { text: job.context })) : null,
    job.result ? h('div', { class: 'block' }, h('span', { class: 'muted', text: job.type === 'pm' ? 'PM decision' : 'result' }), h('pre', { text: job.result })) : null,
    job.diff_stat ? h('div', { class: 'block' }, h('span', { class: 'muted', text: 'changes' }), h('pre', { text: job.diff_stat })) : null,
    job.error ? h('div', { class: 'block' }, h('span', { class: 'muted', text: `error${job.error_kind ? ' (' + job.error_kind + ')' : ''}` }), h('pre', { class: 'result error', text: job.error })) : null,
    buttons.length ? h('div', { class: 'actions-bar' }, buttons) : null,
  ].filter(Boolean));
}
