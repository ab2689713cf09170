// The image library in the page, on a persistent Chromium profile (so OPFS
// and IndexedDB really persist): images created in the page survive a
// reload; an image made by mkfs.ext4 and populated by debugfs, imported in
// the page, reads the same through the engine as debugfs shows, and
// exports byte-identical; drag-and-drop import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPlayground, ARTIFACTS } from './helpers.mjs';
import { openLibrary, pattern, request, requestWithBytes } from './storage_helpers.mjs';

const SBIN = (tool) => `/usr/sbin/${tool}`;

async function createInPage(page, { name, mib, backend, blockSize = 'auto', features = '', label = '' }) {
  await page.getByTestId('create-name').fill(name);
  await page.getByTestId('create-size').fill(String(mib));
  await page.getByTestId('create-backend').selectOption(backend);
  await page.getByTestId('create-block-size').selectOption(blockSize);
  await page.getByTestId('create-features').fill(features);
  await page.getByTestId('create-label').fill(label);
  await page.getByTestId('create-submit').click();
  await page.locator(`[data-testid="library-status"][data-state="ok"]`).waitFor({ timeout: 30_000 });
  return page.locator(`tr[data-image="${name}"]`);
}

test('images created in the page persist across a reload', async () => {
  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await openLibrary(pg, page);
    const a = await createInPage(page, { name: 'lab-opfs', mib: 8, backend: 'opfs', label: 'first' });
    const feats = (await a.locator('[data-features]').getAttribute('data-features')).split(',');
    for (const f of ['has_journal', 'extent', '64bit', 'flex_bg', 'metadata_csum']) {
      assert.ok(feats.includes(f), `mkfs default feature ${f} in ${feats}`);
    }
    await createInPage(page, { name: 'lab-idb', mib: 4, backend: 'idb', blockSize: '1024', features: 'inline_data' });
    // A file written through the engine on each image.
    for (const name of ['lab-opfs', 'lab-idb']) {
      const w = await requestWithBytes(page, { cmd: 'image-write-file', name, path: '/note.txt' }, pattern(5000, 7));
      assert.equal(w.ok, true, JSON.stringify(w));
    }
    await page.screenshot({ path: join(ARTIFACTS, 'library.png'), fullPage: true });

    await page.reload();
    await openLibrary(pg, page);
    const rows = page.locator('[data-testid="library-rows"] tr[data-image]');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((t) => [t.dataset.image, t.dataset.backend])), [
      ['lab-idb', 'idb'],
      ['lab-opfs', 'opfs'],
    ]);
    const idbRow = page.locator('tr[data-image="lab-idb"]');
    assert.equal(await idbRow.locator('[data-size]').getAttribute('data-size'), String(4 << 20));
    assert.match(await idbRow.locator('.library-fs').textContent(), /ext4 1024 B blocks .*inline_data/);
    assert.match(await page.locator('tr[data-image="lab-opfs"] .library-fs').textContent(), /"first"/);
    for (const name of ['lab-opfs', 'lab-idb']) {
      const r = await request(page, { cmd: 'image-read-file', name, path: '/note.txt' });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.deepEqual(Uint8Array.from(r.bytes), pattern(5000, 7), `${name}: file survives the reload`);
      const f = await request(page, { cmd: 'image-fsck', name });
      assert.equal(f.ok && f.clean, true, `${name} fsck: ${JSON.stringify(f)}`);
    }
    // Delete from the page.
    await page.locator('tr[data-image="lab-idb"] button[data-action="delete"]').click();
    await page.locator('tr[data-image="lab-idb"]').waitFor({ state: 'detached' });
    assert.deepEqual(pg.problems, [], 'no page errors, console errors or CSP violations');
  } finally {
    await pg.close();
  }
});

test('an image made by mkfs.ext4 and debugfs reads the same in the page and exports byte-identical', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ext4lab-import-'));
  const img = join(dir, 'host.img');
  const src = join(dir, 'payload.bin');
  const payload = pattern(200_000, 42);
  await writeFile(src, payload);
  execFileSync('truncate', ['-s', '16M', img]);
  execFileSync(SBIN('mkfs.ext4'), ['-q', '-F', '-L', 'hostfs', img]);
  execFileSync(SBIN('debugfs'), ['-w', '-R', 'mkdir /dir', img]);
  execFileSync(SBIN('debugfs'), ['-w', '-R', `write ${src} /dir/payload.bin`, img]);
  const shown = execFileSync(SBIN('debugfs'), ['-R', 'cat /dir/payload.bin', img], { stdio: ['ignore', 'pipe', 'ignore'] });
  assert.deepEqual(new Uint8Array(shown), payload, 'debugfs shows what was written');
  const hostFeatures = execFileSync(SBIN('dumpe2fs'), ['-h', img], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .match(/^Filesystem features:\s+(.*)$/m)[1]
    .trim()
    .split(/\s+/);
  const original = await readFile(img);

  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await openLibrary(pg, page);
    for (const backend of ['opfs', 'idb']) {
      await page.getByTestId('import-backend').selectOption(backend);
      await page.getByTestId('import-file').setInputFiles(img);
      await page.locator('[data-testid="library-status"][data-state="ok"]').waitFor({ timeout: 30_000 });
      const row = page.locator('tr[data-image="host.img"]');
      assert.equal(await row.getAttribute('data-backend'), backend);
      const feats = (await row.locator('[data-features]').getAttribute('data-features')).split(',');
      assert.deepEqual([...feats].sort(), [...hostFeatures].sort(), 'features as dumpe2fs lists them');
      assert.match(await row.locator('.library-fs').textContent(), /"hostfs"/);

      const r = await request(page, { cmd: 'image-read-file', name: 'host.img', path: '/dir/payload.bin' });
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.deepEqual(Uint8Array.from(r.bytes), payload, `${backend}: the engine reads what debugfs shows`);

      // Export through the page's download, byte-identical to the host file.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        row.locator('button[data-action="export"]').click(),
      ]);
      const exported = await readFile(await download.path());
      assert.equal(exported.length, original.length);
      assert.ok(exported.equals(original), `${backend}: export is byte-identical to the imported file`);
      await row.locator('button[data-action="delete"]').click();
      await row.waitFor({ state: 'detached' });
    }
    assert.deepEqual(pg.problems, []);
  } finally {
    await pg.close();
  }
});

test('drag and drop imports a file', async () => {
  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await openLibrary(pg, page);
    const bytes = pattern(256 << 10, 9);
    await page.evaluate((b) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], 'dropped disk.img'));
      const zone = document.querySelector('[data-testid="import-drop"]');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, Array.from(bytes));
    const row = page.locator('tr[data-image="dropped_disk.img"]');
    await row.waitFor({ timeout: 30_000 });
    assert.match(await row.locator('.library-fs').textContent(), /not ext4/);
    const e = await request(page, { cmd: 'image-export', name: 'dropped_disk.img' });
    assert.deepEqual(Uint8Array.from(e.bytes), bytes);
    assert.deepEqual(pg.problems, []);
  } finally {
    await pg.close();
  }
});
