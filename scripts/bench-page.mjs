// The Race tab as a user drives it: for every built-in scenario, every
// variant's button ("Find the race" or "Check every interleaving"), timed
// from the click to the row's verdict. The page runs each search the way it
// always does: on its pool of engine workers (one per core), under the
// variant's own preemption bound, with the default options. This is the
// "browser time" of a row as someone looking at the page sees it.
//   node scripts/bench-page.mjs [--only s5] [--rows find|check] [--timeout 120] [--json out.json]
// --rows find: only the "Find the race" buttons; check: only "Check every
// interleaving".
// Needs dist/ (scripts/build-wasm.sh, then npx vite build). A search past
// --timeout seconds is abandoned (the page is reloaded, which ends its
// workers) and reported as "past N s".
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const ONLY = opt('--only', null);
const TIMEOUT = Number(opt('--timeout', 120)) * 1000;
const JSON_OUT = opt('--json', null);
const ROWS = opt('--rows', 'all');
const WANT = { find: /^Find/, check: /^Check/, all: /./ }[ROWS];
if (!WANT) throw new Error(`--rows: find, check or all, not ${ROWS}`);

/** Each built-in's variant names, from its file: the Race tab must show
 * exactly these rows before a button is clicked (a row name can repeat
 * across scenarios: S5 and S8 both have `v5.5`). */
const VARIANTS = Object.fromEntries(
  readdirSync('scenarios')
    .filter((f) => /^s\d+-.*\.toml$/.test(f))
    .map((f) => [f.split('-')[0], [...readFileSync(`scenarios/${f}`, 'utf8').matchAll(/^\[\[variants\]\]\s*\nname = "([^"]+)"/gm)].map((m) => m[1])]),
);

const { server, url } = await startServer({ root: 'dist', port: 18240 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
const results = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const open = async (id) => {
    await page.goto(url);
    await page.locator('[data-testid="playground"][data-state="ready"]').waitFor({ timeout: 60_000 });
    if (!id) return;
    await page.getByTestId('scenario-picker').selectOption(id);
    await page.waitForFunction(
      (want) => {
        const have = [...document.querySelectorAll('[data-testid^="overview-run-"]')].map((b) => b.dataset.testid.slice('overview-run-'.length));
        return have.length === want.length && want.every((n) => have.includes(n));
      },
      VARIANTS[id],
      { timeout: 30_000 },
    );
  };
  await open(null);
  const workers = await page.evaluate(() => Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 8)));
  const ids = (await page.getByTestId('scenario-picker').locator('option').evaluateAll((os) => os.map((o) => o.value))).filter(
    (id) => !ONLY || id === ONLY,
  );
  console.log(`${workers} engine worker(s); timeout ${TIMEOUT / 1000} s`);
  for (const id of ids) {
    await open(id);
    const variants = await page
      .locator('[data-testid^="overview-run-"]')
      .evaluateAll((bs) => bs.map((b) => ({ name: b.dataset.testid.slice('overview-run-'.length), label: b.textContent })));
    for (const v of variants.filter((x) => WANT.test(x.label))) {
      await page.getByTestId('tab-overview').click();
      const t0 = Date.now();
      await page.getByTestId(`overview-run-${v.name}`).click();
      let row;
      try {
        await page.waitForFunction(
          (name) => ['found', 'none-complete', 'none-bounded', 'error'].includes(document.querySelector(`[data-testid="overview-verdict-${name}"]`)?.dataset.state ?? ''),
          v.name,
          { timeout: TIMEOUT, polling: 50 },
        );
        const el = page.getByTestId(`overview-verdict-${v.name}`);
        row = { scenario: id, variant: v.name, button: v.label, seconds: (Date.now() - t0) / 1000, state: await el.getAttribute('data-state'), verdict: await el.textContent() };
      } catch {
        row = { scenario: id, variant: v.name, button: v.label, seconds: null, state: 'timeout', verdict: `past ${TIMEOUT / 1000} s` };
        await open(id);
      }
      results.push(row);
      const secs = row.seconds === null ? `past ${TIMEOUT / 1000} s` : `${row.seconds.toFixed(1)} s`;
      console.log(`${id.padEnd(3)} ${v.name.padEnd(28)} ${v.label.padEnd(25)} ${secs.padStart(9)}  ${row.verdict}`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 1) + '\n');
