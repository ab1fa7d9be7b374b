// What an assignment produced: its whole change against its base (a section on the assignment
// page) and each job's change (a fold on its timeline item, and a section on the job page), as a
// file list with added and removed lines and a unified diff coloured line by line. The server
// cuts long diffs (5,000 lines) and names the command that prints the rest.
import { h } from './ui.js';
import { api } from './api.js';

// A unified diff's line as a class: file headers, hunk headers, additions, removals.
function lineClass(line) {
  if (line.startsWith('diff --git')) return 'd-file';
  if (line.startsWith('+++ ') || line.startsWith('--- ') || line.startsWith('index ') ||
    line.startsWith('new file') || line.startsWith('deleted file') || line.startsWith('rename ') ||
    line.startsWith('similarity ') || line.startsWith('old mode') || line.startsWith('new mode')) return 'd-meta';
  if (line.startsWith('@@')) return 'd-hunk';
  if (line.startsWith('+')) return 'd-add';
  if (line.startsWith('-')) return 'd-del';
  return 'd-ctx';
}

function fileList(files) {
  return h('ul', { class: 'diff-files' }, files.map((f) => h('li', {},
    h('span', { class: 'mono path', text: f.old_path ? `${f.old_path} → ${f.path}` : f.path }),
    f.binary ? h('span', { class: 'muted', text: 'binary' })
      : h('span', { class: 'file-counts' }, h('span', { class: 'd-plus', text: `+${f.added}` }), ' ', h('span', { class: 'd-minus', text: `−${f.removed}` })))));
}

// One diff object of the API (`GET …/diff`) as a file list and the coloured text.
export function renderDiff(d) {
  if (!d.files.length) return h('p', { class: 'muted', text: 'No changes.' });
  const lines = (d.diff || '').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const cut = d.truncated
    ? h('p', { class: 'diff-cut', text: `The diff is cut at ${lines.length.toLocaleString('en')} lines; ${d.command} prints all of it.` })
    : null;
  const added = d.files.reduce((n, f) => n + (f.added || 0), 0);
  const removed = d.files.reduce((n, f) => n + (f.removed || 0), 0);
  return h('div', { class: 'diff-view' },
    h('div', { class: 'diff-total' }, `${d.files.length} file${d.files.length === 1 ? '' : 's'} changed, `,
      h('span', { class: 'd-plus', text: `+${added}` }), ' ', h('span', { class: 'd-minus', text: `−${removed}` }),
      h('span', { class: 'muted mono', text: `  ${d.from.slice(0, 10)}..${d.to.slice(0, 10)}` })),
    fileList(d.files),
    cut,
    h('pre', { class: 'diff' }, lines.map((l) => h('span', { class: lineClass(l), text: `${l}\n` }))),
    cut ? cut.cloneNode(true) : null);
}

async function load(box, path) {
  box.replaceChildren(h('p', { class: 'muted', text: 'Loading the diff…' }));
  try {
    box.replaceChildren(renderDiff(await api('GET', path)));
  } catch (e) {
    if (e.status !== 401) box.replaceChildren(h('p', { class: 'muted', text: e.message }));
  }
}

// The assignment page's "Changes" section: base, commits ahead, uncommitted work, and the whole
// diff, re-read only when the branch moved.
export function changesSection(id) {
  const facts = h('div', { class: 'facts' });
  const warning = h('div', { class: 'diff-warning', hidden: true });
  const box = h('div', { class: 'diff-box' });
  const el = h('section', { class: 'card changes-card' }, facts, warning, box);
  let shownKey = null;
  return {
    el,
    update(d) {
      const base = d.base_commit ? `${d.base_branch ? d.base_branch + ' at ' : ''}${d.base_commit.slice(0, 10)}` : null;
      facts.replaceChildren(...[
        h('span', {}, 'branch ', h('b', { class: 'mono', text: d.branch || 'not created yet' })),
        base ? h('span', {}, 'base ', h('b', { class: 'mono', text: base })) : null,
        d.commits_ahead != null ? h('span', {}, 'ahead ', h('b', { text: `${d.commits_ahead} commit${d.commits_ahead === 1 ? '' : 's'}` })) : null,
      ].filter(Boolean));
      warning.hidden = d.worktree_dirty !== true;
      warning.textContent = d.worktree_dirty
        ? `The worktree has uncommitted changes that are not on the branch (see git -C ${d.worktree} status).` : '';
      const key = d.diff_stat == null ? null : `${d.commits_ahead}|${d.diff_stat}`;
      if (key === shownKey) return;
      shownKey = key;
      if (key == null) {
        box.replaceChildren(h('p', { class: 'muted', text: d.branch
          ? 'The change cannot be read here (the worktree is on another host, or its base was not recorded).'
          : 'No branch yet: the change shows here once the first job ran in its worktree.' }));
      } else {
        load(box, `/api/assignments/${id}/diff`);
      }
    },
  };
}

// A job's change, folded on its timeline item; kept across re-renders so an open fold stays open.
const folds = new Map();
export function jobDiffFold(job) {
  if (!job.diff_stat || !job.git_head_after || job.type === 'pm') return null;
  const key = `${job.id}|${job.git_head_after}`;
  if (folds.has(key)) return folds.get(key);
  const total = job.diff_stat.trim().split('\n').pop().trim();
  const box = h('div', { class: 'diff-box' });
  const fold = h('details', { class: 'job-diff', dataset: { jobDiff: job.id } }, h('summary', { text: `changes: ${total}` }), box);
  let loaded = false;
  fold.addEventListener('toggle', () => {
    if (fold.open && !loaded) { loaded = true; load(box, `/api/jobs/${job.id}/diff`); }
  });
  folds.set(key, fold);
  return fold;
}

// The job page's "Changes" section, read once the job has ended with a change.
export function jobChanges(el) {
  const box = h('div', { class: 'diff-box' });
  el.replaceChildren(h('span', { class: 'muted', text: 'what this job changed' }), box);
  let shownKey = null;
  return (job) => {
    const key = job.git_head_after && job.diff_stat ? job.git_head_after : null;
    if (key === shownKey) return;
    shownKey = key;
    el.hidden = key == null;
    if (key != null) load(box, `/api/jobs/${job.id}/diff`);
  };
}
