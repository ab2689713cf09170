// Scenario picker, story, variants, options and the resolved run
// configuration (switch values, mount options, tasks), with the expected
// outcomes of the chosen variant under the chosen options.
import { fill, h } from '../dom';
import type { EngineClient } from '../engine';
import type { Expectation, ResolveBody, Scenario } from '../protocol';
import { mountKernel, type KernelView } from './kernel';
import { defaultStrategy, optionValues, type Store } from './store';

/** The memory models a run configuration names (crate/sim/sync/atomic.rs). */
const MEMORY_LABEL: Record<string, string> = {
  sc: 'sc (sequential consistency)',
  x86: 'x86 (TSO: stores buffered, locked RMWs drain)',
  lkmm: 'lkmm (atomic_inc unordered, smp_mb__after_atomic orders it)',
};

/** Colour class of the i-th task (task-c0..task-c7 in style.css). */
export function taskClass(i: number): string {
  return `task-c${i % 8}`;
}

export function mountPicker(root: HTMLElement, store: Store, engine: EngineClient, pick: (id: string) => void): void {
  const select = h('select', { 'data-testid': 'scenario-picker', 'aria-label': 'Scenario' });
  const title = h('h2', { 'data-testid': 'scenario-title', class: 'sc-title' });
  const story = h('div', { 'data-testid': 'scenario-story', class: 'story' });
  const source = h('p', { class: 'muted small', 'data-testid': 'scenario-source' });
  const variants = h('fieldset', { class: 'variants', 'data-testid': 'variants' });
  const options = h('div', { class: 'options', 'data-testid': 'options' });
  const kernelBox = h('div', { class: 'kernel', 'data-testid': 'kernel-panel' });
  const kernel = mountKernel(kernelBox, store, engine);
  const expected = h('div', { class: 'expected', 'data-testid': 'expected' });
  const config = h('div', { class: 'config', 'data-testid': 'run-config' });
  fill(
    root,
    h('div', { class: 'row' }, h('label', { class: 'lbl' }, 'Scenario'), select),
    title,
    // The Race tab tells the story in full; here it folds away.
    h('details', { class: 'story-fold' }, h('summary', {}, 'Story and source'), story, source),
    h('h3', {}, 'Variant'),
    variants,
    options,
    h('h3', {}, 'Kernel'),
    kernelBox,
    h('h3', {}, 'Expected outcomes'),
    expected,
    h('h3', {}, 'Run configuration'),
    config,
  );
  select.addEventListener('change', () => {
    if (select.value !== '') pick(select.value);
  });

  let resolveSeq = 0;
  store.subscribe(async (s, changed) => {
    if (changed.has('builtin') || changed.has('scenario')) renderSelect(select, store);
    const sc = s.scenario;
    if (!sc) return;
    if (changed.has('scenario')) {
      title.textContent = sc.meta.title;
      // The story's line breaks are the TOML's; blank lines separate paragraphs.
      fill(story, ...sc.meta.story.trim().split(/\n\s*\n/).map((p) => h('p', {}, p.replace(/\s*\n\s*/g, ' '))));
      source.textContent = sc.meta.source ? `Source: ${sc.meta.source}` : '';
    }
    if (changed.has('scenario') || changed.has('variant')) renderVariants(variants, sc, store, kernel);
    if (changed.has('scenario') || changed.has('options')) renderOptions(options, sc, store);
    if (changed.has('scenario') || changed.has('variant') || changed.has('options')) {
      renderExpected(expected, sc, s.variant, optionValues(sc, s.options));
    }
    if (changed.has('scenario') || changed.has('variant') || changed.has('options') || changed.has('custom')) {
      const seq = ++resolveSeq;
      const r = await engine.request({
        cmd: 'resolve-scenario',
        text: s.text,
        variant: s.variant,
        options: s.options,
        ...(s.custom ? { custom: s.custom } : {}),
      });
      if (seq !== resolveSeq) return;
      if (r.ok) renderConfig(config, sc, r);
      else fill(config, h('p', { class: 'error' }, r.error.message));
      kernel.render(sc, r.ok ? r : null, r.ok ? null : r.error.message);
    }
  });
}

