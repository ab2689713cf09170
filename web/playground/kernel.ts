// The kernel a run models: the variant's version and the changes it applies
// or reverts (each linking to its source), and the custom kernel panel: pick
// another version, tick commits and proposals of the registry
// (crate/scenario/history.rs), run it; the share link carries it
// (`Link.custom`). The worker resolves every choice (`resolve-scenario` with
// `custom`): an invalid one is its error, shown here, never a silent default.
import { fill, h } from '../dom';
import type { EngineClient } from '../engine';
import type { CustomKernel, HistoryRow, ResolveBody, Scenario } from '../protocol';
import type { Store } from './store';

/** Where a change's source can be read: a commit on git.kernel.org; a
 * proposal is quoted in the seed thread its `source` names. */
export function sourceUrl(row: HistoryRow): string | null {
  return row.kind === 'commit' ? `https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=${row.id}` : null;
}

/** A change id as a chip: `+id`/`-id`, linking to its source. */
export function changeChip(id: string, sign: '+' | '-' | '', row: HistoryRow | undefined): HTMLElement {
  const url = row ? sourceUrl(row) : null;
  const title = row ? `${row.title} (${row.author}, ${row.date}; ${row.merged === 'unmerged' ? 'never merged' : `merged in ${row.merged}`}; source: ${row.source})` : id;
  const code = h('code', {}, `${sign}${id}`);
  return url
    ? h('a', { class: 'chip', href: url, target: '_blank', rel: 'noopener noreferrer', title, 'data-change': id }, code)
    : h('span', { class: 'chip', title, 'data-change': id }, code);
}

/** `v4.15-rc1` ordered as releases are (crate/scenario/history.rs
 * KernelVersion): null when it does not parse (the worker then says why). */
function versionKey(v: string): number[] | null {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?(?:-rc(\d{1,3}))?$/.exec(v.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), m[4] ? Number(m[4]) : 65535];
}

function atOrBefore(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return true;
}

/** Whether release `version` has commit `row` (never, for a proposal). */
function mergedBy(row: HistoryRow, version: string): boolean {
  const v = versionKey(version);
  const m = row.merged === 'unmerged' ? null : versionKey(row.merged);
  return v !== null && m !== null && atOrBefore(m, v);
}

/** The changes a custom kernel runs: its version's commits, plus `apply`,
 * minus `revert` (crate/scenario/history.rs resolve_changes). */
function effective(rows: HistoryRow[], c: CustomKernel): Set<string> {
  const on = new Set(rows.filter((r) => mergedBy(r, c.kernel ?? '')).map((r) => r.id));
  for (const id of c.apply ?? []) on.add(id);
  for (const id of c.revert ?? []) on.delete(id);
  return on;
}

/** Registry order, so equal kernels compare (and link) equal. */
function normalise(rows: HistoryRow[], c: CustomKernel): CustomKernel {
  const order = (ids: string[] | undefined): string[] => rows.map((r) => r.id).filter((id) => (ids ?? []).includes(id));
  return { kernel: c.kernel, apply: order(c.apply), revert: order(c.revert) };
}

function same(a: CustomKernel, b: CustomKernel): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Turn `id` on or off in `c`, with what it needs (on) or what needs it
 * (off), as `apply`/`revert` relative to `c`'s version. */
export function toggle(rows: HistoryRow[], c: CustomKernel, id: string, want: boolean): CustomKernel {
  const on = effective(rows, c);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const affected = new Set<string>();
  const walk = (x: string): void => {
    if (affected.has(x) || on.has(x) === want || byId.get(x)?.modelled === false) return;
    affected.add(x);
    if (want) for (const need of byId.get(x)?.requires ?? []) walk(need);
    else for (const r of rows) if (r.requires.includes(x)) walk(r.id);
  };
  walk(id);
  const apply = new Set(c.apply ?? []);
  const revert = new Set(c.revert ?? []);
  for (const x of affected) {
    if (want && revert.has(x)) revert.delete(x);
    else if (!want && apply.has(x)) apply.delete(x);
    else if (want) apply.add(x);
    else revert.add(x);
  }
  return normalise(rows, { kernel: c.kernel, apply: [...apply], revert: [...revert] });
}

/** Another version: the hand-made changes that still mean something there
 * stay (a commit applied that it lacks, one reverted that it has, every
 * proposal); the rest follow the version. */
export function rebase(rows: HistoryRow[], c: CustomKernel, version: string): CustomKernel {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const apply = (c.apply ?? []).filter((id) => {
    const r = byId.get(id);
    return !r || !mergedBy(r, version);
  });
  const revert = (c.revert ?? []).filter((id) => {
    const r = byId.get(id);
    return !r || mergedBy(r, version);
  });
  return normalise(rows, { kernel: version, apply, revert });
}

export interface KernelView {
  /** The variant's kernel line (in the variant list): version and chips. */
  variantLine(sc: Scenario, variant: string): HTMLElement | null;
  /** Show the run's kernel (`r`, or the worker's error for the choice). */
  render(sc: Scenario, r: ResolveBody | null, error: string | null): void;
}

