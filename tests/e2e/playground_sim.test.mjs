// Running on the page: the simulator's reference models (the scenarios need
// crate/kernel, which this build does not have) explored across several
// workers with progress and cancel; the outcome chart and table, the
// timeline of the fewest-preemption schedule and its trace hash, the
// wait-for cycle and the lockdep report, the Perfetto export, and manual
// stepping with undo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openPlayground, ARTIFACTS } from './helpers.mjs';

async function ready(page) {
  await page.locator('[data-testid="playground"][data-state="ready"]').waitFor({ timeout: 30_000 });
  await page.getByTestId('run-advanced').evaluate((d) => (d.open = true));
}

async function withPage(fn) {
  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await page.goto(pg.url);
    await ready(page);
    await fn(page, pg);
    assert.deepEqual(pg.problems, [], 'no page errors, console errors or CSP violations');
  } finally {
    await pg.close();
  }
}

test('a reference model explored across workers: deadlock cycle, lockdep report, timeline, trace export', async () => {
  await withPage(async (page) => {
    // Scenarios cannot run in this build, and the page says so.
    const scenarioOption = page.locator('[data-testid="target"] option[value="scenario"]');
    if (await scenarioOption.isDisabled()) assert.match(await page.getByTestId('run-unavailable').textContent(), /crate\/kernel/);
    await page.getByTestId('target').selectOption('model:rwsem_writer_fair');
    await page.getByTestId('strategy').selectOption('dfs');
    await page.getByTestId('explore').click();
    const status = page.locator('[data-testid="explore-status"][data-state="exhausted"]');
    await status.waitFor({ timeout: 60_000 });
    const text = await status.textContent();
    const workers = Number(/(\d+) workers?,/.exec(text)[1]);
    assert.ok(workers >= 1, text);
    assert.ok(await page.getByTestId('outcome-deadlock').count(), 'the writer-fair rwsem deadlock is found');
    assert.ok(await page.getByTestId('outcome-lock-order-inversion').count(), 'lockdep reports the inversion');
    assert.ok(await page.getByTestId('outcome-chart').locator('rect').count());
    await page.screenshot({ path: join(ARTIFACTS, 'sim-outcomes.png'), fullPage: true });

    // The deadlock's shortest schedule: timeline, trace hash, wait-for cycle.
    await page.getByTestId('outcome-deadlock').getByTestId('show-outcome').click();
    await page.getByTestId('timeline-svg').waitFor();
    const hash = await page.getByTestId('trace-hash').textContent();
    assert.match(hash, /^[0-9a-f]{16}$/);
    assert.equal(await page.getByTestId('run-end').textContent(), 'Deadlock');
    // Click a step: the state there.
    const svg = page.getByTestId('timeline-svg');
    const sw = Number(await svg.getAttribute('data-step-width'));
    const left = Number(await svg.getAttribute('data-left'));
    await svg.click({ position: { x: left + sw * 2 + sw / 2, y: 30 } });
    assert.equal(await page.getByTestId('current-step').textContent(), '2');
    await page.screenshot({ path: join(ARTIFACTS, 'sim-timeline.png'), fullPage: true });
    await page.getByTestId('tab-locks').click();
    const cycle = await page.getByTestId('wait-for-cycle').textContent();
    assert.match(cycle, /T0/);
    assert.match(cycle, /T1/);
    await page.screenshot({ path: join(ARTIFACTS, 'sim-locks.png'), fullPage: true });

    // Replaying the same token again gives the same trace hash.
    await page.getByTestId('tab-outcomes').click();
    await page.getByTestId('outcome-deadlock').getByTestId('show-outcome').click();
    await page.getByTestId('timeline-svg').waitFor();
    assert.equal(await page.getByTestId('trace-hash').textContent(), hash);

    // The lockdep report in the kernel's layout.
    await page.getByTestId('tab-outcomes').click();
    await page.getByTestId('outcome-lock-order-inversion').getByTestId('show-outcome').click();
    await page.getByTestId('tab-locks').click();
    assert.match(await page.getByTestId('lockdep-text').textContent(), /possible circular locking dependency/);

    // Export: Chrome trace-event JSON.
    await page.getByTestId('tab-timeline').click();
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-trace').click()]);
    const json = JSON.parse(await readFile(await dl.path(), 'utf8'));
    assert.ok(Array.isArray(json.traceEvents) && json.traceEvents.length > 0);
    assert.ok(json.traceEvents.some((e) => e.cat === 'lock'), 'lock spans exported');
  });
});