function renderSelect(select: HTMLSelectElement, store: Store): void {
  const s = store.state;
  fill(
    select,
    ...store.builtins.map((b) => h('option', { value: b.id }, `${b.id}  ${b.name}`)),
    s.builtin === null ? h('option', { value: '' }, `custom: ${s.scenario?.meta.name ?? '(editor)'}`) : null,
  );
  select.value = s.builtin ?? '';
}

function renderVariants(root: HTMLElement, sc: Scenario, store: Store, kernel: KernelView): void {
  const chosen = store.state.variant;
  fill(root, h('legend', { class: 'sr-only' }, 'Variant'));
  for (const v of sc.variants) {
    const input = h('input', {
      type: 'radio',
      name: 'variant',
      value: v.name,
      'data-testid': `variant-${v.name}`,
      checked: v.name === chosen,
    });
    input.addEventListener('change', () => {
      // A custom kernel was relative to the variant it started from.
      // The strategy follows the variant's own bound while it is the
      // previous variant's default (a bound chosen under Run stays).
      if (!input.checked) return;
      const s = store.state;
      const was = defaultStrategy(sc, s.variant);
      const keep = JSON.stringify(s.strategy) !== JSON.stringify(was);
      store.set({ variant: v.name, custom: null, schedule: '', step: null, ...(keep ? {} : { strategy: defaultStrategy(sc, v.name) }) });
    });
    root.appendChild(
      h(
        'label',
        { class: v.name === chosen ? 'variant on' : 'variant' },
        input,
        h('code', {}, v.name),
        v.label ? h('span', { class: 'tag' }, v.label) : null,
        v.doc ? h('span', { class: 'doc' }, v.doc) : null,
        v.code || v.claim
          ? h(
              'span',
              { class: 'doc claim', 'data-testid': `variant-claim-${v.name}` },
              v.code ? `Code: ${v.code}. ` : '',
              v.claim ? `Claim: ${v.claim}` : '',
              v.confidence ? ` (confidence of the expected verdict: ${v.confidence})` : '',
            )
          : null,
        kernel.variantLine(sc, v.name),
      ),
    );
  }
}

function renderOptions(root: HTMLElement, sc: Scenario, store: Store): void {
  fill(root);
  const current = optionValues(sc, store.state.options);
  for (const o of sc.options ?? []) {
    const group = h('div', { class: 'seg', role: 'radiogroup', 'aria-label': o.name, title: o.doc ?? '' });
    for (const v of o.values) {
      const input = h('input', {
        type: 'radio',
        name: `opt-${o.name}`,
        value: v.name,
        'data-testid': `option-${o.name}-${v.name}`,
        checked: current[o.name] === v.name,
      });
      input.addEventListener('change', () => {
        if (!input.checked) return;
        const next = { ...store.state.options, [o.name]: v.name };
        // Keep only the values that differ from the defaults: shorter links.
        if (v.name === o.default) delete next[o.name];
        store.set({ options: next, schedule: '', step: null });
      });
      group.appendChild(h('label', { title: v.doc ?? '' }, input, h('span', {}, v.name)));
    }
    root.appendChild(h('div', { class: 'row' }, h('span', { class: 'lbl' }, o.name), group));
  }
}

/** Whether an expectation row applies to the chosen option values. */
export function rowApplies(sc: Scenario, e: Expectation, chosen: Record<string, string>): boolean {
  return (sc.options ?? []).every((o) => (e.when?.[o.name] ?? o.default) === chosen[o.name]);
}

