// The playground page: picker, story, variants and options, the editor's
// errors at line and column, share links (round trip and damaged), and the
// load-to-interactive time. Screenshots go to artifacts/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { openPlayground, ARTIFACTS } from './helpers.mjs';

/** A v1 link made outside the page (the codec's documented wire format). */
function v1(payload) {
  return '#v1.' + deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url');
}

const S5 = await readFile('scenarios/s5-dio-vs-mkwrite.toml', 'utf8');
const AXE = await readFile('node_modules/axe-core/axe.min.js', 'utf8');

/** axe-core's violations on the page as it is now (WCAG 2 A/AA rules). The
 * script is evaluated through the DevTools protocol, outside the page's
 * content security policy. */
async function axeViolations(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ')) }));
  });
}

/** Fails on a serious or critical violation; returns all for the record. */
async function axeCheck(page, name) {
  const all = await axeViolations(page);
  await writeFile(join(ARTIFACTS, `axe-${name}.json`), JSON.stringify(all, null, 1) + '\n');
  const bad = all.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${name}: serious or critical accessibility violations`);
  console.log(`axe ${name}: ${all.length} violation(s), none serious or critical${all.length ? `: ${all.map((v) => `${v.id} (${v.impact})`).join(', ')}` : ''}`);
}

/** The playground is up; `advanced`: open the run controls' Advanced
 * disclosure (strategy, seed, runs, target, base image), which these tests
 * set by hand. */
async function ready(page, { advanced = true } = {}) {
  await page.locator('[data-testid="playground"][data-state="ready"]').waitFor({ timeout: 30_000 });
  if (advanced) await page.getByTestId('run-advanced').evaluate((d) => (d.open = true));
}

/** The share fragment once it reflects the current state (it is debounced). */
async function shareUrl(page) {
  await page.locator('[data-testid="share"][data-state="current"]').waitFor();
  return page.getByTestId('share-url').inputValue();
}

/** The editor's text (CodeMirror keeps its view on the content element). */
async function editorText(page) {
  return page.locator('.cm-content').evaluate((el) => el.cmTile.root.view.state.doc.toString());
}

async function withPage(fn) {
  const pg = await openPlayground();
  try {
    const page = pg.context.pages()[0] ?? (await pg.context.newPage());
    await fn(page, pg);
    assert.deepEqual(pg.problems, [], 'no page errors, console errors or CSP violations');
  } finally {
    await pg.close();
  }
}

test('picker, story, variants, options and the resolved configuration', async () => {
  await withPage(async (page, pg) => {
    // The wasm modules the worker fetches, in order (dedicated workers'
    // requests are the page's in Chromium).
    const wasm = [];
    const finished = [];
    page.on('request', (r) => {
      if (r.url().endsWith('.wasm')) wasm.push(r);
    });
    page.on('requestfinished', (r) => finished.push(r));
    await page.goto(pg.url);
    await ready(page);
    const ms = Number((await page.getByTestId('interactive-ms').textContent()).replace(' ms', ''));
    assert.ok(ms > 0 && ms < 15_000, `interactive after ${ms} ms`);
    // The page becomes interactive on the scenario module alone; the engine
    // module is fetched after (the library, mounted then, lists images).
    const isEngine = (r) => /\/ext4lab_bg[^/]*\.wasm$/.test(r.url());
    for (let i = 0; i < 300 && !finished.some(isEngine); i++) await page.waitForTimeout(100);
    const engine = finished.find(isEngine);
    assert.ok(engine, 'the engine module is fetched once the page is interactive');
    assert.match(wasm[0].url(), /\/ext4lab_lite_bg[^/]*\.wasm$/, 'the first module fetched is the scenario module');
    const interactiveAt = (await page.evaluate(() => performance.timeOrigin)) + ms;
    assert.ok(engine.timing().startTime >= interactiveAt - 5, `the engine module was fetched ${Math.round(interactiveAt - engine.timing().startTime)} ms before the page was interactive`);
    const gz = async (name) => gzipSync(await readFile(join('dist', new URL(name).pathname)), { level: 9 }).length;
    const timings = { loadToInteractiveMs: ms, scenarioModuleGzip: await gz(wasm[0].url()), engineModuleGzip: await gz(engine.url()) };
    await writeFile(join(ARTIFACTS, 'timings.json'), JSON.stringify(timings) + '\n');
    console.log(`load to interactive: ${ms} ms; wasm gzip: scenario module ${timings.scenarioModuleGzip} bytes, engine module ${timings.engineModuleGzip} bytes`);

    // The default scenario is s5, at its default variant (before the fix).
    assert.equal(await page.getByTestId('scenario-picker').inputValue(), 's5');
    assert.match(await page.getByTestId('scenario-title').textContent(), /O_DIRECT read against page_mkwrite/);
    assert.match(await page.getByTestId('scenario-story').textContent(), /inode_dio_begin/);
    assert.ok(await page.getByTestId('variant-v5.5').isChecked());
    assert.equal(await page.getByTestId('config-kernel').textContent(), 'v5.5');
    // Each variant shows the code it stands for and the thread's claim.
    assert.match(await page.getByTestId('variant-claim-ritesh-check-get-block').textContent(), /Code: Ritesh's proposal.*Claim: closes both/);
    assert.equal(await page.getByTestId('config-mount').textContent(), '-o data=ordered,delalloc');
    // Expected outcome rows for this variant and the default options.
    const rows = page.getByTestId('expected-row');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.first().textContent(), /stale-data.*found.*T1 T3/);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-s5.png'), fullPage: true });

    // Options change the configuration and the expected rows.
    await page.getByTestId('option-mount-nodelalloc').check({ force: true });
    await page.waitForFunction(() => document.querySelector('[data-testid="config-mount"]')?.textContent === '-o data=ordered,nodelalloc');
    assert.match(await rows.first().textContent(), /stale-data.*found.*T1 T2/);
    // Jan's reply: stale data must be absent under nodelalloc too.
    await page.getByTestId('variant-jan-mkwrite-unwritten').check();
    await page.waitForFunction(() => document.querySelector('[data-testid="change-p:jan-2019-12-03"]') !== null);
    assert.match(await rows.first().textContent(), /stale-data.*absent/);

    // Another scenario: its own story, variants and tasks.
    await page.getByTestId('scenario-picker').selectOption('s4');
    await page.waitForFunction(() => document.querySelector('[data-testid="scenario-title"]')?.textContent.includes('chattr -j'));
    assert.ok(await page.getByTestId('variant-wb-inside-handle').count());
    assert.match(await page.getByTestId('task-list').textContent(), /kjournald2/);
    assert.equal(await page.getByTestId('variant-v5.5').count(), 0);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-s4.png'), fullPage: true });

    // Honest about what cannot run yet: the scenario target is disabled and
    // the views say why, instead of showing anything made up.
    if (await page.locator('[data-testid="target"] option[value="scenario"]').isDisabled()) {
      assert.match(await page.getByTestId('run-unavailable').textContent(), /cannot run scenarios.*crate\/kernel/);
      await page.getByTestId('tab-outcomes').click();
      assert.match(await page.getByTestId('outcomes-empty').textContent(), /Scenarios cannot run in this build/);
      await page.getByTestId('tab-locks').click();
      assert.match(await page.getByTestId('lock-order').textContent(), /mmap_lock.*invalidate_lock/);
      await page.screenshot({ path: join(ARTIFACTS, 'playground-locks-unavailable.png'), fullPage: true });
    }
  });
});

test('the editor shows errors at their line and column', async () => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    await page.getByTestId('tab-editor').click();
    await page.locator('[data-testid="editor-status"][data-state="valid"]').waitFor();
    // Append a task whose step names a file the image does not have.
    const extra = '\n[[tasks]]\nname = "T9"\nsteps = [{ op = "fsync", file = "nosuch" }]\n';
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText(extra);
    const err = page.getByTestId('editor-error').first();
    await err.waitFor();
    const full = await editorText(page);
    assert.ok(full.startsWith(S5.trimEnd()) && full.includes('"nosuch"'));
    const lines = full.split('\n');
    const line = lines.findIndex((l) => l.includes('"nosuch"')) + 1;
    const text = await err.textContent();
    const m = /^line (\d+), column (\d+) undefined tasks\[\d+\]\.steps\[0\]\.file: .*nosuch/.exec(text);
    assert.ok(m, `error text: ${text}`);
    assert.equal(Number(m[1]), line, text);
    const col = Number(m[2]);
    assert.ok(lines[line - 1].slice(col - 1).startsWith('"nosuch"') || lines[line - 1].slice(col - 1).startsWith('nosuch'), `column ${col} of: ${lines[line - 1]}`);
    assert.equal(await page.getByTestId('editor-status').getAttribute('data-state'), 'errors');
    assert.ok(await page.locator('.cm-lint-marker-error').count(), 'a lint marker in the gutter');
    // The page keeps the last valid scenario.
    assert.equal(await page.getByTestId('scenario-picker').inputValue(), 's5');
    await page.screenshot({ path: join(ARTIFACTS, 'editor-error.png'), fullPage: true });

    // A TOML syntax error: located by the parser.
    await page.keyboard.insertText('[meta\n');
    await page.waitForFunction(() => /syntax/.test(document.querySelector('[data-testid="editor-errors"]')?.textContent ?? ''));
    assert.match(await page.getByTestId('editor-error').first().textContent(), new RegExp(`^line ${lines.length}, column \\d+ syntax`));

    // Undo both edits: valid again, and the built-in is recognised.
    for (let i = 0; i < 20 && (await editorText(page)) !== S5; i++) await page.keyboard.press('Control+z');
    assert.equal(await editorText(page), S5);
    await page.locator('[data-testid="editor-status"][data-state="valid"]').waitFor();
    assert.match(await page.getByTestId('editor-status').textContent(), /built-in s5/);
  });
});

/** Replaces the editor's text as a paste would: one change for the whole
 * document (typing it would let the editor auto-close brackets and indent). */
async function setEditorText(page, text) {
  await page.locator('.cm-content').evaluate((el, t) => {
    const view = el.cmTile.root.view;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } });
  }, text);
  assert.equal(await editorText(page), text);
}

/** Waits for the check of the editor's new text (the status names its scenario). */
function editorValidAs(page, name) {
  return page.waitForFunction((n) => document.querySelector('[data-testid="editor-status"]')?.textContent === `valid: ${n}`, name);
}

/** Issue 20's scenarios, as tests/common/scenario_gen.rs writes them: `n`
 * tasks that each read their own page of f with O_DIRECT `reads` times. */
function readersText(n, reads) {
  const size = 4096 * n;
  let t = `format = 2\n\n[meta]\nid = "many"\nname = "many"\ntitle = "${n} O_DIRECT readers"\nstory = "Each task reads its own page of f with O_DIRECT."\n\n[kernel]\nversion = "v6.9"\n\n[image]\nblocks_count = 8192\n\n[[image.files]]\nname = "f"\nsize = ${size}\nruns = [{ offset = 0, len = ${size}, fill = "A" }]\n\n[[variants]]\nname = "default"\n`;
  for (let i = 0; i < n; i++) {
    const step = `{ op = "read", file = "f", offset = ${4096 * i}, len = 4096, direct = true }`;
    t += `\n[[tasks]]\nname = "T${i}"\nsteps = [${Array(reads).fill(step).join(', ')}]\n`;
  }
  return t;
}

/** One write(2) of 128 KiB over a 96 KiB file, its fsync, and a read. */
const OVERWRITE_128K = `format = 2

[meta]
id = "overwrite"
name = "overwrite"
title = "overwrites"
story = "A 96 KiB file of A, overwritten by the tasks."

[kernel]
version = "v6.9"

[image]
blocks_count = 8192

[[image.files]]
name = "f"
size = 98304
runs = [{ offset = 0, len = 98304, fill = "A" }]

[[variants]]
name = "default"

[[tasks]]
name = "T1"
steps = [
  { op = "write", file = "f", offset = 0, len = 131072, fill = "B" },
  { op = "fsync", file = "f" },
]

[[tasks]]
name = "T2"
steps = [{ op = "read", file = "f", offset = 65536, len = 4096 }]
`;

test('task limits: 40 tasks refused in the editor, a run past the limit is an engine-error outcome, a 128 KiB write runs', async (t) => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    await page.getByTestId('tab-editor').click();
    await page.locator('[data-testid="editor-status"][data-state="valid"]').waitFor();
    const setText = (text) => setEditorText(page, text);
    const validAs = (name) => editorValidAs(page, name);
    const explore = async (runs) => {
      await page.getByTestId('target').selectOption('scenario');
      await page.getByTestId('strategy').selectOption('random');
      await page.getByTestId('runs').fill(String(runs));
      await page.getByTestId('explore').click();
    };

    // Forty tasks: the validator names the limit at the 25th task's lines.
    const forty = readersText(40, 1);
    await setText(forty);
    await page.waitForFunction(() => /at most 24 tasks/.test(document.querySelector('[data-testid="editor-errors"]')?.textContent ?? ''));
    const err = await page.getByTestId('editor-error').filter({ hasText: 'at most 24 tasks' }).first().textContent();
    const m = /^line (\d+), column \d+ .*tasks\[24\].*this scenario has 40/.exec(err);
    assert.ok(m, `error text: ${err}`);
    const headers = forty.split('\n').flatMap((l, i) => (l === '[[tasks]]' ? [i + 1] : []));
    assert.ok(Number(m[1]) >= headers[24] && Number(m[1]) < headers[25], `line ${m[1]} in the 25th task (${headers[24]}..${headers[25]})`);
    assert.equal(await page.getByTestId('editor-status').getAttribute('data-state'), 'errors');
    await page.screenshot({ path: join(ARTIFACTS, 'task-limit-editor.png'), fullPage: true });

    // 24 tasks of three O_DIRECT reads each: valid text, but its bios pass
    // the tasks one execution holds. The run ends with an engine-error
    // outcome naming the task that was one too many; the worker lives on.
    await setText(readersText(24, 3));
    await validAs('many');
    await explore(3);
    // One row per task that was one too many.
    const row = page.getByTestId('outcome-engine-error').first();
    await row.waitFor({ timeout: 120_000 });
    assert.match(await row.textContent(), /engine-error/);
    assert.match(await page.locator('[data-testid="outcome-engine-error"] + tr.msg').first().textContent(), /more than \d+ tasks in one execution .* is one too many/);
    await page.screenshot({ path: join(ARTIFACTS, 'task-limit-engine-error.png'), fullPage: true });

    // Issue 20's 128 KiB overwrite: every execution runs to its end, nothing
    // to report (the worker that ran the run above answers this one).
    await setText(OVERWRITE_128K);
    await validAs('overwrite');
    await explore(20);
    await page.getByTestId('no-outcome').waitFor({ timeout: 120_000 });
    const status = await page.getByTestId('explore-status').textContent();
    assert.match(status, /\b20 executions \(20 complete, 0 cut by the step limit\)/, status);

    // Issue 14: a store past EOF after the program's own truncate gets
    // SIGBUS, which mmap(2) lists: an expected error, named quietly under
    // "No outcome", not counted as one.
    await setText(SIGBUS_PAST_TRUNCATE);
    await validAs('expected-sigbus');
    await explore(3);
    await page.getByTestId('no-outcome').waitFor({ timeout: 60_000 });
    const quiet = await page.getByTestId('expected-errors').textContent();
    assert.match(quiet, /T1 store: SIGBUS in 3 executions/, quiet);
    assert.equal(await page.getByTestId('outcome-user-visible-error').count(), 0);
  });
});

const SIGBUS_PAST_TRUNCATE = `format = 2

[meta]
id = "expected-sigbus"
name = "expected-sigbus"
title = "a store past the program's own truncate"
story = "T1 shrinks f to one page, then stores into page 1 through its mapping: SIGBUS, as mmap(2) says."

[kernel]
version = "v6.9"

[image]
journal = true

[[image.files]]
name = "f"
size = 8192
runs = [{ offset = 0, len = 8192, fill = "A" }]

[[variants]]
name = "default"

[[processes]]
name = "P"
mappings = [{ name = "m", file = "f", len = 8192 }]

[[tasks]]
name = "T1"
process = "P"
steps = [
  { op = "truncate", file = "f", size = 4096 },
  { op = "store", mapping = "m", offset = 5000, len = 16, fill = "B" },
]
`;

test('a damaged or tampered link gets a message and a working page', async () => {
  await withPage(async (page, pg) => {
    for (const [fragment, kind] of [
      ['#v1.AAAA', 'link-decompress'],
      ['#v1.%%%', 'link-bad-base64'],
      ['#v9.abc', 'link-unknown-version'],
      ['#hello', 'link-bad-prefix'],
    ]) {
      await page.goto(pg.url + fragment);
      await ready(page);
      // A fragment-only change is a same-document navigation: the previous
      // link's message may still be up until the page handles the new hash,
      // so wait for this link's kind (a wrong kind times out and fails).
      const alert = page.locator(`[data-testid="link-error"][data-kind="${kind}"]`);
      await alert.waitFor({ timeout: 15_000 });
      assert.equal(await alert.getAttribute('data-kind'), kind, fragment);
      assert.equal(await page.getByTestId('scenario-picker').inputValue(), 's5', 'default scenario opened');
      if (kind === 'link-decompress') await page.screenshot({ path: join(ARTIFACTS, 'damaged-link.png'), fullPage: true });
    }
    // Tampering: a valid link with its payload altered never opens silently.
    await page.goto(pg.url);
    await ready(page);
    const good = new URL(await shareUrl(page)).hash;
    const bad = good.slice(0, 12) + (good[12] === 'A' ? 'B' : 'A') + good.slice(13);
    await page.goto(pg.url + bad);
    await ready(page);
    await page.getByTestId('link-error').waitFor();
    // Markup in a link is never interpreted: it is shown as text, if at all.
    await page.goto(pg.url + '#v1.<img src=x onerror=alert(1)>');
    await ready(page);
    await page.getByTestId('link-error').waitFor();
    assert.equal(await page.locator('[data-testid="link-error"] img').count(), 0);
    // A well-formed payload with a key v1 does not have: refused, not ignored.
    await page.goto(pg.url + v1({ b: { id: 's2', h: '0'.repeat(16) }, v: 'fault-retry', s: { k: 'random' }, r: 1, evil: 1 }));
    await ready(page);
    // Same-document navigation again: wait for this link's kind (see above).
    await page.locator('[data-testid="link-error"][data-kind="link-bad-payload"]').waitFor({ timeout: 15_000 });
    // A link to a built-in that changed since: a message, and the choice to open it anyway.
    await page.goto(pg.url + v1({ b: { id: 's3', h: '0'.repeat(16) }, v: 'migrate-flag-retval', s: { k: 'pct', d: 4 }, r: 9 }));
    await ready(page);
    await page.locator('[data-testid="link-error"][data-kind="link-hash-mismatch"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('link-open-anyway').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="scenario-picker"]')?.value === 's3');
    // The link's old variant name is migrated to the revision-2 name.
    assert.ok(await page.getByTestId('variant-flag-retval').isChecked());
    assert.equal(await page.getByTestId('link-error').count(), 0);
    assert.equal(await page.getByTestId('strategy').inputValue(), 'pct');
    // The page still works after a bad link.
    await page.getByTestId('scenario-picker').selectOption('s1');
    await page.waitForFunction(() => document.querySelector('[data-testid="scenario-title"]')?.textContent.includes('Inline-data'));
  });
});

test('a share link restores the page state in a fresh page', async () => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    assert.equal(await page.getByTestId('scenario-picker').inputValue(), 's5');
    await page.getByTestId('variant-jan-dio-begin-early').check();
    await page.getByTestId('option-mount-nodelalloc').check({ force: true });
    await page.getByTestId('strategy').selectOption('pct');
    await page.getByTestId('strategy-param').fill('5');
    await page.getByTestId('strategy-param').dispatchEvent('change');
    await page.getByTestId('seed').fill('4242');
    await page.getByTestId('seed').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelector('[data-testid="change-p:jan-2019-11-29"]') !== null);
    const url = await shareUrl(page);
    const fragment = new URL(url).hash;
    assert.ok(fragment.length <= 2048, `built-in link is ${fragment.length} characters`);

    const fresh = await pg.context.newPage();
    await fresh.goto(url);
    await ready(fresh);
    assert.equal(await fresh.getByTestId('link-error').count(), 0);
    assert.equal(await fresh.getByTestId('scenario-picker').inputValue(), 's5');
    assert.ok(await fresh.getByTestId('variant-jan-dio-begin-early').isChecked());
    assert.ok(await fresh.getByTestId('option-mount-nodelalloc').isChecked());
    assert.equal(await fresh.getByTestId('strategy').inputValue(), 'pct');
    assert.equal(await fresh.getByTestId('strategy-param').inputValue(), '5');
    assert.equal(await fresh.getByTestId('seed').inputValue(), '4242');
    await fresh.waitForFunction(() => document.querySelector('[data-testid="config-mount"]')?.textContent === '-o data=ordered,nodelalloc');
    assert.equal(await shareUrl(fresh), url, 'the restored page produces the same link');
    await fresh.screenshot({ path: join(ARTIFACTS, 'link-restored.png'), fullPage: true });

    // A user scenario travels whole: edit the title, share, reopen.
    await page.getByTestId('tab-editor').click();
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Control+f').catch(() => {});
    await page.keyboard.press('Escape');
    const editedUrlBefore = url;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText('\n# edited by the playground test\n');
    await page.waitForFunction(() => document.querySelector('[data-testid="scenario-picker"]')?.value === '');
    const custom = await shareUrl(page);
    assert.notEqual(custom, editedUrlBefore);
    const again = await pg.context.newPage();
    await again.goto(custom);
    await ready(again);
    assert.equal(await again.getByTestId('link-error').count(), 0);
    assert.equal(await again.getByTestId('scenario-picker').inputValue(), '');
    assert.ok(await again.getByTestId('variant-jan-dio-begin-early').isChecked());
    await again.getByTestId('tab-editor').click();
    await again.locator('[data-testid="editor-status"][data-state="valid"]').waitFor();
  });
});

// Opens the stored S5 stale-data link in `page` and waits for its replay;
// null when this build cannot run scenarios.
async function openStoredS5Link(page, pg) {
  const fx = JSON.parse(await readFile('tests/fixtures/replay/s5-v5.5-mount-delalloc-stale-data.json', 'utf8'));
  await page.goto(pg.url);
  await ready(page);
  if (await scenariosCannotRun(page)) return null;
  await page.goto(pg.url + fx.link);
  await ready(page);
  await page.getByTestId('trace-hash').waitFor({ timeout: 60_000 });
  return fx;
}

test('a stored s5 replay link opens, replays, and shows the stale data with the native trace hash', async (t) => {
  await withPage(async (page, pg) => {
    const fx = await openStoredS5Link(page, pg);
    if (!fx) return t.skip(NO_ENGINE);
    assert.equal(await page.getByTestId('link-error').count(), 0);
    // tests/kernel_replay.rs checks the same hash natively.
    assert.equal(await page.getByTestId('trace-hash').textContent(), fx.trace_hash);
    assert.match(await page.getByTestId('run-header').textContent(), /stale-data/);
    await page.screenshot({ path: join(ARTIFACTS, 's5-replay-link.png'), fullPage: true });
    // The disk image at the chosen step downloads as an ext4 image.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-image').click()]);
    const img = await readFile(await dl.path());
    assert.equal(img.readUInt16LE(0x438), 0xef53, 'ext4 superblock magic');
  });
});

test('a link another engine made: the page says so, and "find it again" opens the outcome anew', async (t) => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    // S1's deadlock, said to be made by ext4lab 0.1.9, with a schedule this
    // engine cannot follow (tests/replay_refind_cli.rs uses the same link).
    // It names S1's text of then: the page says the built-in changed, and
    // opening it with today's text replays the schedule until it diverges.
    const old = (await readFile('tests/fixtures/links/v3-s1-deadlock-diverging.txt', 'utf8')).split('\n')[0];
    await page.goto(pg.url + old);
    await ready(page);
    await page.locator('[data-testid="link-error"][data-kind="link-hash-mismatch"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('link-open-anyway').click();
    const banner = page.getByTestId('link-diverged');
    await banner.waitFor({ timeout: 60_000 });
    assert.match(await banner.textContent(), /made with ext4lab 0\.1\.9; its schedule diverged at step \d+/);
    await page.getByTestId('link-refind').click();
    // The new link replays to the deadlock, made by this engine.
    await page.locator('[data-testid="run-end"]', { hasText: 'Deadlock' }).waitFor({ timeout: 120_000 });
    assert.equal(await page.getByTestId('link-diverged').count(), 0);
    const now = await shareUrl(page);
    assert.ok(now.includes('#v3.') && !now.endsWith(old), now);
    await page.screenshot({ path: join(ARTIFACTS, 'link-refound.png'), fullPage: true });
  });
});

// ---- exploration of scenarios: needs crate/kernel on main ----
// These run as soon as the build can run scenarios (capabilities.explore);
// until then the page disables the scenario target and they skip.

async function scenariosCannotRun(page) {
  return page.locator('[data-testid="target"] option[value="scenario"]').isDisabled();
}

const NO_ENGINE = 'needs the kernel paths (crate/kernel) on main to run scenarios; the simulator is there, and playground_sim.test.mjs drives its reference models through the same views';

// PCT finds s5's stale read in about 1 execution in 3000 (natively,
// `ext4lab explore s5 --strategy pct`: seeds 1-4 and 6 find nothing in
// 2000 runs; seed 1 finds it 7 times in 20000). With seed 5 it is found by
// luck: execution 115 of one whole run, or execution 81 of shard 1/2 when
// split over two workers (each shard's PCT learns its own change-point
// range, so a split draws other schedules); the page sends the same seed,
// depth, variant and options as the CLI and merges the shards, and wasm
// gives the same executions as native. Today's page finds it with PCT in
// about 1.2 s on 2 workers; the 240 s failure that had this test skipped
// does not reproduce on this main. Whether PCT finds it still depends on
// the worker count (navigator.hardwareConcurrency), so this test explores
// with S5's own strategy, exhaustive DFS+DPOR with no preemption bound,
// which finds the stale read within its first executions (the 46th when
// one worker runs it) on any number of workers.
test('s5 before the fix: exploring finds stale data, its disk view and link replay', async (t) => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    assert.equal(await page.getByTestId('scenario-picker').inputValue(), 's5');
    await page.getByTestId('variant-v5.5').check();
    await page.getByTestId('target').selectOption('scenario');
    assert.equal(await page.getByTestId('strategy').inputValue(), 'dfs', "the scenario's own strategy");
    await page.getByTestId('runs').fill('2000');
    const t0 = Date.now();
    await page.getByTestId('explore').click();
    await page.getByTestId('outcome-stale-data').waitFor({ timeout: 240_000 });
    console.log(`s5 stale data found by exploring in ${Date.now() - t0} ms`);
    await page.screenshot({ path: join(ARTIFACTS, 's5-outcomes.png'), fullPage: true });
    await page.getByTestId('outcome-stale-data').getByTestId('show-outcome').click();
    await page.getByTestId('timeline-svg').waitFor();
    const hash = await page.getByTestId('trace-hash').textContent();
    assert.match(hash, /^[0-9a-f]{16}$/);
    await page.screenshot({ path: join(ARTIFACTS, 's5-timeline.png'), fullPage: true });

    // The disk tab at the outcome's step: the block the read returned is
    // mapped into f and still holds the deleted secret's bytes.
    await page.getByTestId('tab-disk').click();
    await page.getByTestId('disk-status').waitFor({ timeout: 60_000 });
    const exposed = page.locator('[data-testid="disk-panel"] [data-testid="disk-block"][data-which="at"][data-exposed="true"]');
    assert.ok((await exposed.count()) >= 1, 'the exposed block is drawn');
    assert.equal(await exposed.first().getAttribute('data-state'), 'stale');
    assert.equal(await exposed.first().getAttribute('data-file'), 'f');
    assert.match(await page.getByTestId('disk-exposed').first().textContent(), /secret/);
    // At the start the same logical block is a hole.
    const lblk = await exposed.first().getAttribute('data-lblk');
    assert.equal(await page.locator(`[data-testid="disk-panel"] [data-testid="disk-block"][data-which="start"][data-file="f"][data-lblk="${lblk}"]`).getAttribute('data-state'), 'hole');
    await page.getByTestId('journal-at').getByTestId('journal-transactions').waitFor();
    await page.getByTestId('journal-at').getByTestId('journal-strip').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 's5-disk.png'), fullPage: true });

    const url = await shareUrl(page);
    const fresh = await pg.context.newPage();
    await fresh.goto(url);
    await ready(fresh);
    await fresh.getByTestId('trace-hash').waitFor({ timeout: 60_000 });
    assert.equal(await fresh.getByTestId('trace-hash').textContent(), hash);
    assert.match(await fresh.getByTestId('run-header').textContent(), /stale-data/);
    assert.ok(fresh.url().length - fresh.url().indexOf('#') <= 2048, 'link within 2 KB');
    await fresh.screenshot({ path: join(ARTIFACTS, 's5-link-replayed.png'), fullPage: true });
  });
});

test('the disk tab of the stored s5 link: stale block, extents before and after, journal transactions', async (t) => {
  await withPage(async (page, pg) => {
    const fx = await openStoredS5Link(page, pg);
    if (!fx) return t.skip(NO_ENGINE);
    await page.getByTestId('tab-disk').click();
    await page.getByTestId('disk-status').waitFor({ timeout: 60_000 });
    // Defaults to the outcome's step.
    assert.notEqual(await page.getByTestId('disk-status').getAttribute('data-step'), 'end');
    const stale = page.locator('[data-testid="disk-panel"] [data-testid="disk-block"][data-which="at"][data-state="stale"]');
    assert.equal(await stale.count(), 1);
    assert.equal(await stale.getAttribute('data-exposed'), 'true');
    assert.match(await page.getByTestId('disk-file-f').getByTestId('extents-start').textContent(), /written/);
    await page.screenshot({ path: join(ARTIFACTS, 's5-disk-link.png'), fullPage: true });
    // The end of the run (no step chosen is the outcome's; clicking the
    // last step of the timeline moves the view): the journal has
    // committed transactions with descriptor tags and a commit block.
    const outcomeStep = Number(await page.getByTestId('disk-status').getAttribute('data-step'));
    await page.getByTestId('tab-timeline').click();
    const svg = page.getByTestId('timeline-svg');
    const width = Number(await svg.getAttribute('width'));
    await svg.click({ position: { x: width - 3, y: 30 } });
    const last = Number(await page.getByTestId('current-step').textContent());
    assert.ok(last > outcomeStep, `last step ${last} after the outcome's ${outcomeStep}`);
    await page.getByTestId('tab-disk').click();
    await page.locator(`[data-testid="disk-status"][data-step="${last}"]`).waitFor({ timeout: 60_000 });
    const txs = page.getByTestId('journal-at').getByTestId('journal-tx');
    assert.ok((await txs.count()) >= 1, 'a committed transaction in the log');
    assert.match(await txs.first().textContent(), /block \d+/);
    await page.screenshot({ path: join(ARTIFACTS, 's5-disk-end.png'), fullPage: true });
  });
});

