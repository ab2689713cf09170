// A scenario started from a library image, in the page: an image created in
// the library is chosen as the base of S5; the exploration runs on copies of
// it and shows the stale-data outcome; the stored image is unchanged; an
// image with 1 KiB blocks is refused with a typed message before any run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPlayground, ARTIFACTS } from './helpers.mjs';
import { openLibrary } from './storage_helpers.mjs';

async function createInPage(page, name, blockSize) {
  await page.getByTestId('create-name').fill(name);
  await page.getByTestId('create-size').fill('16');
  await page.getByTestId('create-backend').selectOption('opfs');
  await page.getByTestId('create-block-size').selectOption(blockSize);
  await page.getByTestId('create-submit').click();
  await page.locator(`tr[data-image="${name}"]`).waitFor({ timeout: 30_000 });
}

/** SHA-256 of an image's export, computed in the page. */
function digest(page, name) {
  return page.evaluate(async (n) => {
    const a = await globalThis.ext4labLibrary.request({ cmd: 'image-export', name: n });
    if (!a.ok) return `error ${a.error.kind}`;
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', a.bytes));
    return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
  }, name);
}

test('S5 runs from a library image and shows its outcome; unfit images are refused', async () => {
  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await openLibrary(pg, page);
    await page.locator('[data-testid="playground"][data-state="ready"]').waitFor({ timeout: 30_000 });
    await createInPage(page, 'base-s5', '4096');
    await createInPage(page, 'base-1k', '1024');
    const before = await digest(page, 'base-s5');
    assert.match(before, /^[0-9a-f]{64}$/);

    // The selector lists the library's images (kept current with it).
    const sel = page.getByTestId('base-image');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="base-image"] option').length >= 3);
    assert.equal(await page.getByTestId('scenario-picker').inputValue(), 's5');

    // 1 KiB blocks: a typed refusal, no run.
    await sel.selectOption('base-1k');
    await page.getByTestId('run-n').click();
    const status = page.getByTestId('base-status');
    await page.locator('[data-testid="base-status"][data-kind="base-block-size"]').waitFor({ timeout: 30_000 });
    assert.match(await status.textContent(), /base-1k cannot be this scenario's base: .*1024-byte blocks.*4096-byte blocks/);
    assert.match(await page.getByTestId('progress-text').textContent(), /not started/);

    // The 4 KiB image: PCT with the scenario's budget finds S5's stale read.
    await sel.selectOption('base-s5');
    await page.getByTestId('strategy').selectOption('pct');
    await page.getByTestId('runs').fill('2000');
    await page.getByTestId('explore').click();
    await page.locator('[data-testid="base-status"][data-kind="ok"]').waitFor({ timeout: 30_000 });
    assert.match(await status.textContent(), /runs start from a copy of base-s5 \(content [0-9a-f]{16}\)/);
    const done = page.getByTestId('explore-status');
    await done.waitFor({ timeout: 240_000 });
    assert.match(await done.textContent(), /on base-s5 · 2000 executions/);
    const stale = page.getByTestId('outcome-stale-data');
    assert.ok(await stale.count(), await page.getByTestId('outcomes-view').textContent());
    assert.equal(await page.getByTestId('outcome-other').count(), 0, 'no engine errors on the base image');
    await page.screenshot({ path: join(ARTIFACTS, 'base-image-outcomes.png'), fullPage: true });

    // Its shortest schedule replays on the same base in the page's worker.
    await stale.getByTestId('show-outcome').click();
    await page.getByTestId('timeline-svg').waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('trace-hash').textContent(), /^[0-9a-f]{16}$/);

    // Exploring never wrote the stored image.
    assert.equal(await digest(page, 'base-s5'), before);
    assert.deepEqual(pg.problems, []);
  } finally {
    await pg.close();
  }
});
