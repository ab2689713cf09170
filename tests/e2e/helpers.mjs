// Shared set-up for the end-to-end tests: serve dist/ and drive Debian's
// Chromium through playwright-core (no browser download).
import { chromium } from 'playwright-core';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';

export const ARTIFACTS = process.env.E2E_ARTIFACTS ?? 'artifacts/e2e';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Start the static server on a free port and a persistent Chromium context
 * (persistent so OPFS behaves as it does for a user, not in-memory). */
export async function openPlayground() {
  const { server, url } = await startServer({ root: 'dist', port: 18080 });
  const profile = await mkdtemp(join(tmpdir(), 'ext4lab-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  const problems = [];
  const watch = (page) => {
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    url,
    context,
    problems,
    async close() {
      await context.close();
      await new Promise((r) => server.close(r));
      // The profile is ~6 MB per test; a run used to leave dozens in /tmp.
      await rm(profile, { recursive: true, force: true });
    },
  };
}
