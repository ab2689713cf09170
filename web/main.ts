// Composition root: start the engine worker, then mount each part of the
// page. Keep this file small; each part lives in its own module.
import { byTestId } from './dom';
import { EngineClient } from './engine';
import { mountLibrary } from './library';
import { mountPlayground } from './playground';
import type { Hello } from './protocol';

async function main(): Promise<void> {
  const t0 = performance.now();
  const engine = new EngineClient();
  const status = byTestId(document, 'engine-status');
  const hello = await engine.request<Hello>({ cmd: 'hello' });
  if (!hello.ok) {
    status.textContent = `The engine failed to start: ${hello.error.message}`;
    status.classList.add('error');
    return;
  }
  byTestId(document, 'engine-version').textContent = `${hello.engine} ${hello.version}`;
  byTestId(document, 'engine-crc').textContent = hello.crc32cCheck;
  byTestId(document, 'engine-ready-ms').textContent = `${Math.round(performance.now() - t0)} ms`;
  status.textContent = 'engine ready (Web Worker)';
  status.dataset.state = 'ready';

  try {
    await mountPlayground(byTestId(document, 'playground'), engine);
    // Load to interactive: navigation start to the playground ready.
    byTestId(document, 'interactive-ms').textContent = `${Math.round(performance.now())} ms`;
  } catch (e) {
    status.textContent = `The playground failed to start: ${String(e)}`;
    status.classList.add('error');
  }

  // The image library (OPFS / IndexedDB images), independent of the playground.
  mountLibrary(engine, byTestId(document, 'library'));
}

void main();
