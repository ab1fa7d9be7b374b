// Drives the dashboard in Debian's Chromium for tests/browser.rs.
//
// The Rust test owns the server and the database; this script owns the browser. They take
// turns over stdio: the script prints `STEP <name>` when it needs the test to act (write to the
// store as the CLI or a runner would), the test answers `OK [data]` on stdin. Anything the page
// logs as an error, and any uncaught page exception, fails the run.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const url = process.env.BATON_URL;
const artifacts = process.env.ARTIFACT_DIR;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const replies = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const TIMEOUT = 15000;

// A value that slipped into the page unformatted shows as null/undefined/NaN.
// A diff's own text is the repository's (`--- /dev/null`), so it is left out of the check.
async function noRawValues(page, where) {
  const text = await page.$eval('main', (main) => {
    const copy = main.cloneNode(true);
    for (const diff of copy.querySelectorAll('pre.diff')) diff.remove();
    document.body.append(copy);
    const shown = copy.innerText;
    copy.remove();
    return shown;
  });
  const raw = text.match(/\b(null|undefined|NaN)\b/);
  if (raw) throw new Error(`the ${where} page shows "${raw[0]}": ${text}`);
}

async function step(name) {
  console.log(`STEP ${name}`);
  const { value, done } = await replies.next();
  if (done || !value.startsWith('OK')) throw new Error(`the test answered ${JSON.stringify(value)} to ${name}`);
  return value.slice(2).trim().split(/\s+/).filter(Boolean);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });

  // The address `baton serve` prints: the token is traded for a cookie and leaves the address.
  await page.goto(url);
  if (page.url().includes('token=')) throw new Error(`the token stayed in the address: ${page.url()}`);
  await page.waitForSelector('#live.on');

  // A known chain: a failed implement job ($0.0125), its PM ($0.25), a review that never ran.
  const [chained, implementJob, pmJob] = await step('chain');
  await page.waitForSelector(`.finished-rows a.row[data-assignment="${chained}"]`);
  // The namespace's totals count it: both costs today, two jobs run, one permanent failure.
  await page.waitForFunction(() => (document.querySelector('[data-total="run"] b') || {}).textContent === '2');
  const totals = await page.innerText('.totals-facts');
  for (const want of ['spent today $0.2625', 'this week $0.2625', 'jobs run 2', 'failures permanent 1']) {
    if (!totals.replace(/\s+/g, ' ').includes(want)) throw new Error(`totals lack "${want}": ${totals}`);
  }
  const dayBars = await page.$$eval('.ns-cost .cost-bar', (bars) => bars.length);
  if (dayBars !== 1) throw new Error(`${dayBars} bars in the namespace's cost per day, not 1 (today)`);

  // An assignment with nothing queued is listed under "Needs you" as idle.
  const [idle] = await step('idle');
  await page.waitForSelector(`[data-idle="${idle}"]`);
  const idleText = await page.textContent(`[data-idle="${idle}"]`);
  if (!idleText.includes('idle: nothing queued — insert a job or complete it')) throw new Error(`idle card: ${idleText}`);

  // The filters: text, status (idle included) and harness narrow the list.
  const rows = () => page.$$eval('a.row[data-assignment]', (r) => r.map((e) => e.dataset.assignment));
  await page.fill('.filters input[type=search]', 'known CHAIN');
  await page.waitForFunction(() => document.querySelectorAll('a.row[data-assignment]').length === 1);
  if ((await rows())[0] !== chained) throw new Error(`search shows ${await rows()}`);
  await page.fill('.filters input[type=search]', '');
  await page.selectOption('.filters select[name=status]', 'idle');
  await page.waitForFunction(() => document.querySelectorAll('a.row[data-assignment]').length === 1);
  if ((await rows())[0] !== idle) throw new Error(`status idle shows ${await rows()}`);
  await page.selectOption('.filters select[name=status]', '');
  await page.selectOption('.filters select[name=harness]', 'codex');
  await page.waitForFunction(() => document.querySelectorAll('a.row[data-assignment]').length === 1);
  if ((await rows())[0] !== chained) throw new Error(`harness codex shows ${await rows()}`);
  await noRawValues(page, 'filtered list');
  await page.screenshot({ path: join(artifacts, 'filters.png'), fullPage: true });
  await page.selectOption('.filters select[name=harness]', '');
  await page.waitForFunction(() => document.querySelectorAll('a.row[data-assignment]').length === 2);

  // Its page: a time line with a bar per started job (the PM's marked, the failure red, the
  // review "not started"), a cost chart with a bar per cost, and no insert form (it is finished).
  await page.click(`a.row[data-assignment="${chained}"]`);
  await page.waitForSelector('.job-times svg .tl-bar');
  const bars = await page.$$eval('.job-times .tl-bar', (b) => b.map((e) => ({ job: e.dataset.job, cls: e.getAttribute('class'), tip: e.textContent })));
  if (bars.length !== 2) throw new Error(`${bars.length} time line bars, not 2: ${JSON.stringify(bars)}`);
  const [implementBar, pmBar] = bars;
  if (implementBar.job !== implementJob || !implementBar.cls.includes('o-failed')) throw new Error(`implement bar: ${JSON.stringify(implementBar)}`);
  if (pmBar.job !== pmJob || !pmBar.cls.includes('pm') || !pmBar.cls.includes('o-complete')) throw new Error(`PM bar: ${JSON.stringify(pmBar)}`);
  for (const want of ['$0.0125', '1,200 in / 300 out tokens', 'error: permanent']) {
    if (!implementBar.tip.includes(want)) throw new Error(`the implement bar's tooltip lacks ${want}: ${implementBar.tip}`);
  }
  const notStarted = await page.textContent('.job-times .tl-none');
  if (!notStarted.includes('not started')) throw new Error(`the review's row: ${notStarted}`);
  const costBars = await page.$$eval('.job-costs .cost-bar', (b) => b.length);
  if (costBars !== 2) throw new Error(`${costBars} cost bars, not 2`);
  if (!(await page.isHidden('.insert-section'))) throw new Error('a finished assignment still shows the insert form');
  const place = await page.innerText('.head-card .place');
  if (!place.includes('branch') || !place.includes('worktree') || !place.includes('base')) throw new Error(`header: ${place}`);
  await noRawValues(page, 'chain');
  await page.screenshot({ path: join(artifacts, 'chain.png'), fullPage: true });

  // A finished job shows the runner that ran it.
  await page.click(`.tl-item[data-job="${implementJob}"] a.mono`);
  await page.waitForFunction(() => [...document.querySelectorAll('.grid-facts div')].some((d) => d.textContent === 'runnerr1'));
  await page.click('a.brand');

  const [assignment, job] = await step('created');

  // Created through the store (as by the CLI): it appears without a reload.
  await page.waitForSelector(`a.row[data-assignment="${assignment}"]`);
  await noRawValues(page, 'list');
  await page.screenshot({ path: join(artifacts, 'list.png'), fullPage: true });

  await step('running');
  await page.waitForSelector(`a.row[data-assignment="${assignment}"] .current.running`);
  await page.click(`a.row[data-assignment="${assignment}"]`);
  await page.waitForSelector(`.tl-item.st-running[data-job="${job}"]`);
  await page.click(`.tl-item[data-job="${job}"] a.mono`);
  await page.waitForFunction(() => document.querySelectorAll('.transcript li[data-seq]').length >= 2);

  await step('more');
  await page.waitForFunction(() => [...document.querySelectorAll('.transcript li')].some((li) => li.textContent.includes('a line written while you watch')));
  await noRawValues(page, 'job');
  await page.screenshot({ path: join(artifacts, 'job.png'), fullPage: true });

  // A blocked assignment goes to the top with its reason; resuming it with a note works.
  await page.click('a.brand');
  const reason = (await step('blocked')).join(' ');
  await page.waitForSelector(`[data-blocked="${assignment}"] .reason`);
  const shown = await page.textContent(`[data-blocked="${assignment}"] .reason`);
  if (!shown.includes('needs a product decision')) throw new Error(`reason shown: ${shown}`);
  await page.screenshot({ path: join(artifacts, 'blocked.png'), fullPage: true });
  await page.fill(`[data-blocked="${assignment}"] input`, 'go with the v2 API');
  await page.click(`[data-blocked="${assignment}"] button`);
  await page.waitForSelector(`[data-blocked="${assignment}"]`, { state: 'detached' });

  // The insert-job form on the assignment page.
  await page.click(`a.row[data-assignment="${assignment}"]`);
  await page.waitForSelector('.timeline .tl-item');
  await page.selectOption('select[name=type]', 'review');
  await page.fill('textarea[name=context]', 'review what the implementer did');
  await page.click('form.form-grid button[type=submit]');
  await page.waitForSelector('.tl-item.type-review');
  await noRawValues(page, 'assignment');
  await page.screenshot({ path: join(artifacts, 'assignment.png'), fullPage: true });

  // What an assignment produced: its whole change with a file list, cut after 5,000 lines with
  // the command for the rest, and one job's change folded on its timeline item and on its page.
  const [worked, workedJob] = await step('diff');
  await page.goto(`${new URL(url).origin}/#/a/${worked}`);
  await page.waitForSelector('.changes-card pre.diff .d-add');
  const listed = await page.innerText('.changes-card .diff-files');
  if (!listed.includes('long.txt') || !listed.includes('+6000')) throw new Error(`file list: ${listed}`);
  const cut = await page.textContent('.changes-card .diff-cut');
  if (!cut.includes(`baton diff ${worked}`)) throw new Error(`cut note: ${cut}`);
  const shownLines = await page.$$eval('.changes-card pre.diff span', (spans) => spans.length);
  if (shownLines !== 5000) throw new Error(`${shownLines} diff lines shown`);
  await noRawValues(page, 'assignment diff');
  await page.screenshot({ path: join(artifacts, 'diff.png') });
  // Its branch and worktree in the header; the long path wraps inside the card.
  const where = await page.innerText('.head-card .place');
  if (!where.includes(`baton/${worked}`) || !where.includes(`worktrees/${worked}`)) throw new Error(`header: ${where}`);
  const spills = await page.$$eval('.head-card, .history', (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).length);
  if (spills) throw new Error('a long value spills out of its box');
  await page.setViewportSize({ width: 700, height: 900 });
  const narrowSpills = await page.$$eval('.head-card, .history', (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).length);
  if (narrowSpills) throw new Error('a long value spills out of its box on a narrow page');
  await page.screenshot({ path: join(artifacts, 'worked.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.click(`.job-diff[data-job-diff="${workedJob}"] summary`);
  await page.waitForSelector(`.job-diff[data-job-diff="${workedJob}"] pre.diff .d-add`);
  await page.click(`.tl-item[data-job="${workedJob}"] a.mono`);
  await page.waitForSelector('.job-changes pre.diff .d-add');
  await noRawValues(page, 'job diff');
  await page.screenshot({ path: join(artifacts, 'job-diff.png'), fullPage: true });
  // The prompt the attempt was given, exactly.
  await page.click('.job-prompt summary');
  await page.waitForFunction(() => (document.querySelector('.job-prompt .prompt-text') || {}).textContent?.includes('keep `$HOME` literal'));
  const promptMeta = await page.textContent('.job-prompt .prompt-bar');
  if (!promptMeta.includes('sha256')) throw new Error(`prompt meta: ${promptMeta}`);

  if (problems.length) throw new Error(problems.join('\n'));
  await step('done');
} catch (e) {
  failed = true;
  console.error(e && e.stack ? e.stack : String(e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
