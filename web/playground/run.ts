// Run controls: strategy (random, PCT, exhaustive DFS under a preemption
// bound), seed, run count, and the four run modes. The buttons are live
// only when the engine build can run scenarios (`capabilities`); otherwise
// the panel says what is missing.
import { fill, h } from '../dom';
import type { LinkStrategy } from '../protocol';
import type { Store } from './store';

export interface Capabilities {
  explore: boolean;
  missing: string[];
}

export function mountRun(root: HTMLElement, store: Store, caps: Capabilities): void {
  const strategy = h(
    'select',
    { 'data-testid': 'strategy', 'aria-label': 'Strategy' },
    h('option', { value: 'random' }, 'random'),
    h('option', { value: 'pct' }, 'PCT'),
    h('option', { value: 'dfs' }, 'exhaustive (DFS+DPOR)'),
  );
  const param = h('input', { type: 'number', min: '0', max: '64', 'data-testid': 'strategy-param', class: 'num' });
  const paramLabel = h('span', { class: 'lbl' });
  const seed = h('input', { type: 'number', min: '0', 'data-testid': 'seed', class: 'num wide' });
  const runs = h('input', { type: 'number', min: '1', max: '1000000', value: '1000', 'data-testid': 'runs', class: 'num wide' });
  const buttons = [
    h('button', { type: 'button', 'data-testid': 'run-once' }, 'Run once'),
    h('button', { type: 'button', 'data-testid': 'run-n' }, 'Run N'),
    h('button', { type: 'button', 'data-testid': 'explore' }, 'Explore'),
    h('button', { type: 'button', 'data-testid': 'step-manual' }, 'Step by hand'),
  ];
  const note = h('p', { class: 'note', 'data-testid': 'run-unavailable' });
  fill(
    root,
    h('div', { class: 'row' }, h('span', { class: 'lbl' }, 'strategy'), strategy, paramLabel, param),
    h('div', { class: 'row' }, h('span', { class: 'lbl' }, 'seed'), seed, h('span', { class: 'lbl' }, 'runs N'), runs),
    h('div', { class: 'row buttons' }, ...buttons),
    note,
  );
  if (!caps.explore) {
    for (const b of buttons) b.disabled = true;
    note.textContent = `Running is not available in this build: it needs ${caps.missing.join(' and ')}, which are not in it yet. Everything else on the page (scenarios, variants, the editor, share links) works; no outcome is ever made up.`;
  } else {
    note.remove();
  }

  const render = (): void => {
    const s = store.state;
    strategy.value = s.strategy.kind;
    if (s.strategy.kind === 'dfs') {
      paramLabel.textContent = 'preemption bound';
      param.value = String(s.strategy.bound);
      param.disabled = false;
    } else if (s.strategy.kind === 'pct') {
      paramLabel.textContent = 'depth';
      param.value = String(s.strategy.depth);
      param.disabled = false;
    } else {
      paramLabel.textContent = '';
      param.value = '';
      param.disabled = true;
    }
    seed.value = String(s.seed);
    seed.disabled = s.strategy.kind === 'dfs';
  };
  store.subscribe((_s, changed) => {
    if (changed.has('strategy') || changed.has('seed') || changed.has('scenario')) render();
  });
  render();

  const readStrategy = (): LinkStrategy => {
    const n = Math.max(0, Math.min(64, Math.floor(Number(param.value) || 0)));
    const sc = store.state.scenario;
    switch (strategy.value) {
      case 'random':
        return { kind: 'random' };
      case 'pct':
        return { kind: 'pct', depth: store.state.strategy.kind === 'pct' ? n : (sc?.explore.pct_depth ?? 3) };
      default:
        return { kind: 'dfs', bound: store.state.strategy.kind === 'dfs' ? n : (sc?.explore.preemption_bound ?? 2) };
    }
  };
  strategy.addEventListener('change', () => store.set({ strategy: readStrategy(), schedule: '', step: null }));
  param.addEventListener('change', () => store.set({ strategy: readStrategy(), schedule: '', step: null }));
  seed.addEventListener('change', () => {
    const v = Math.floor(Number(seed.value));
    if (Number.isSafeInteger(v) && v >= 0) store.set({ seed: v, schedule: '', step: null });
    else seed.value = String(store.state.seed);
  });
}
