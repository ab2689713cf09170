// Run controls: what to run (the scenario, or one of the simulator's
// reference models while this build has no kernel paths), the strategy
// (random, PCT, exhaustive DFS+DPOR under a preemption bound), seed, run
// count, and four modes: one run, N runs, explore, and stepping by hand
// (choose the next task at every step, undo). Long operations show
// progress and can be cancelled; they run in workers, never on the page.
import { fill, h } from '../dom';
import type { EngineClient } from '../engine';
import { NO_BOUND, variantBound } from '../protocol';
import type { Capabilities, ExploreBody, LinkStrategy, RunBody, Target } from '../protocol';
import { mountBaseSelect } from '../library';
import { ExplorerPool } from './pool';
import type { Store } from './store';

export type { Capabilities };

export interface RunHooks {
  /** An exploration (or one run) finished. */
  explored(r: ExploreBody, target: Target, what: string, strategy: LinkStrategy, workers: number, ms: number): void;
  /** Show one execution (a replay or a manual prefix). */
  show(run: RunBody, target: Target, what: string): void;
  status(text: string, state: string): void;
}

/** What other views may start: an exploration with the run controls'
 * machinery (workers, progress, cancel), answering its report. */
export interface RunHandle {
  /** `stopWhenFound`: outcome kind names; the search stops once each has
   * shown (finding a race, not proving it absent). */
  explore(strategy: LinkStrategy, total: number, label: string, stopWhenFound?: string[]): Promise<{ report: ExploreBody; target: Target } | null>;
}