function renderExpected(root: HTMLElement, sc: Scenario, variant: string, chosen: Record<string, string>): void {
  const v = sc.variants.find((x) => x.name === variant);
  const rows = (v?.expect ?? []).filter((e) => rowApplies(sc, e, chosen));
  if (rows.length === 0) {
    fill(root, h('p', { class: 'muted small' }, 'The scenario states no expectation for this variant and these options.'));
    return;
  }
  const table = h(
    'table',
    { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, 'outcome'), h('th', {}, 'expected'), h('th', {}, 'involves'), h('th', {}, 'note'))),
  );
  const body = h('tbody');
  for (const e of rows) {
    const involves = [...(e.tasks ?? []), ...(e.locks ?? []), ...(e.errno ?? []), e.warning ?? ''].filter(Boolean).join(' ');
    body.appendChild(
      h(
        'tr',
        { 'data-testid': 'expected-row' },
        h('td', {}, h('code', { class: `kind kind-${e.kind}` }, e.kind)),
        h('td', { class: e.expect === 'found' ? 'found' : 'absent' }, e.expect),
        h('td', {}, h('code', {}, involves)),
        h('td', { class: 'small' }, e.note ?? ''),
      ),
    );
  }
  table.appendChild(body);
  fill(root, table, h('p', { class: 'muted small' }, 'From the scenario text: what the explorer must find (or rule out under the preemption bound).'));
}

function renderConfig(root: HTMLElement, sc: Scenario, r: ResolveBody): void {
  const m = r.config.mount;
  const mountStr = [`data=${m.data}`, m.delalloc ? 'delalloc' : 'nodelalloc', m.dioread_nolock ? 'dioread_nolock' : null, m.dax ? 'dax' : null]
    .filter(Boolean)
    .join(',');
  const dl = h(
    'dl',
    { class: 'kv' },
    h('dt', {}, 'mount'),
    h('dd', { 'data-testid': 'config-mount' }, h('code', {}, `-o ${mountStr}`)),
    h('dt', {}, 'device'),
    h('dd', { 'data-testid': 'config-device' }, m.stable_writes ? 'needs stable pages: wait_for_stable_page waits on writeback' : 'no stable pages: pages change under writeback'),
    h('dt', {}, 'memory'),
    h('dd', { 'data-testid': 'config-memory' }, h('code', {}, MEMORY_LABEL[r.config.memory] ?? r.config.memory)),
  );
  if (r.config.kernel) {
    dl.appendChild(h('dt', {}, 'kernel'));
    dl.appendChild(h('dd', { 'data-testid': 'config-kernel' }, h('code', {}, r.config.kernel)));
  }
  // The run's changes against its version's own (the variant's apply and
  // revert, or the custom kernel's).
  const changes = [...(r.delta.apply ?? []).map((id) => `+${id}`), ...(r.delta.revert ?? []).map((id) => `-${id}`)];
  if (changes.length) {
    const dd = h('dd', { 'data-testid': 'config-changes' });
    for (const c of changes) dd.appendChild(h('code', { 'data-testid': `change-${c.slice(1)}` }, `${c} `));
    dl.appendChild(h('dt', { title: 'changes applied (+) or reverted (-) on top of the kernel version; see `ext4lab history`' }, 'changes'));
    dl.appendChild(dd);
  }
  for (const [k, v] of Object.entries(r.config.switches)) {
    const doc = sc.switches?.find((x) => x.name === k)?.doc ?? '';
    dl.appendChild(h('dt', { title: doc }, k));
    dl.appendChild(h('dd', { 'data-testid': `switch-${k}` }, h('code', {}, v)));
  }
  const tasks = h('ul', { class: 'tasks', 'data-testid': 'task-list' });
  r.config.tasks.forEach((ti, i) => {
    const t = sc.tasks[ti];
    if (!t) return;
    const ops = (t.steps ?? []).map((st) => st.op).join(', ');
    tasks.appendChild(
      h(
        'li',
        { title: t.doc ?? '' },
        h('span', { class: `swatch ${taskClass(i)}` }),
        h('code', { class: 'tname' }, t.name),
        h('span', { class: 'muted small' }, t.kind === 'user' ? (t.process ? `user, ${t.process}` : 'user') : t.kind),
        t.setup ? h('span', { class: 'tag' }, 'setup') : null,
        ops ? h('code', { class: 'small' }, ops) : null,
      ),
    );
  });
  fill(root, dl, tasks);
}