test('manual stepping: choose the next task, undo', async () => {
  await withPage(async (page) => {
    await page.getByTestId('target').selectOption('model:abba_mutex');
    await page.getByTestId('step-manual').click();
    const choices = page.getByTestId('manual-choice');
    await choices.first().waitFor();
    assert.ok((await choices.count()) >= 2, 'both tasks can start');
    const first = await choices.first().textContent();
    await choices.first().click();
    await page.waitForFunction(() => /1 choices/.test(document.querySelector('[data-testid="manual"]')?.textContent ?? ''));
    assert.ok(await page.getByTestId('manual-undo').isEnabled());
    await page.getByTestId('manual-undo').click();
    await page.waitForFunction(() => /0 choices/.test(document.querySelector('[data-testid="manual"]')?.textContent ?? ''));
    assert.equal(await choices.first().textContent(), first);
    // Drive T1 then T0 alternately until the run ends: the ABBA deadlock is reachable by hand.
    for (let i = 0; i < 40 && (await choices.count()) > 0; i++) {
      const n = await choices.count();
      await choices.nth(i % n).click();
      await page.waitForTimeout(30);
    }
    await page.getByTestId('run-end').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'sim-manual.png'), fullPage: true });
  });
});

test('a long exploration shows progress and can be cancelled; the page stays responsive', async () => {
  await withPage(async (page) => {
    await page.getByTestId('target').selectOption('model:rwsem_writer_fair');
    await page.getByTestId('strategy').selectOption('random');
    await page.getByTestId('runs').fill('1000000');
    await page.getByTestId('run-n').click();
    await page.waitForFunction(() => /: [1-9]\d* \/ 1000000 executions/.test(document.querySelector('[data-testid="progress-text"]')?.textContent ?? ''), null, { timeout: 30_000 });
    // The page answers while the workers run.
    await page.getByTestId('tab-locks').click();
    await page.getByTestId('lock-order').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'sim-progress.png'), fullPage: true });
    await page.getByTestId('cancel').click();
    await page.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid="progress-text"]')?.textContent ?? ''));
    assert.ok(await page.getByTestId('run-n').isEnabled());
    // And a new run works after the cancel (fresh workers).
    await page.getByTestId('runs').fill('200');
    await page.getByTestId('run-n').click();
    await page.locator('[data-testid="explore-status"]').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('explore-status').textContent(), /200 executions/);
  });
});

test('a reference-model run has a share link that replays it in a fresh page; a bad one is refused', async () => {
  await withPage(async (page, pg) => {
    await page.getByTestId('target').selectOption('model:abba_mutex');
    await page.getByTestId('strategy').selectOption('dfs');
    await page.getByTestId('explore').click();
    await page.locator('[data-testid="explore-status"][data-state="exhausted"]').waitFor({ timeout: 60_000 });
    await page.getByTestId('outcome-deadlock').getByTestId('show-outcome').click();
    await page.getByTestId('timeline-svg').waitFor();
    const hash = await page.getByTestId('trace-hash').textContent();
    // Move to step 2: the link carries the step too.
    const svg = page.getByTestId('timeline-svg');
    const sw = Number(await svg.getAttribute('data-step-width'));
    const left = Number(await svg.getAttribute('data-left'));
    await svg.click({ position: { x: left + sw * 2 + sw / 2, y: 30 } });
    await page.waitForFunction(() => /#m1\.abba_mutex~v1\.[A-Za-z0-9_-]+~2$/.test(document.querySelector('[data-testid="share-url"]')?.value ?? ''));
    await page.locator('[data-testid="share"][data-state="current"]').waitFor();
    const url = await page.getByTestId('share-url').inputValue();
    // The Disk tab says a model has no disk.
    await page.getByTestId('tab-disk').click();
    await page.getByTestId('disk-none').waitFor();

    const fresh = await pg.context.newPage();
    await fresh.goto(url);
    await ready(fresh);
    await fresh.getByTestId('trace-hash').waitFor({ timeout: 30_000 });
    assert.equal(await fresh.getByTestId('trace-hash').textContent(), hash);
    assert.equal(await fresh.getByTestId('run-end').textContent(), 'Deadlock');
    assert.equal(await fresh.getByTestId('target').inputValue(), 'model:abba_mutex');
    assert.equal(await fresh.getByTestId('current-step').textContent(), '2');
    assert.equal(await fresh.getByTestId('link-error').count(), 0);
    await fresh.locator('[data-testid="share"][data-state="current"]').waitFor();
    assert.equal(await fresh.getByTestId('share-url').inputValue(), url, 'the restored page gives the same link');
    await fresh.screenshot({ path: join(ARTIFACTS, 'sim-model-link.png'), fullPage: true });

    // Back to the scenario: the link is the codec's again.
    await fresh.getByTestId('target').selectOption('scenario');
    await fresh.waitForFunction(() => /#v3\./.test(document.querySelector('[data-testid="share-url"]')?.value ?? ''));

    // Damaged and unknown model links: a message, the default scenario.
    for (const [fragment, kind] of [
      ['#m1.abba_mutex~<b>', 'link-bad-model-link'],
      ['#m1.nosuch~v1.AAAA', 'link-unknown-model'],
    ]) {
      const p = await pg.context.newPage();
      await p.goto(pg.url + fragment);
      await ready(p);
      assert.equal(await p.getByTestId('link-error').getAttribute('data-kind'), kind, fragment);
      assert.equal(await p.getByTestId('scenario-picker').inputValue(), 's5');
      await p.close();
    }
  });
});
