// What the page knows: the server's info, the latest namespace snapshot (pushed by
// `/api/events`), and the view on screen.

export const state = {
  info: null,       // GET /api/info
  snapshot: null,   // the latest `snapshot` event: { queue, assignments }
  view: null,       // the page shown: { refresh(), close() }
  locked: false,
};

// The job an assignment is on now: running, else its next pending one.
export function currentJob(assignmentId) {
  const q = state.snapshot && state.snapshot.queue;
  if (!q) return null;
  const all = [...q.running, ...q.ready, ...q.waiting];
  return all.find((j) => j.assignment_id === assignmentId) || null;
}
