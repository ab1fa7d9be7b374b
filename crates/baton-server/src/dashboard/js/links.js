// Dependency links between assignments (`create --after`): on an assignment's page, the ones it
// waits for and the ones waiting for it, as links both ways; in the list, a small "waits for …"
// marker on each deferred row. The list's snapshot carries no parents, so the marker reads them
// once from the assignment's detail (an assignment's parents never change after it is created)
// and takes their statuses from each new snapshot, naming only the parents still open.
import { h, pill } from './ui.js';
import { api } from './api.js';
import { state } from './state.js';

// `detail.parents` / `detail.children` of `/api/assignments/<id>`: links both ways.
export function dependencyLinks(section, detail) {
  const parents = detail.parents || [];
  const children = detail.children || [];
  section.hidden = !parents.length && !children.length;
  const list = (kind, links) => h('ul', { class: 'dep-list' }, links.map((l) =>
    h('li', {}, h('a', { href: `#/a/${l.id}`, class: 'dep-link', dataset: { [kind]: l.id } },
      pill(l.status), ' ', h('span', { class: 'mono', text: l.id }), ' ', l.north_star))));
  const waits = parents.length ? [
    h('h3', { text: detail.status === 'deferred' ? 'Waits for' : 'Started after' }),
    h('p', { class: 'muted', text: 'it starts once every one of these is complete' }),
    list('parent', parents),
  ] : [];
  const next = children.length ? [
    h('h3', { text: 'Waited for by' }),
    h('p', { class: 'muted', text: 'these start once this one (and their other parents) complete' }),
    list('child', children),
  ] : [];
  section.replaceChildren(...waits, ...next);
}

const parentsOf = new Map(); // assignment id → [{ id, north_star }]
const asking = new Set();

// The "now" cell of a deferred row: which parents it still waits for.
export function waitsForMarker(a) {
  const el = h('div', { class: 'current muted waits-for', dataset: { waitsFor: a.id } });
  fill(el, a.id);
  if (!parentsOf.has(a.id) && !asking.has(a.id)) {
    asking.add(a.id);
    api('GET', `/api/assignments/${a.id}`).then((d) => {
      parentsOf.set(a.id, (d.parents || []).map((p) => ({ id: p.id, north_star: p.north_star })));
      // The list may have been rebuilt since: fill the marker on screen now.
      for (const shown of document.querySelectorAll(`[data-waits-for="${a.id}"]`)) fill(shown, a.id);
    }).catch(() => {}).finally(() => asking.delete(a.id));
  }
  return el;
}

function fill(el, id) {
  const parents = parentsOf.get(id);
  if (!parents || !parents.length) { el.textContent = 'waits for its parents'; return; }
  const snap = state.snapshot;
  const statusOf = new Map((snap ? snap.assignments : []).map((x) => [x.id, x.status]));
  const open = parents.filter((p) => statusOf.get(p.id) !== 'complete');
  const named = open.length ? open : parents;
  el.replaceChildren('waits for ', ...named.flatMap((p, i) =>
    [i ? ', ' : '', h('span', { class: 'mono', title: p.north_star, dataset: { waitsOn: p.id }, text: p.id })]));
}