test('s5 fixed variant: exhaustive exploration reports no stale data', async (t) => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    await page.getByTestId('variant-jan-dio-begin-early').check();
    await page.getByTestId('target').selectOption('scenario');
    await page.getByTestId('strategy').selectOption('dfs');
    await page.getByTestId('runs').fill('1000000');
    await page.getByTestId('explore').click();
    await page.locator('[data-testid="explore-status"][data-state="exhausted"]').waitFor({ timeout: 300_000 });
    console.log(`s5 fixed variant: ${(await page.getByTestId('explore-status').textContent()).split(' · ').slice(1).join(' · ')}`);
    assert.equal(await page.getByTestId('outcome-stale-data').count(), 0);
    await page.screenshot({ path: join(ARTIFACTS, 's5-fixed-exhaustive.png'), fullPage: true });
  });
});

// Unbounded exploration of most built-ins runs for minutes (issue 15); a
// legitimate program from tests/fixtures/legit/ completes in 174
// executions (`ext4lab explore tests/fixtures/legit/dio-read-data-journal.toml
// --strategy dfs --bound none`: 174, complete, 0.3 s natively).
test('no preemption bound: a program explored in every interleaving, and the link keeps it', async (t) => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    await page.getByTestId('tab-editor').click();
    await setEditorText(page, await readFile('tests/fixtures/legit/dio-read-data-journal.toml', 'utf8'));
    await editorValidAs(page, 'legit-dio-read-data-journal');
    await page.getByTestId('target').selectOption('scenario');
    await page.getByTestId('strategy').selectOption('dfs');
    await page.getByTestId('no-bound').check();
    assert.ok(await page.getByTestId('strategy-param').isDisabled(), 'no number while there is no bound');
    await page.getByTestId('runs').fill('1000000');
    const t0 = Date.now();
    await page.getByTestId('explore').click();
    await page.locator('[data-testid="explore-status"][data-state="exhausted"]').waitFor({ timeout: 120_000 });
    const status = await page.getByTestId('explore-status').textContent();
    console.log(`dio-read-data-journal, no bound: ${Date.now() - t0} ms: ${status.split(' · ').slice(1).join(' · ')}`);
    assert.match(status, /every interleaving of this model explored \(no preemption bound\)/);
    // Unsharded: one worker (sharding multiplies an unbounded search's work).
    assert.match(status, /· 1 worker, \d+ ms$/);
    await page.getByTestId('no-outcome').waitFor();
    // The share link carries "no bound"; a fresh page restores the tick.
    const url = await shareUrl(page);
    const fresh = await pg.context.newPage();
    await fresh.goto(url);
    await ready(fresh);
    assert.ok(await fresh.getByTestId('no-bound').isChecked());
    assert.equal(await fresh.getByTestId('strategy-param').inputValue(), '');
    // Unticking goes back to the scenario's own bound.
    await fresh.getByTestId('no-bound').uncheck();
    assert.equal(await fresh.getByTestId('strategy-param').inputValue(), '2');
  });
});

