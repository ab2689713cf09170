// Storage faults seen from the page: each gives a typed error with a clear
// message, and the image that was consistent before is unchanged after.
// Real where the browser allows it (a second tab holding the OPFS handle);
// injected in the worker for a full disk, a failed flush and an aborted
// IndexedDB transaction (the device's real error paths run; see
// crate/wasm/device/opfs_device.rs InjectedFault).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPlayground } from './helpers.mjs';
import { exportPrefix, openLibrary, pattern, request, requestWithBytes } from './storage_helpers.mjs';

/** A 1 MiB raw image whose first block is `pattern(4096, 1)`. */
async function seeded(page, name, backend) {
  const c = await request(page, { cmd: 'image-create', name, backend, size: 1 << 20 });
  assert.equal(c.ok, true, JSON.stringify(c));
  const w = await requestWithBytes(page, { cmd: 'image-write-blocks', name, offset: 0 }, pattern(4096, 1));
  assert.equal(w.ok, true, JSON.stringify(w));
}

async function firstBlock(page, name) {
  const e = await exportPrefix(page, name, 4096);
  assert.equal(e.ok, true, JSON.stringify(e));
  return Uint8Array.from(e.bytes);
}

async function injected(page, name, fault, expectKind, expectText) {
  const arm = await request(page, { cmd: 'image-inject-fault', name, fault });
  assert.equal(arm.ok, true, JSON.stringify(arm));
  const w = await requestWithBytes(page, { cmd: 'image-write-blocks', name, offset: 0 }, pattern(4096, 2));
  assert.equal(w.ok, false, 'the write must fail');
  assert.equal(w.error.kind, expectKind, JSON.stringify(w.error));
  assert.match(w.error.message, expectText);
  assert.equal(w.error.image, name);
  // The image still holds its state as of the last successful barrier,
  // except after a failed flush: its epoch was written out before the
  // flush failed, so storage may hold it (as a crash right then would
  // leave); either way the block is one of the two versions, never torn.
  const after = await firstBlock(page, name);
  if (fault === 'flush') {
    assert.ok(
      Buffer.from(after).equals(Buffer.from(pattern(4096, 1))) || Buffer.from(after).equals(Buffer.from(pattern(4096, 2))),
      'old or new block after a failed flush',
    );
  } else {
    assert.deepEqual(after, pattern(4096, 1), `${name} unchanged after ${fault}`);
  }
  // And it is usable again (the failed device was dropped, storage reopened).
  const again = await requestWithBytes(page, { cmd: 'image-write-blocks', name, offset: 0 }, pattern(4096, 3));
  assert.equal(again.ok, true, JSON.stringify(again));
  assert.deepEqual(await firstBlock(page, name), pattern(4096, 3));
}

/** A formatted image with /a.txt; `fault` hits the sync of /b.txt. */
async function fsFault(page, name, backend, fault, expectKind, expectText) {
  const c = await request(page, { cmd: 'image-create', name, backend, size: 8 << 20, mkfs: {} });
  assert.equal(c.ok, true, JSON.stringify(c));
  const a = pattern(5000, 11);
  assert.equal((await requestWithBytes(page, { cmd: 'image-write-file', name, path: '/a.txt' }, a)).ok, true);
  const arm = await request(page, { cmd: 'image-inject-fault', name, fault });
  assert.equal(arm.ok, true, JSON.stringify(arm));
  const w = await requestWithBytes(page, { cmd: 'image-write-file', name, path: '/b.txt' }, pattern(100_000, 12));
  assert.equal(w.ok, false, `${fault}: the write must fail`);
  assert.equal(w.error.kind, expectKind, JSON.stringify(w.error));
  assert.match(w.error.message, expectText);
  const fsck = await request(page, { cmd: 'image-fsck', name });
  assert.equal(fsck.ok, true, JSON.stringify(fsck));
  assert.equal(fsck.clean, true, `${name} after ${fault}: ${JSON.stringify(fsck.report)}`);
  const r = await request(page, { cmd: 'image-read-file', name, path: '/a.txt' });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(Uint8Array.from(r.bytes), a, `${name}: /a.txt as synced before the fault`);
}

