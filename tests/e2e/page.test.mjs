// The page loads, starts the engine worker, and shows the worker's answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openPlayground, ARTIFACTS } from './helpers.mjs';

const cargoVersion = (await readFile('Cargo.toml', 'utf8')).match(/^version = "([^"]+)"/m)[1];

test('the page shows the engine worker answer', async () => {
  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await page.goto(pg.url);
    await page.locator('[data-testid="engine-status"][data-state="ready"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('engine-version').textContent(), `ext4lab ${cargoVersion}`);
    // crc32c("123456789") computed by the engine in wasm, in the worker.
    assert.equal(await page.getByTestId('engine-crc').textContent(), 'e3069283');
    assert.match(await page.getByTestId('engine-ready-ms').textContent(), /^\d+ ms$/);
    // The worker answered from the scenario module (pkg-lite/), the engine
    // module loads on first use.
    assert.match(await page.getByTestId('engine-module').textContent(), /^scenario module/);
    await page.screenshot({ path: join(ARTIFACTS, 'home.png'), fullPage: true });
    assert.deepEqual(pg.problems, [], 'no page errors, console errors or CSP violations');
  } finally {
    await pg.close();
  }
});
