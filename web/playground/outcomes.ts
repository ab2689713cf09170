// The outcome summary of an exploration: counts per outcome kind (a bar
// chart), and each distinct outcome with its shortest (fewest-preemption)
// schedule and structured details; choosing one replays it.
import { fill, h } from '../dom';
import { NO_BOUND, boundPhrase } from '../protocol';
import type { ExploreBody, LinkStrategy, Outcome, OutcomeKind, OutcomeRecord } from '../protocol';
import { s } from '../svg';

/** `LockOrderInversion` -> `lock-order-inversion`; `{Other: "engine-error"}`
 * (a run the engine could not finish: the task limit, an engine error) ->
 * `engine-error`; any other `{Other: x}` (a reference model's) -> `other`. */
export function kindSlug(k: OutcomeKind): string {
  if (typeof k !== 'string') return k.Other === 'engine-error' ? 'engine-error' : 'other';
  return k.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

export function kindLabel(k: OutcomeKind): string {
  return typeof k === 'string' || k.Other === 'engine-error' ? kindSlug(k) : `other: ${k.Other}`;
}

export interface RunMeta {
  what: string;
  strategy: LinkStrategy;
  workers: number;
  ms: number;
}

export function renderOutcomes(root: HTMLElement, r: ExploreBody, meta: RunMeta, show: (rec: OutcomeRecord) => void): void {
  const st = r.stats;
  const state = st.cancelled ? 'cancelled' : st.exhausted ? 'exhausted' : st.stopped_at_find ? 'found' : st.budget_exhausted ? 'budget' : 'done';
  const bound = meta.strategy.kind === 'dfs' ? ` ${boundPhrase(meta.strategy.bound)}` : '';
  const verdict =
    state === 'exhausted'
      ? meta.strategy.kind === 'dfs' && meta.strategy.bound === NO_BOUND
        ? 'exhaustive: every interleaving of this model explored (no preemption bound)'
        : `exhaustive: every schedule${bound} explored`
      : state === 'found'
        ? `stopped${bound} once every kind asked for had shown: absence of others is not proven`
        : state === 'budget'
          ? meta.strategy.kind === 'dfs'
            ? `budget reached before the search finished${bound}: absence is not proven`
            : 'budget of runs used'
          : state;
  const status = h(
    'p',
    { class: 'small', 'data-testid': 'explore-status', 'data-state': state },
    h('strong', {}, meta.what),
    ` · ${st.executions} executions (${st.complete} complete, ${st.cut_by_step_limit} cut by the step limit) · ${st.deadlocks} deadlocked`,
    meta.strategy.kind === 'dfs' ? ` · ${st.pruned_by_dpor} pruned by DPOR` : '',
    ` · ${verdict} · ${meta.workers} worker${meta.workers === 1 ? '' : 's'}, ${Math.round(meta.ms)} ms`,
  );
  // Errors the man page lists for what the program did: named quietly.
  const quiet = r.outcomes.filter((o) => o.key.expected);
  const failures = r.outcomes.filter((o) => !o.key.expected);
  const expectedNote = quiet.length
    ? h(
        'p',
        { class: 'small muted', 'data-testid': 'expected-errors' },
        `Expected errors (the system call's man page lists them for what the program did; not a kernel failure): ${quiet
          .map((o) => `${o.key.tasks.join(' ')} ${o.key.site}: ${o.fewest.message} in ${o.count} executions`)
          .join('; ')}.`,
      )
    : null;
  if (failures.length === 0) {
    fill(root, status, h('p', { 'data-testid': 'no-outcome' }, `No outcome in ${st.executions} executions.`), expectedNote);
    return;
  }
  // Counts per kind (an execution can show several outcomes).
  const counts = new Map<string, number>();
  for (const o of failures) counts.set(kindLabel(o.key.kind), (counts.get(kindLabel(o.key.kind)) ?? 0) + o.count);
  const rows = [...counts.entries()];
  const max = Math.max(...rows.map(([, c]) => c));
  const W = 520;
  const alt = `Executions per outcome kind: ${rows.map(([k, c]) => `${k} ${c}`).join(', ')} of ${st.executions}.`;
  const chart = s('svg', { width: W, height: rows.length * 20 + 4, class: 'chart', 'data-testid': 'outcome-chart', role: 'img', 'aria-label': alt });
  rows.forEach(([k, c], i) => {
    const y = i * 20 + 2;
    const len = Math.max(2, Math.round(((W - 260) * c) / max));
    chart.appendChild(s('text', { x: 0, y: y + 13, class: 'ct' }, k));
    chart.appendChild(s('rect', { x: 180, y, width: len, height: 15, class: `bar bar-${k.split(':')[0]}` }));
    chart.appendChild(s('text', { x: 186 + len, y: y + 13, class: 'ct' }, `${c} (${((100 * c) / Math.max(1, st.executions)).toFixed(1)}%)`));
  });
  const table = h(
    'table',
    { class: 'grid outcomes' },
    h(
      'thead',
      {},
      h('tr', {}, ...['outcome', 'tasks', 'locks / blocks', 'site', 'runs', 'fewest preemptions', ''].map((t) => h('th', {}, t))),
    ),
  );
  const body = h('tbody');
  for (const rec of failures) {
    const k = rec.key;
    const btn = h('button', { type: 'button', 'data-testid': 'show-outcome' }, 'timeline');
    btn.addEventListener('click', () => show(rec));
    const tr = h(
      'tr',
      { 'data-testid': `outcome-${kindSlug(k.kind)}`, class: 'clickable' },
      h('td', {}, h('code', { class: `kind kind-${kindSlug(k.kind)}` }, kindLabel(k.kind))),
      h('td', {}, h('code', {}, k.tasks.join(' '))),
      h('td', {}, h('code', {}, [...k.locks, ...k.blocks.map((b) => `block ${b}`)].join(' '))),
      h('td', {}, h('code', {}, k.site)),
      h('td', { class: 'num' }, String(rec.count)),
      h('td', { class: 'num' }, String(rec.fewest_preemptions)),
      h('td', {}, btn),
    );
    tr.addEventListener('dblclick', () => show(rec));
    body.appendChild(tr);
    if (rec.fewest.message) body.appendChild(h('tr', { class: 'msg' }, h('td', { colspan: '7' }, h('span', { class: 'small' }, rec.fewest.message))));
  }
  table.appendChild(body);
  const edges = r.lockGraph.length
    ? h('p', { class: 'small muted' }, `lock dependencies learned: ${r.lockGraph.map(([a, b]) => `${a} → ${b}`).join(', ')}`)
    : null;
  fill(root, status, chart, table, expectedNote, edges);
}

/** One outcome's structured details, kernel words kept. */
export function outcomeDetails(o: Outcome): HTMLElement {
  const dl = h(
    'dl',
    { class: 'kv' },
    h('dt', {}, 'kind'),
    h('dd', {}, h('code', {}, kindLabel(o.kind))),
    h('dt', {}, 'step'),
    h('dd', {}, String(o.step)),
  );
  const add = (k: string, v: string): void => {
    if (!v) return;
    dl.appendChild(h('dt', {}, k));
    dl.appendChild(h('dd', {}, h('code', {}, v)));
  };
  add('tasks', o.tasks.join(' '));
  add('locks', o.locks.join(' '));
  add('blocks', o.blocks.join(' '));
  add('site', o.site);
  add('message', o.message);
  return dl;
}