/** The timeline's current step. */
async function at0(page) {
  return Number(await page.getByTestId('current-step').textContent());
}

// The first minute of a new user: the page opens on the race; one click
// finds S5's stale read and shows its shortest schedule with a sentence
// saying what happened; a second checks the fix the scenario names.
test('the first minute: one click finds the S5 race, a second checks the fix', async (t) => {
  await withPage(async (page, pg) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(pg.url);
    await ready(page, { advanced: false });
    // Advanced run controls stay folded: the Race tab needs none of them.
    assert.equal(await page.getByTestId('run-advanced').evaluate((d) => d.open), false);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    assert.equal(await page.getByTestId('tab-overview').getAttribute('aria-selected'), 'true', 'the page opens on the race');
    await page.getByTestId('overview-table').waitFor();
    assert.equal(await page.getByTestId('overview-run-v5.5').textContent(), 'Find the race');
    assert.equal(await page.getByTestId('overview-run-dioread-nolock-default').textContent(), 'Check every interleaving');
    // A proposed fix whose rows expect only the kernel's own warning found
    // is checked, not raced: the race is the default variant's stale data.
    assert.equal(await page.getByTestId('overview-run-jan-dio-begin-early').textContent(), 'Check every interleaving');
    await page.screenshot({ path: join(ARTIFACTS, 'first-minute-open.png') });
    await axeCheck(page, 'race-tab');

    const t1 = Date.now();
    await page.getByTestId('overview-run-v5.5').click();
    await page.getByTestId('run-sentence').waitFor({ timeout: 240_000 });
    const findMs = Date.now() - t1;
    assert.equal(await page.getByTestId('tab-timeline').getAttribute('aria-selected'), 'true');
    await page.getByTestId('timeline-svg').waitFor();
    const sentence = await page.getByTestId('run-sentence').textContent();
    assert.match(sentence, /^Stale data: T1's read of f at offset \d+ returned \d+ bytes written by secret \(stale\), block \d+ \(in iomap_dio_rw\); T3 also involved\.$/, sentence);
    assert.match(await page.getByTestId('race-banner').textContent(), /Now try the fix: dioread-nolock-default/);
    await page.screenshot({ path: join(ARTIFACTS, 'first-minute-race.png') });
    await axeCheck(page, 'timeline');

    // Under the timeline, the files' blocks at the shown step (the outcome's):
    // the block the read returned is marked exposed.
    const outcomeStep = await at0(page);
    await page.locator(`[data-testid="step-disk-status"][data-step="${outcomeStep}"]`).waitFor({ timeout: 30_000 });
    const exposedAt = page.locator('[data-testid="step-disk"] [data-testid="disk-block"][data-which="at"][data-exposed="true"]');
    assert.ok((await exposedAt.count()) >= 1, 'the exposed block is drawn under the timeline');
    const lblk = await exposedAt.first().getAttribute('data-lblk');
    const stateThen = await exposedAt.first().getAttribute('data-state');

    // Play the schedule: the controls and the keyboard move one step at a time.
    const at = async () => Number(await page.getByTestId('current-step').textContent());
    await page.getByTestId('tl-first').click();
    assert.equal(await at(), 0);
    // The blocks follow the step: at step 0 that block of f is not yet in
    // the state the race left it in.
    await page.locator('[data-testid="step-disk-status"][data-step="0"]').waitFor({ timeout: 30_000 });
    const state0 = await page.locator(`[data-testid="step-disk"] [data-testid="disk-block"][data-which="at"][data-file="f"][data-lblk="${lblk}"]`).getAttribute('data-state');
    assert.notEqual(state0, stateThen, `lblk ${lblk}: ${state0} at step 0, ${stateThen} at step ${outcomeStep}`);
    await page.getByTestId('tl-forward').click();
    assert.equal(await at(), 1);
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('ArrowRight');
    assert.equal(await at(), 2);
    assert.ok((await page.getByTestId('running-task').count()) >= 1, 'the running task is marked');
    await page.keyboard.press(' ');
    assert.equal(await page.getByTestId('tl-play').getAttribute('data-state'), 'playing');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="current-step"]')?.textContent) >= 4);
    await page.keyboard.press(' ');
    assert.equal(await page.getByTestId('tl-play').getAttribute('data-state'), 'paused');
    await page.getByTestId('tl-last').click();
    const last = await at();
    await page.locator(`[data-testid="step-disk-status"][data-step="${last}"]`).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'first-minute-play-blocks.png'), fullPage: true });

    const t2 = Date.now();
    await page.getByTestId('race-banner').getByTestId('overview-try-fix').click();
    const verdict = page.getByTestId('overview-panel').getByTestId('overview-fix-verdict');
    await page.locator('[data-testid="overview-panel"] [data-testid="overview-fix-verdict"][data-state="none-complete"]').waitFor({ timeout: 300_000 });
    const fixMs = Date.now() - t2;
    // The race is closed; the WARN of a dirty page left by the invalidation
    // stays (v5.6's iomap_dio_rw still warns), and the verdict says so.
    assert.match(await verdict.textContent(), /no interleaving at all reaches stale-data \(\d+ executions, complete\); it does show kernel-warning/);
    assert.equal(await page.getByTestId('tab-overview').getAttribute('aria-selected'), 'true', 'the verdict is shown where it was asked');
    assert.equal(await page.getByTestId('overview-verdict-dioread-nolock-default').getAttribute('data-state'), 'none-complete');
    // S5 explores every interleaving, but finding the race deepened the
    // bound: nothing with 0 preemptions (complete), the race with 1, and
    // that search stopped once the row's kinds had shown (the schedule
    // shown has the fewest preemptions of any).
    assert.match(await page.getByTestId('overview-verdict-v5.5').textContent(), /^found .*stopped once found under preemption bound 1\)$/);
    console.log(`first minute: race found and shown in ${findMs} ms, fix checked in ${fixMs} ms`);
    await page.screenshot({ path: join(ARTIFACTS, 'first-minute-fix.png') });
    await page.setViewportSize({ width: 800, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS, 'first-minute-800.png') });
  });
});