export function mountKernel(root: HTMLElement, store: Store, engine: EngineClient): KernelView {
  let history: HistoryRow[] = [];
  let versions: string[] = [];
  const loaded = engine.call({ cmd: 'history' }).then((b) => {
    history = b.changes;
    versions = b.versions;
  });
  const row = (id: string): HistoryRow | undefined => history.find((r) => r.id === id);
  // The variant's own kernel as a custom one (what "back to the variant"
  // compares against), per text + variant + options.
  let own: { key: string; delta: CustomKernel } | null = null;
  let open = false;
  let last: { r: ResolveBody | null; error: string | null } | null = null;
  const keyOf = (): string => JSON.stringify([store.state.text, store.state.variant, store.state.options]);

  const setCustom = (c: CustomKernel | null): void => {
    const custom = c && own && own.key === keyOf() && same(c, own.delta) ? null : c;
    store.set({ custom, schedule: '', step: null, outcome: null });
  };

  const draw = (): void => {
    if (!last) return;
    const { r, error } = last;
    const s = store.state;
    const current: CustomKernel | null = s.custom ?? (own && own.key === keyOf() ? own.delta : (r?.delta ?? null));
    const summary = h('p', { class: 'kernel-line', 'data-testid': 'kernel-summary' });
    if (r) {
      summary.appendChild(h('code', { 'data-testid': 'kernel-version' }, r.config.kernel ?? ''));
      for (const id of r.delta.apply ?? []) summary.append(' ', changeChip(id, '+', row(id)));
      for (const id of r.delta.revert ?? []) summary.append(' ', changeChip(id, '-', row(id)));
    }
    if (s.custom) {
      const back = h('button', { type: 'button', 'data-testid': 'custom-reset', class: 'small' }, 'Back to the variant’s kernel');
      back.addEventListener('click', () => setCustom(null));
      summary.append(' ', h('span', { class: 'tag custom', 'data-testid': 'kernel-custom-tag' }, 'custom kernel'), ' ', back);
    }
    const details = h('details', { class: 'custom-kernel', 'data-testid': 'custom-kernel', open });
    details.addEventListener('toggle', () => {
      open = details.open;
    });
    details.appendChild(h('summary', {}, 'Custom kernel: another version, commits and proposals'));
    if (current && history.length) {
      const listId = 'kernel-versions';
      const input = h('input', {
        type: 'text',
        list: listId,
        value: current.kernel ?? '',
        'data-testid': 'custom-version',
        'aria-label': 'Kernel version',
        class: 'mono num wide',
        spellcheck: 'false',
      });
      input.addEventListener('change', () => {
        const v = input.value.trim();
        if (v && v !== current.kernel) setCustom(rebase(history, current, v));
      });
      const on = effective(history, current);
      const body = h('tbody');
      for (const c of history) {
        const box = h('input', {
          type: 'checkbox',
          checked: on.has(c.id),
          disabled: !c.modelled,
          'data-testid': `custom-change-${c.id}`,
          'aria-label': c.id,
        });
        box.addEventListener('change', () => setCustom(toggle(history, current, c.id, box.checked)));
        const mine = (current.apply ?? []).includes(c.id) || (current.revert ?? []).includes(c.id);
        body.appendChild(
          h(
            'tr',
            {
              class: [mine ? 'on' : '', c.modelled ? '' : 'unmodelled'].filter(Boolean).join(' '),
              title: `${c.modelled ? '' : 'Not modelled: recorded for its history; no kernel path reads it, so it cannot be ticked.\n\n'}${c.doc}\n\nKernel functions: ${c.functions.join(', ')}${c.requires.length ? `\nNeeds: ${c.requires.join(', ')}` : ''}` },
            h('td', {}, box),
            h('td', {}, changeChip(c.id, '', c)),
            h('td', { class: 'small' }, c.merged === 'unmerged' ? c.kind : c.merged),
            h('td', { class: 'small' }, `${c.title} `, h('span', { class: 'muted' }, `(${c.author}, ${c.date})`)),
          ),
        );
      }
      details.append(
        h('div', { class: 'row' }, h('span', { class: 'lbl' }, 'version'), input, h('datalist', { id: listId }, ...versions.map((v) => h('option', { value: v })))),
        h(
          'p',
          { class: 'muted small' },
          'Ticked: in the run’s kernel (the version’s commits, plus what you tick, minus what you untick). Ticking a change ticks what it needs; unticking one unticks what needs it. Hover a row for what it changes.',
        ),
        h('table', { class: 'grid changes', 'data-testid': 'custom-changes' }, body),
      );
    } else {
      details.appendChild(h('p', { class: 'muted small' }, 'loading the registry…'));
    }
    fill(
      root,
      summary,
      error ? h('p', { class: 'error', 'data-testid': 'custom-error' }, error) : null,
      s.custom ? h('p', { class: 'muted small' }, 'The expected outcomes above are for the variant as written; this run uses a custom kernel.') : null,
      details,
    );
  };

  return {
    variantLine(sc, variant) {
      const v = sc.variants.find((x) => x.name === variant);
      const version = v?.kernel ?? sc.kernel?.version;
      if (!v || !version) return null;
      const line = h('span', { class: 'doc kernel-line', 'data-testid': `variant-kernel-${variant}` }, 'Kernel ', h('code', {}, version));
      for (const id of v.apply ?? []) line.append(' ', changeChip(id, '+', row(id)));
      for (const id of v.revert ?? []) line.append(' ', changeChip(id, '-', row(id)));
      return line;
    },
    render(_sc, r, error) {
      last = { r, error };
      void loaded.then(async () => {
        // Opened from a link with a custom kernel: learn the variant's own.
        if (store.state.custom && (!own || own.key !== keyOf())) {
          const key = keyOf();
          const s = store.state;
          const a = await engine.request({ cmd: 'resolve-scenario', text: s.text, variant: s.variant, options: s.options });
          if (a.ok && key === keyOf()) own = { key, delta: normalise(history, a.delta) };
        }
        if (r && !store.state.custom) own = { key: keyOf(), delta: normalise(history, r.delta) };
        draw();
      });
    },
  };
}
