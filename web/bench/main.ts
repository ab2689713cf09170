// bench.html: runs the storage benchmark in a worker and shows the table.
// ?auto starts at once (scripts/bench-browser.mjs uses it); the result is
// also left as JSON in [data-testid="bench-json"].
import type { Figure } from './measure';

interface Result {
  done?: boolean;
  progress?: string;
  error?: string;
  config?: unknown;
  figures?: Figure[];
  ratios?: { id: string; what: string; ratio: number; target?: string }[];
}

function el(id: string): HTMLElement {
  const e = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!e) throw new Error(`missing ${id}`);
  return e;
}

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function run(): void {
  const status = el('bench-status');
  const button = el('bench-run') as HTMLButtonElement;
  button.disabled = true;
  document.body.dataset.state = 'running';
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<Result>) => {
    const r = ev.data;
    if (r.progress) {
      status.textContent = `Running: ${r.progress}…`;
      return;
    }
    worker.terminate();
    button.disabled = false;
    el('bench-json').textContent = JSON.stringify(r, null, 2);
    if (r.error) {
      status.textContent = `Failed: ${r.error}`;
      document.body.dataset.state = 'error';
      return;
    }
    const figs = el('bench-figures');
    figs.replaceChildren();
    for (const f of r.figures ?? []) {
      const tr = document.createElement('tr');
      tr.append(cell(f.what), cell(f.mbps.toFixed(1)), cell(f.ms.toFixed(1)));
      figs.append(tr);
    }
    const rat = el('bench-ratios');
    rat.replaceChildren();
    for (const x of r.ratios ?? []) {
      const tr = document.createElement('tr');
      tr.append(cell(x.what), cell(x.ratio.toFixed(2)), cell(x.target ?? ''));
      rat.append(tr);
    }
    status.textContent = 'Done.';
    document.body.dataset.state = 'done';
  };
  worker.postMessage({});
}

el('bench-run').addEventListener('click', run);
if (new URLSearchParams(location.search).has('auto')) run();