// The custom kernel panel: S5's "before" variant (v5.5) with Jan's first
// proposal ticked is the variant jan-dio-begin-early, built by hand:
// exhaustive exploration finds no stale data under delalloc. Ticking a
// proposal ticks what it needs; the share link carries the custom kernel.
test('a custom kernel: tick a proposal on v5.5, check every interleaving, share it', async (t) => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    await page.getByTestId('variant-v5.5').check();
    // Each variant names its kernel and changes, linked to their sources.
    assert.match(await page.getByTestId('variant-kernel-jan-dio-begin-early').textContent(), /Kernel v5\.5 \+p:jan-2019-11-29/);
    assert.match(
      await page.getByTestId('variant-kernel-dioread-nolock-default').locator('a[data-change="244adf6426ee"]').getAttribute('href'),
      /git\.kernel\.org.*id=244adf6426ee/,
    );
    await page.getByTestId('custom-kernel').locator('summary').click();
    const box = (id) => page.getByTestId(`custom-change-${id}`);
    await box('p:jan-2019-11-29').waitFor();
    assert.equal(await page.getByTestId('custom-version').inputValue(), 'v5.5');
    assert.ok(await box('b1b4705d54ab').isChecked(), 'v5.5 has the iomap DIO conversion');
    assert.ok(!(await box('244adf6426ee').isChecked()), 'v5.5 lacks the dioread_nolock default');
    assert.equal(await page.getByTestId('kernel-custom-tag').count(), 0);
    // A change no kernel path models cannot be ticked (it would change nothing).
    assert.ok(await box('cb85f4d23f79').isDisabled());

    // Ritesh's proposal sits on top of Jan's: ticking it ticks both;
    // unticking Jan's unticks Ritesh's, and the variant's kernel is back.
    await box('p:ritesh-2019-12-03').check();
    await page.getByTestId('kernel-custom-tag').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="custom-change-p:jan-2019-11-29"]')?.checked);
    await page.getByTestId('config-changes').getByTestId('change-p:ritesh-2019-12-03').waitFor();
    await box('p:jan-2019-11-29').uncheck();
    await page.waitForFunction(() => !document.querySelector('[data-testid="kernel-custom-tag"]'));
    assert.ok(!(await box('p:ritesh-2019-12-03').isChecked()));

    // A version that is not one: the worker's error, shown where it was typed.
    await page.getByTestId('custom-version').fill('v5');
    await page.getByTestId('custom-version').press('Enter');
    await page.getByTestId('custom-error').waitFor();
    assert.match(await page.getByTestId('custom-error').textContent(), /`v5` is not a kernel version/);
    await page.getByTestId('custom-version').fill('v5.5');
    await page.getByTestId('custom-version').press('Enter');
    await page.waitForFunction(() => !document.querySelector('[data-testid="custom-error"]'));

    // Jan's first proposal, by hand: no stale data in any interleaving.
    await box('p:jan-2019-11-29').check();
    await page.getByTestId('kernel-custom-tag').waitFor();
    await page.getByTestId('config-changes').getByTestId('change-p:jan-2019-11-29').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'custom-kernel.png'), fullPage: true });
    await page.getByTestId('target').selectOption('scenario');
    await page.getByTestId('strategy').selectOption('dfs');
    await page.getByTestId('runs').fill('1000000');
    await page.getByTestId('explore').click();
    await page.locator('[data-testid="explore-status"][data-state="exhausted"]').waitFor({ timeout: 300_000 });
    console.log(`s5 v5.5 + p:jan-2019-11-29: ${(await page.getByTestId('explore-status').textContent()).split(' · ').slice(1).join(' · ')}`);
    assert.equal(await page.getByTestId('outcome-stale-data').count(), 0);

    // The link carries it: a fresh page opens on the same custom kernel.
    const url = await shareUrl(page);
    const fresh = await pg.context.newPage();
    await fresh.goto(url);
    await ready(fresh);
    await fresh.getByTestId('kernel-custom-tag').waitFor();
    await fresh.getByTestId('config-changes').getByTestId('change-p:jan-2019-11-29').waitFor();
    assert.equal(await shareUrl(fresh), url, 'the restored page produces the same link');
    // Back to the variant's own kernel: the link no longer carries one.
    await fresh.getByTestId('custom-reset').click();
    await fresh.waitForFunction(() => !document.querySelector('[data-testid="kernel-custom-tag"]'));
    await fresh.waitForFunction((u) => document.querySelector('[data-testid="share-url"]')?.value !== u, url);
  });
});

