import { EngineClient } from './engine';
import { mountLibrary } from './library';
import type { Hello } from './protocol';

function el(testid: string): HTMLElement {
  const e = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
  if (!e) throw new Error(`missing element ${testid}`);
  return e;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const engine = new EngineClient();
  const hello = await engine.request<Hello>({ cmd: 'hello' });
  const status = el('engine-status');
  if (!hello.ok) {
    status.textContent = `The engine failed to start: ${hello.error.message}`;
    status.classList.add('error');
    return;
  }
  el('engine-version').textContent = `${hello.engine} ${hello.version}`;
  el('engine-crc').textContent = hello.crc32cCheck;
  el('engine-ready-ms').textContent = `${Math.round(performance.now() - t0)} ms`;
  status.textContent = 'Engine ready (running in a Web Worker).';
  status.dataset.state = 'ready';
  mountLibrary(engine, el('library'));
}

void main();
