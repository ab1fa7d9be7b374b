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
// until a person inserts a job or completes it. The queue summary lists them (the engine's rule,
// baton-core's engine::idle), so the page shows what `baton queue` shows.
export const IDLE_TEXT = 'idle: nothing queued — insert a job or complete it';
export function isIdle(a) {
  const q = state.snapshot && state.snapshot.queue;
  return !!(q && q.idle && q.idle.some((i) => i.id === a.id));
}