test('storage faults give typed messages and leave images consistent', async () => {
  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await openLibrary(pg, page);

    // A full disk while writing an OPFS image out.
    await seeded(page, 'quota', 'opfs');
    await injected(page, 'quota', 'quota', 'quota-exceeded', /storage quota is full/);
    // The barrier itself failing.
    await seeded(page, 'flush', 'opfs');
    await injected(page, 'flush', 'flush', 'flush-failed', /barrier \(flush\) failed/);
    // The browser aborting the IndexedDB transaction of a save.
    await seeded(page, 'abort', 'idb');
    await injected(page, 'abort', 'idb-abort', 'idb-aborted', /none of that save was stored/);

    // An armed fault with nothing dirty: closing writes nothing, so no error.
    await request(page, { cmd: 'image-open', name: 'quota' });
    await request(page, { cmd: 'image-inject-fault', name: 'quota', fault: 'quota' });
    assert.equal((await request(page, { cmd: 'image-close', name: 'quota' })).ok, true, 'nothing dirty: close is fine');

    // The same faults under the engine, on formatted images: the error is
    // typed, and the filesystem stays consistent (the engine's fsck finds
    // it clean; the file synced before the fault reads back the same).
    await fsFault(page, 'fs-quota', 'opfs', 'quota', 'quota-exceeded', /storage quota is full/);
    await fsFault(page, 'fs-flush', 'opfs', 'flush', 'flush-failed', /barrier \(flush\) failed/);
    await fsFault(page, 'fs-abort', 'idb', 'idb-abort', 'idb-aborted', /none of that save was stored/);
    assert.deepEqual(pg.problems, []);
  } finally {
    await pg.close();
  }
});

test('a second tab cannot take an image another tab holds open', async () => {
  const pg = await openPlayground();
  try {
    const first = pg.context.pages()[0] ?? (await pg.context.newPage());
    await openLibrary(pg, first);
    await seeded(first, 'shared', 'opfs');
    const held = await first.evaluate(() => globalThis.ext4labLibrary.open('shared'));
    assert.equal(held.ok, true, JSON.stringify(held));

    const second = await pg.context.newPage();
    await openLibrary(pg, second);
    // The second tab lists it as busy...
    const row = second.locator('tr[data-image="shared"]');
    assert.match(await row.locator('.library-fs').textContent(), /open in another tab/);
    // ...and opening, writing or deleting it is refused with a typed error.
    const open = await second.evaluate(() => globalThis.ext4labLibrary.open('shared'));
    assert.equal(open.ok, false);
    assert.equal(open.error.kind, 'image-busy');
    assert.equal(open.error.domName, 'NoModificationAllowedError');
    assert.match(open.error.message, /open in another tab or worker/);
    const w = await requestWithBytes(second, { cmd: 'image-write-blocks', name: 'shared', offset: 0 }, pattern(4096, 9));
    assert.equal(w.ok, false);
    assert.equal(w.error.kind, 'image-busy');
    await row.locator('button[data-action="delete"]').click();
    await second.locator('[data-testid="library-status"][data-state="error"][data-kind="image-busy"]').waitFor();
    assert.match(await second.getByTestId('library-status').textContent(), /Deleting shared failed: image 'shared' is open in another tab/);

    // Once the first tab lets go, the second gets it, unchanged.
    assert.equal((await first.evaluate(() => globalThis.ext4labLibrary.close('shared'))).ok, true);
    assert.deepEqual(await firstBlock(second, 'shared'), pattern(4096, 1));
    assert.deepEqual(pg.problems, []);
  } finally {
    await pg.close();
  }
});