// S2 convert-under-mmap-lock: page_mkwrite converts inline data under
// mmap_lock while write(2) holds i_rwsem and faults on the same mapping.
// Natively `ext4lab explore s2 --variant convert-under-mmap-lock --strategy
// pct` (seed 2, 2000 runs) deadlocks in 71 of them.
test('a deadlock scenario shows its wait-for cycle', async (t) => {
  await withPage(async (page, pg) => {
    await page.goto(pg.url);
    await ready(page);
    if (await scenariosCannotRun(page)) return t.skip(NO_ENGINE);
    await page.getByTestId('scenario-picker').selectOption('s2');
    await page.waitForFunction(() => document.querySelector('[data-testid="scenario-title"]')?.textContent.includes('page_mkwrite on an inline-data file'));
    // S2's proposals name their own bound (every interleaving), the current
    // code 3. The Run tab follows the chosen variant.
    await page.waitForFunction(() => document.querySelector('[data-testid="overview-bound-fault-retry"]')?.textContent.includes('every interleaving'));
    assert.match(await page.getByTestId('overview-bound-convert-xattr-sem-only').textContent(), /at most 3 preemptions/);
    assert.equal(await page.getByTestId('no-bound').isChecked(), false);
    await page.getByTestId('variant-convert-under-mmap-lock').check();
    await page.waitForFunction(() => document.querySelector('[data-testid="no-bound"]')?.checked === true);
    await page.getByTestId('target').selectOption('scenario');
    await page.getByTestId('strategy').selectOption('pct');
    await page.getByTestId('runs').fill('2000');
    await page.getByTestId('explore').click();
    await page.getByTestId('outcome-deadlock').waitFor({ timeout: 240_000 });
    await page.screenshot({ path: join(ARTIFACTS, 's2-deadlock-outcomes.png'), fullPage: true });
    await page.getByTestId('outcome-deadlock').getByTestId('show-outcome').click();
    await page.getByTestId('timeline-svg').waitFor();
    await page.getByTestId('tab-locks').click();
    const cycle = await page.getByTestId('wait-for-cycle').textContent();
    assert.match(cycle, /mmap_lock/);
    assert.match(cycle, /i_rwsem/);
    await page.screenshot({ path: join(ARTIFACTS, 's2-deadlock-cycle.png'), fullPage: true });
  });
});
