// Charts drawn as plain SVG: an assignment's time line (one bar per job from its start to its
// end, coloured by outcome, PM jobs marked, a tooltip with cost and tokens) and cost over time
// (one bar per cost, by when it was spent, with the running total as a line). Colours come from
// classes in app.css: the page's Content-Security-Policy allows no inline styles.
import { money, duration, tokens, clock } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'text') el.textContent = value;
    else el.setAttribute(key, String(value));
  }
  for (const kid of kids.flat(Infinity)) if (kid) el.append(kid);
  return el;
}

const ms = (iso) => (iso ? Date.parse(iso) : null);

// The tooltip of a job's bar.
function jobTip(job, end) {
  const parts = [`#${job.position} ${job.type} on ${job.harness} · ${job.status}`];
  if (job.started_at) parts.push(duration((end || Date.now()) - ms(job.started_at)));
  parts.push(job.cost_usd != null ? money(job.cost_usd) : 'no cost reported');
  const t = tokens(job);
  if (t) parts.push(t);
  if (job.error_kind) parts.push(`error: ${job.error_kind}`);
  return parts.join(' · ');
}

// One row per job in chain order; a bar for each job that has started.
export function jobTimeline(jobs, now = Date.now()) {
  const W = 760, LABEL = 170, ROW = 24, TOP = 6, AXIS = 22;
  const started = jobs.filter((j) => j.started_at);
  const t0 = Math.min(...started.map((j) => ms(j.started_at)));
  const t1 = Math.max(...started.map((j) => ms(j.finished_at) || now));
  const span = Math.max(1, t1 - t0);
  const x = (t) => LABEL + ((t - t0) / span) * (W - LABEL - 10);
  const H = TOP + jobs.length * ROW + AXIS;
  const rows = jobs.map((job, i) => {
    const y = TOP + i * ROW;
    const label = s('text', { x: 4, y: y + 16, class: 'tl-label', text: `#${job.position} ${job.type}${job.type === 'pm' ? ' (PM)' : ''}` });
    if (!job.started_at) {
      return s('g', { 'data-job': job.id }, label, s('text', { x: LABEL, y: y + 16, class: 'tl-none', text: `${job.status}, not started` }));
    }
    const start = ms(job.started_at);
    const end = ms(job.finished_at) || now;
    const bx = x(start);
    const bar = s('rect', {
      x: bx.toFixed(1), y: y + 3, height: ROW - 8, rx: 3,
      width: Math.max(3, x(end) - bx).toFixed(1),
      class: `tl-bar o-${job.status}${job.type === 'pm' ? ' pm' : ''}`,
      'data-job': job.id,
    }, s('title', { text: jobTip(job, ms(job.finished_at)) }));
    return s('a', { href: `#/j/${job.id}` }, label, bar);
  });
  const axisY = TOP + jobs.length * ROW + 14;
  const axis = started.length ? [
    s('text', { x: LABEL, y: axisY, class: 'tl-axis', text: clock(new Date(t0).toISOString()) }),
    s('text', { x: W - 10, y: axisY, class: 'tl-axis end', text: `${duration(span)} in all` }),
  ] : [s('text', { x: LABEL, y: axisY, class: 'tl-axis', text: 'no job has started yet' })];
  return s('svg', { class: 'timeline-chart', viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': 'time line of the jobs' }, rows, axis);
}

// `points`: [{ at (ms), cost, label }] — a bar per point at its time, the running total as a
// line. `first`/`last` (optional, ms) fix the ends of the time axis.
export function costChart(points, { title = 'cost over time', first, last } = {}) {
  const W = 760, H = 150, LEFT = 56, BOTTOM = 22, TOP = 10;
  const sorted = [...points].sort((a, b) => a.at - b.at);
  if (!sorted.length) {
    return s('svg', { class: 'cost-chart', viewBox: `0 0 ${W} 40`, width: '100%', role: 'img', 'aria-label': title },
      s('text', { x: LEFT, y: 24, class: 'tl-none', text: 'no cost reported yet' }));
  }
  const t0 = first != null ? first : sorted[0].at;
  const t1 = last != null ? last : sorted[sorted.length - 1].at;
  const span = Math.max(1, t1 - t0);
  const total = sorted.reduce((sum, p) => sum + p.cost, 0);
  const top = Math.max(total, 1e-9);
  const plotW = W - LEFT - 16;
  const barW = Math.max(4, Math.min(28, plotW / (sorted.length * 1.6)));
  const x = (t) => LEFT + barW / 2 + ((t - t0) / span) * (plotW - barW);
  const y = (v) => TOP + (1 - v / top) * (H - TOP - BOTTOM);
  let running = 0;
  const line = [];
  const bars = sorted.map((p) => {
    running += p.cost;
    line.push(`${x(p.at).toFixed(1)},${y(running).toFixed(1)}`);
    const by = y(p.cost);
    return s('rect', {
      class: 'cost-bar', x: (x(p.at) - barW / 2).toFixed(1), y: by.toFixed(1), width: barW.toFixed(1),
      height: Math.max(1, H - BOTTOM - by).toFixed(1),
    }, s('title', { text: `${p.label}: ${money(p.cost)} (total ${money(running)})` }));
  });
  const base = H - BOTTOM;
  return s('svg', { class: 'cost-chart', viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': title },
    s('line', { x1: LEFT, y1: base, x2: W - 8, y2: base, class: 'axis' }),
    s('text', { x: LEFT - 6, y: TOP + 8, class: 'tl-axis end', text: money(total) }),
    s('text', { x: LEFT - 6, y: base, class: 'tl-axis end', text: '$0' }),
    bars,
    sorted.length > 1 ? s('polyline', { class: 'cost-total', points: line.join(' ') }) : null,
    s('text', { x: LEFT, y: H - 6, class: 'tl-axis', text: clock(new Date(t0).toISOString()) }),
    s('text', { x: W - 8, y: H - 6, class: 'tl-axis end', text: clock(new Date(t1).toISOString()) }));
}

// An assignment's costs: one point per job that reported one, at the time it ended.
export function jobCostPoints(jobs) {
  return jobs.filter((j) => j.cost_usd != null && (j.finished_at || j.started_at))
    .map((j) => ({ at: ms(j.finished_at || j.started_at), cost: Number(j.cost_usd), label: `#${j.position} ${j.type} ${j.id}` }));
}
