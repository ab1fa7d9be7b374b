// What the page knows: the server's info, the latest namespace snapshot (pushed by
// `/api/events`), and the view on screen.

export const state = {
  info: null,       // GET /api/info
  snapshot: null,   // the latest `snapshot` event: { queue, assignments }
  view: null,       // the page shown: { refresh(), close() }
  jobs: [],         // the newest jobs, read for the list's totals and its harness filter
  filters: { text: '', status: '', harness: '' }, // the list's filters, kept across pages
  locked: false,
};

// The job an assignment is on now: running, else its next pending one.
export function currentJob(assignmentId) {
  const q = state.snapshot && state.snapshot.queue;
  if (!q) return null;
  const all = [...q.running, ...q.ready, ...q.waiting];
  return all.find((j) => j.assignment_id === assignmentId) || null;
}

// Whether an assignment sits idle: active with no job pending or running, so nothing happens
// until a person inserts a job or completes it. Derived here from the pushed queue until the
// queue summary carries the rule itself. When the queue's lists are cut, an assignment missing
// from them may still have work, so it is not called idle.
export const IDLE_TEXT = 'idle: nothing queued — insert a job or complete it';
export function idleLocally(a) {
  const q = state.snapshot && state.snapshot.queue;
  if (!q || a.status !== 'active' || currentJob(a.id)) return false;
  const whole = q.ready.length >= q.ready_total && q.waiting.length >= q.waiting_total
    && q.running.length >= ((q.jobs && q.jobs.running) || 0);
  return whole;
}
