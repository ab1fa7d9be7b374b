// A job's prompts: exactly what each attempt's agent was told (`/api/jobs/<id>/prompt`), so any
// decision can be read against what the agent was shown. Fetched when the section is opened.
import { h } from './ui.js';
import { api } from './api.js';

export function jobPrompt(section) {
  let jobId = null;
  let attempts = 0;
  const text = h('pre', { class: 'prompt-text', text: '' });
  const meta = h('p', { class: 'muted' });
  const picker = h('select', { 'aria-label': 'attempt' });
  const details = h('details', {}, h('summary', { text: 'Prompt — what the agent was told' }), h('div', { class: 'prompt-bar' }, picker, meta), text);
  section.replaceChildren(details);

  async function load() {
    if (!jobId || !details.open || !picker.value) return;
    try {
      const p = await api('GET', `/api/jobs/${jobId}/prompt?attempt=${picker.value}`);
      text.textContent = p.prompt == null ? '(no prompt recorded for this attempt)' : p.prompt;
      meta.textContent = p.prompt_bytes != null ? `${p.prompt_bytes} bytes · sha256 ${p.prompt_sha256}` : '';
    } catch (e) {
      text.textContent = e.message;
    }
  }
  details.addEventListener('toggle', load);
  picker.addEventListener('change', load);

  // Called with every update of the job: new attempts become selectable, the latest by default.
  return (job) => {
    jobId = job.id;
    section.hidden = job.attempts === 0;
    if (job.attempts === attempts) return;
    attempts = job.attempts;
    picker.replaceChildren(...Array.from({ length: attempts }, (_, i) => h('option', { value: String(i + 1), text: `attempt ${i + 1}` })));
    picker.value = String(attempts);
    load();
  };
}