export function mountRun(root: HTMLElement, store: Store, caps: Capabilities, engine: EngineClient, hooks: RunHooks): RunHandle {
  const target = h('select', { 'data-testid': 'target', 'aria-label': 'What to run' });
  const strategy = h(
    'select',
    { 'data-testid': 'strategy', 'aria-label': 'Strategy' },
    h('option', { value: 'random' }, 'random'),
    h('option', { value: 'pct' }, 'PCT'),
    h('option', { value: 'dfs' }, 'exhaustive (DFS+DPOR)'),
  );
  const param = h('input', { type: 'number', min: '0', max: '64', 'data-testid': 'strategy-param', class: 'num' });
  const paramLabel = h('span', { class: 'lbl' });
  // DFS with no preemption bound: every interleaving, the claim that ends a
  // review ("absent in every interleaving of this model").
  const noBound = h('input', { type: 'checkbox', 'data-testid': 'no-bound' });
  const noBoundLabel = h('label', { class: 'small' }, noBound, ' no bound');
  const seed = h('input', { type: 'number', min: '0', 'data-testid': 'seed', class: 'num wide' });
  const runs = h('input', { type: 'number', min: '1', max: '1000000', value: '2000', 'data-testid': 'runs', class: 'num wide' });
  const once = h('button', { type: 'button', 'data-testid': 'run-once' }, 'Run once');
  const many = h('button', { type: 'button', 'data-testid': 'run-n' }, 'Run N');
  const exploreBtn = h('button', { type: 'button', 'data-testid': 'explore' }, 'Explore');
  const manual = h('button', { type: 'button', 'data-testid': 'step-manual' }, 'Step by hand');
  const cancel = h('button', { type: 'button', 'data-testid': 'cancel', hidden: true }, 'Cancel');
  const bar = h('progress', { max: '1', value: '0', 'data-testid': 'progress', hidden: true });
  const progressText = h('span', { class: 'small mono', 'data-testid': 'progress-text' });
  const note = h('p', { class: 'note', 'data-testid': 'run-unavailable' });
  const manualBox = h('div', { class: 'manual', 'data-testid': 'manual' });
  // A library image as the starting disk (storage helper: web/library.ts).
  const base = mountBaseSelect(engine, (b) => {
    if (JSON.stringify(b) !== JSON.stringify(store.state.base)) store.set({ base: b, schedule: '', step: null });
  });
  store.subscribe((s, changed) => {
    if (changed.has('base')) base.choose(s.base?.name ?? null);
  });
  // What a newcomer does not need first: the Race tab runs with the
  // scenario's own strategy. Everything here is kept in the share link.
  const advanced = h(
    'details',
    { class: 'advanced', 'data-testid': 'run-advanced' },
    h('summary', {}, 'Advanced: what to run, base image, strategy, bound, seed, runs'),
    h('div', { class: 'row' }, h('span', { class: 'lbl' }, 'run'), target),
    h('div', { class: 'row' }, h('span', { class: 'lbl' }, 'base image'), base.element),
    h('div', { class: 'row' }, h('span', { class: 'lbl' }, 'strategy'), strategy, paramLabel, param, noBoundLabel),
    h('div', { class: 'row' }, h('span', { class: 'lbl' }, 'seed'), seed, h('span', { class: 'lbl' }, 'runs N'), runs),
  );
  // A link or a run that changes them opens it, so nothing is set out of sight.
  store.subscribe((s, changed) => {
    if ((changed.has('base') && s.base) || (changed.has('model') && s.model)) advanced.open = true;
  });
  fill(
    root,
    h('div', { class: 'row buttons' }, once, many, exploreBtn, manual),
    advanced,
    h('div', { class: 'row' }, bar, progressText, cancel),
    note,
    manualBox,
  );
  const modelTargets = caps.models.map((m) => h('option', { value: `model:${m.name}`, title: m.doc }, `sim model: ${m.name}`));
  fill(
    target,
    h('option', { value: 'scenario', disabled: !caps.explore }, caps.explore ? 'this scenario' : 'this scenario (needs crate/kernel)'),
    ...modelTargets,
  );
  target.value = caps.explore ? 'scenario' : (caps.models[0] ? `model:${caps.models[0].name}` : 'scenario');
  const noteText = (): void => {
    const model = caps.models.find((m) => `model:${m.name}` === target.value);
    const parts = [];
    if (!caps.explore) parts.push(`This build cannot run scenarios: it needs ${caps.missing.join(' and ')}, which is not in it yet. No scenario outcome is ever made up.`);
    if (model) parts.push(`Running the simulator’s own reference model ${model.name} (not an ext4 scenario): ${model.doc}`);
    note.textContent = parts.join(' ');
    note.hidden = parts.length === 0;
  };
  target.addEventListener('change', () => {
    noteText();
    const v = target.value;
    store.set({ model: v.startsWith('model:') ? v.slice(6) : null, schedule: '', step: null });
  });
  noteText();
  // A model link selects its model.
  store.subscribe((st, changed) => {
    if (!changed.has('model')) return;
    const want = st.model ? `model:${st.model}` : 'scenario';
    if (target.value !== want && [...target.options].some((o) => o.value === want)) {
      target.value = want;
      noteText();
    }
  });

  const currentTarget = (): Target => {
    const v = target.value;
    if (v.startsWith('model:')) return { kind: 'model', name: v.slice(6) };
    const s = store.state;
    return { kind: 'scenario', text: s.text, variant: s.variant, options: s.options, ...(s.custom ? { custom: s.custom } : {}) };
  };
  const what = (): string => {
    if (target.value.startsWith('model:')) return target.value.slice(6);
    const on = base.chosen();
    const custom = store.state.custom ? ` (custom kernel ${store.state.custom.kernel ?? ''})` : '';
    return `${store.state.scenario?.meta.name} / ${store.state.variant}${custom}${on ? ` on ${on}` : ''}`;
  };

  const render = (): void => {
    const s = store.state;
    strategy.value = s.strategy.kind;
    noBoundLabel.hidden = s.strategy.kind !== 'dfs';
    if (s.strategy.kind === 'dfs') {
      const none = s.strategy.bound === NO_BOUND;
      paramLabel.textContent = 'preemption bound';
      param.value = none ? '' : String(s.strategy.bound);
      param.disabled = none;
      noBound.checked = none;
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
      default: {
        if (noBound.checked && store.state.strategy.kind === 'dfs') return { kind: 'dfs', bound: NO_BOUND };
        const was = store.state.strategy;
        // Unticking "no bound" goes back to the variant's bound (2 when
        // the variant itself says "none").
        const scBound = sc ? variantBound(sc, store.state.variant) : NO_BOUND;
        const own = scBound === NO_BOUND ? 2 : scBound;
        return { kind: 'dfs', bound: was.kind === 'dfs' && was.bound !== NO_BOUND ? n : own };
      }
    }
  };
  strategy.addEventListener('change', () => store.set({ strategy: readStrategy(), schedule: '', step: null }));
  param.addEventListener('change', () => store.set({ strategy: readStrategy(), schedule: '', step: null }));
  noBound.addEventListener('change', () => store.set({ strategy: readStrategy(), schedule: '', step: null }));
  seed.addEventListener('change', () => {
    const v = Math.floor(Number(seed.value));
    if (Number.isSafeInteger(v) && v >= 0) store.set({ seed: v, schedule: '', step: null });
    else seed.value = String(store.state.seed);
  });

  // ---- exploration through the worker pool ----
  const pool = new ExplorerPool();
  const busy = (on: boolean): void => {
    for (const b of [once, many, exploreBtn, manual]) b.disabled = on;
    cancel.hidden = !on;
    bar.hidden = !on;
  };
  const go = async (strat: LinkStrategy, total: number, label: string, stopWhenFound: string[] = []): Promise<{ report: ExploreBody; target: Target } | null> => {
    if (pool.busy) return null;
    busy(true);
    bar.removeAttribute('value');
    progressText.textContent = `${label}: starting ${pool.size} worker${pool.size === 1 ? '' : 's'}…`;
    hooks.status(`${label} running`, 'running');
    const prepared = await base.prepare(currentTarget(), (req) => pool.broadcast(req));
    if (!prepared.ok) {
      busy(false);
      progressText.textContent = `${label}: not started: ${prepared.error.message}`;
      hooks.status(prepared.error.kind, 'error');
      return null;
    }
    const t = prepared.target;
    const started = performance.now();
    const res = await pool.explore(t, strat, store.state.seed, total, (p) => {
      const goal = p.total > 0 ? p.total : p.estimated;
      if (goal > 0) {
        bar.max = Math.max(goal, p.executions);
        bar.value = p.executions;
      }
      // An exhaustive search does not know its size: the engine estimates
      // it from the part explored (low early on, firmer as it goes).
      const left =
        p.total === 0 && p.estimated > p.executions
          ? `, about ${p.estimated - p.executions} left (~${Math.round(((p.estimated - p.executions) * (performance.now() - started)) / p.executions / 1000)} s)`
          : '';
      progressText.textContent = `${label}: ${p.executions}${p.total ? ` / ${p.total}` : ''} executions, ${p.distinct} distinct outcomes, ${p.workers} workers${left}`;
    }, stopWhenFound);
    busy(false);
    if (res.cancelled) {
      progressText.textContent = `${label}: cancelled (partial results are dropped with the workers)`;
      hooks.status('cancelled', 'cancelled');
      return null;
    }
    if (!res.report) {
      progressText.textContent = `${label}: failed: ${res.error ?? 'unknown error'}`;
      hooks.status(res.error ?? 'failed', 'error');
      return null;
    }
    progressText.textContent = `${label}: ${res.report.stats.executions} executions in ${Math.round(res.ms)} ms on ${res.workers} worker${res.workers === 1 ? '' : 's'}${res.report.stats.stopped_at_find ? ', stopped once found' : ''}`;
    hooks.explored(res.report, t, what(), strat, res.workers, res.ms);
    // A single run: show its trace even without an outcome.
    if (total === 1 && res.report.tokens[0]) {
      const r = await engine.request({ cmd: 'replay', target: t, token: res.report.tokens[0] });
      if (r.ok) hooks.show(r, t, what());
    }
    return { report: res.report, target: t };
  };
  cancel.addEventListener('click', () => pool.cancel());
  const budget = (): number => Math.max(1, Math.min(1_000_000, Math.floor(Number(runs.value) || 1)));
  const randomish = (): LinkStrategy => (store.state.strategy.kind === 'dfs' ? { kind: 'random' } : store.state.strategy);
  once.addEventListener('click', () => void go(randomish(), 1, 'one run'));
  many.addEventListener('click', () => void go(randomish(), budget(), `${budget()} runs`));
  exploreBtn.addEventListener('click', () => void go(store.state.strategy, budget(), 'explore'));

  // ---- manual stepping: the page keeps the choice prefix ----
  let choices: number[] = [];
  let manualTarget: Target | null = null;
  const step = async (): Promise<void> => {
    if (!manualTarget) return;
    const r = await engine.request({ cmd: 'manual', target: manualTarget, choices });
    if (!r.ok) {
      fill(manualBox, h('p', { class: 'error' }, r.error.message));
      return;
    }
    hooks.show(r, manualTarget, `${what()} (by hand)`);
    const undo = h('button', { type: 'button', 'data-testid': 'manual-undo', disabled: choices.length === 0 }, 'Undo');
    undo.addEventListener('click', () => {
      choices.pop();
      void step();
    });
    const stop = h('button', { type: 'button' }, 'Stop');
    stop.addEventListener('click', () => {
      manualTarget = null;
      fill(manualBox);
    });
    const list = h('div', { class: 'cands' });
    const p = r.pending;
    if (p && p.kind === 'schedule') {
      p.candidates.forEach((c, i) => {
        const b = h('button', { type: 'button', 'data-testid': 'manual-choice', class: p.preemptive[i] ? 'preempt' : '' }, p.labels[i] ?? `actor ${c}`);
        b.title = p.preemptive[i] ? 'a preemption: switches away from a task that could go on' : '';
        b.addEventListener('click', () => {
          choices.push(c);
          void step();
        });
        list.appendChild(b);
      });
    } else if (p && p.kind === 'value') {
      for (let v = 0; v < p.n; v++) {
        const b = h('button', { type: 'button', 'data-testid': 'manual-choice' }, `value ${v}`);
        b.addEventListener('click', () => {
          choices.push(v);
          void step();
        });
        list.appendChild(b);
      }
    }
    fill(
      manualBox,
      h('p', { class: 'small' }, p ? `step ${r.steps}: choose who runs next` : `ended: ${r.end} after ${r.steps} steps`, ` · ${choices.length} choices`),
      list,
      h('div', { class: 'row' }, undo, stop),
    );
  };
  manual.addEventListener('click', async () => {
    const prepared = await base.prepare(currentTarget(), null);
    if (!prepared.ok) {
      fill(manualBox, h('p', { class: 'error' }, prepared.error.message));
      return;
    }
    manualTarget = prepared.target;
    choices = [];
    void step();
  });
  return { explore: go };
}
