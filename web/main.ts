// Composition root: start the engine worker, then mount each part of the
// page. Keep this file small; each part lives in its own module.
import { byTestId } from './dom';
import { EngineClient } from './engine';
import { mountLibrary } from './library';
import { mountPlayground } from './playground';

/** The page's two views: the playground, and the image library (the
 * images in OPFS / IndexedDB that a run can start from). One shows at a
 * time; the header's buttons and the playground's "image library" link
 * (an `ext4lab-view` event) switch. The view is kept for a reload of the
 * tab (sessionStorage); a new tab or a share link opens the playground. */
function mountViews(): void {
  const views = { playground: byTestId(document, 'playground'), library: byTestId(document, 'library') };
  type View = keyof typeof views;
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('nav.views button[data-view]')];
  const show = (v: View): void => {
    for (const [name, el] of Object.entries(views)) el.hidden = name !== v;
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.view === v));
    document.body.dataset.view = v;
    try {
      sessionStorage.setItem('ext4lab-view', v);
    } catch {
      // Storage refused (private mode): the view is not kept across a reload.
    }
  };
  for (const b of buttons) b.addEventListener('click', () => show(b.dataset.view as View));
  document.addEventListener('ext4lab-view', (e) => {
    const v = (e as CustomEvent<string>).detail;
    if (v in views) {
      show(v as View);
      views[v as View].scrollIntoView({ block: 'start' });
    }
  });
  let kept: string | null = null;
  try {
    kept = sessionStorage.getItem('ext4lab-view');
  } catch {
    kept = null;
  }
  show(kept === 'library' && !location.hash ? 'library' : 'playground');
}

async function main(): Promise<void> {
  mountViews();
  const t0 = performance.now();
  const engine = new EngineClient();
  const status = byTestId(document, 'engine-status');
  const hello = await engine.request({ cmd: 'hello' });
  if (!hello.ok) {
    status.textContent = `The engine failed to start: ${hello.error.message}`;
    status.classList.add('error');
    return;
  }
  byTestId(document, 'engine-version').textContent = `${hello.engine} ${hello.version}`;
  byTestId(document, 'engine-crc').textContent = hello.crc32cCheck;
  byTestId(document, 'engine-module').textContent =
    hello.module === 'scenario' ? 'scenario module; the engine loads with the first run or the image library' : hello.module;
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
