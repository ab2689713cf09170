// Helpers shared by the image-library page tests (storage*.test.mjs).

/** A seeded byte pattern (xorshift32), so failures are reproducible. */
export function pattern(len, seed) {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Opens the page and switches to its image library view. */
export async function openLibrary(pg, page) {
  await page.goto(pg.url);
  await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: 30_000 });
  await page.getByTestId('view-library').click();
  await page.locator('[data-testid="library"][data-state="ready"]').waitFor({ timeout: 30_000 });
}

/** Send a raw image request through the page's library handle. */
export function request(page, req) {
  return page.evaluate(async (r) => {
    const a = await globalThis.ext4labLibrary.request(r);
    // Uint8Array does not cross evaluate() as bytes; send a plain array.
    if (a.ok && a.bytes) return { ...a, bytes: Array.from(a.bytes) };
    return a;
  }, req);
}

export function requestWithBytes(page, req, bytes) {
  return page.evaluate(
    async ([r, b]) => globalThis.ext4labLibrary.request({ ...r, bytes: new Uint8Array(b) }),
    [req, Array.from(bytes)],
  );
}


/** The first `len` bytes of an image's export (sliced in the page: a whole
 * image does not need to cross the DevTools protocol). */
export function exportPrefix(page, name, len) {
  return page.evaluate(
    async ([n, l]) => {
      const a = await globalThis.ext4labLibrary.request({ cmd: 'image-export', name: n });
      return a.ok ? { ok: true, size: a.size, bytes: Array.from(a.bytes.subarray(0, l)) } : a;
    },
    [name, len],
  );
}
