// Drives the dashboard's dependency links in Debian's Chromium for tests/browser.rs, taking
// turns with the Rust test over stdio as dashboard.mjs does: `STEP <name>` asks the test to act,
// it answers `OK [data]`. Any page error fails the run.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const url = process.env.BATON_URL;
const artifacts = process.env.ARTIFACT_DIR;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const replies = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const TIMEOUT = 15000;

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
  await page.goto(url);
  await page.waitForSelector('#live.on');

  // Two open parents and a child created after both: the child's row says whom it waits for.
  const [api, docs, child] = await step('linked');
  const marker = `a.row[data-assignment="${child}"] .waits-for`;
  await page.waitForFunction(([sel, a, b]) => {
    const el = document.querySelector(sel);
    return !!el && !!el.querySelector(`[data-waits-on="${a}"]`) && !!el.querySelector(`[data-waits-on="${b}"]`);
  }, [marker, api, docs]);
  const text = await page.textContent(marker);
  if (!text.startsWith('waits for ')) throw new Error(`marker: ${text}`);
  await page.screenshot({ path: join(artifacts, 'links-list.png'), fullPage: true });

  // The child's page links to both parents; a parent's page links back to the child.
  await page.click(`a.row[data-assignment="${child}"]`);
  await page.waitForSelector(`.dep-links a[data-parent="${api}"]`);
  await page.waitForSelector(`.dep-links a[data-parent="${docs}"]`);
  const waits = await page.innerText('.dep-links');
  if (!waits.includes('Waits for') || !waits.includes('The API')) throw new Error(`links: ${waits}`);
  await page.screenshot({ path: join(artifacts, 'links-child.png'), fullPage: true });
  await page.click(`.dep-links a[data-parent="${api}"]`);
  await page.waitForSelector(`.dep-links a[data-child="${child}"]`);
  const back = await page.innerText('.dep-links');
  if (!back.includes('Waited for by') || !back.includes('Publish the guide')) throw new Error(`links back: ${back}`);
  if (await page.$('.dep-links a[data-parent]')) throw new Error('a parent without parents shows some');
  await page.click(`.dep-links a[data-child="${child}"]`);
  await page.waitForSelector(`.dep-links a[data-parent="${api}"]`);

  // One parent completes: the marker names only the one still open.
  await page.click('a.brand');
  await step('one-done');
  await page.waitForFunction(([sel, a, b]) => {
    const el = document.querySelector(sel);
    return !!el && !el.querySelector(`[data-waits-on="${a}"]`) && !!el.querySelector(`[data-waits-on="${b}"]`);
  }, [marker, api, docs]);
  // An assignment without links shows no links card.
  await page.click(`a.row[data-assignment="${api}"]`);
  await page.waitForSelector(`.dep-links a[data-child="${child}"]`);
  const [plain] = await step('plain');
  await page.goto(`${new URL(url).origin}/#/a/${plain}`);
  await page.waitForSelector('.head-card h1');
  await page.waitForFunction(() => document.querySelector('.head-card h1').textContent === 'Stands alone');
  if (!(await page.isHidden('.dep-links'))) throw new Error('an assignment without links shows the links card');

  if (problems.length) throw new Error(problems.join('\n'));
  await step('done');
} catch (e) {
  failed = true;
  console.error(e && e.stack ? e.stack : String(e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
