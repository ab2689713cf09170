// A scenario started from a library image, in the page: an image created in
// the library is chosen as the base of S5; the exploration runs on copies of
// it and shows the stale-data outcome; the stored image is unchanged; an
// image with 1 KiB blocks is refused with a typed message before any run;
// the share link names the base and is refused once the image changed or
// is gone.
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
    assert.ok(await page.getByTestId('playground').isHidden(), 'one view at a time');
    await createInPage(page, 'base-s5', '4096');
    await createInPage(page, 'base-1k', '1024');
    const before = await digest(page, 'base-s5');
    assert.match(before, /^[0-9a-f]{64}$/);
    // Back to the playground; its base-image selector links to the library.
    await page.getByTestId('view-playground').click();
    await page.locator('[data-testid="playground"][data-state="ready"]').waitFor({ timeout: 30_000 });
    assert.ok(await page.getByTestId('library').isHidden());
    await page.getByTestId('run-advanced').evaluate((d) => (d.open = true));
    await page.getByTestId('open-library').click();
    await page.locator('[data-testid="library"][data-state="ready"]').waitFor();
    assert.equal(await page.getByTestId('view-library').getAttribute('aria-pressed'), 'true');
    await page.getByTestId('view-playground').click();
    await page.getByTestId('base-image').waitFor();

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

    // The 4 KiB image: PCT finds S5's stale read (nodelalloc: page_mkwrite's
    // written block; the delalloc window is rarer than 2000 PCT runs).
    await sel.selectOption('base-s5');
    await page.getByTestId('option-mount-nodelalloc').check({ force: true });
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
    assert.equal(await page.getByTestId('outcome-engine-error').count() + (await page.getByTestId('outcome-other').count()), 0, 'no engine errors on the base image');
    await page.screenshot({ path: join(ARTIFACTS, 'base-image-outcomes.png'), fullPage: true });

    // Its shortest schedule replays on the same base in the page's worker.
    await stale.getByTestId('show-outcome').click();
    await page.getByTestId('timeline-svg').waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('trace-hash').textContent(), /^[0-9a-f]{16}$/);

    // Exploring never wrote the stored image.
    assert.equal(await digest(page, 'base-s5'), before);

    // The share link names the base (name + content hash): opened in another
    // tab it starts from the same image; once the image changes, or is gone,
    // the link is refused with a clear message.
    await page.locator('[data-testid="share"][data-state="current"]').waitFor({ timeout: 10_000 });
    const link = await page.getByTestId('share-url').inputValue();
    const other = await pg.context.newPage();
    await other.goto(link);
    await other.locator('[data-testid="playground"][data-state="ready"]').waitFor({ timeout: 30_000 });
    assert.equal(await other.getByTestId('link-error').count(), 0);
    await other.waitForFunction(() => document.querySelector('[data-testid="base-image"]')?.value === 'base-s5');
    await other.getByTestId('timeline-svg').waitFor({ timeout: 60_000 });
    await other.close();

    const w = await page.evaluate(() =>
      globalThis.ext4labLibrary.request({ cmd: 'image-write-file', name: 'base-s5', path: '/changed', bytes: new Uint8Array([1, 2, 3]) }),
    );
    assert.equal(w.ok, true, JSON.stringify(w));
    for (const [prep, kind, why] of [
      [null, 'link-base-changed', /has changed since the link was made/],
      ['delete', 'link-base-missing', /image library does not have/],
    ]) {
      if (prep) assert.equal((await page.evaluate(() => globalThis.ext4labLibrary.request({ cmd: 'image-delete', name: 'base-s5' }))).ok, true);
      const tab = await pg.context.newPage();
      await tab.goto(link);
      const err = tab.getByTestId('link-error');
      await err.waitFor({ timeout: 30_000 });
      assert.equal(await err.getAttribute('data-kind'), kind);
      assert.match(await err.textContent(), why);
      assert.match(await err.textContent(), /base-s5/);
      await tab.close();
    }
    assert.deepEqual(pg.problems, []);
  } finally {
    await pg.close();
  }
});
