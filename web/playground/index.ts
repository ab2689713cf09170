// The playground: scenario picker, run controls and share link on the left;
// editor and analysis views in tabs on the right. Wires the store, the
// engine worker and the views together.
import { fill, h } from '../dom';
import type { EngineClient } from '../engine';
import type { BuiltinInfo, CheckBody, Link, ScenarioBody } from '../protocol';
import { mountEditor } from './editor';
import { imageSummary, makePanels } from './panels';
import { mountPicker } from './picker';
import { mountRun, type Capabilities } from './run';
import { mountShare } from './share';
import { defaultStrategy, optionValues, Store } from './store';

const DEFAULT_SCENARIO = 's5';

export async function mountPlayground(root: HTMLElement, engine: EngineClient): Promise<void> {
  const store = new Store();
  const list = await engine.call<{ builtins: BuiltinInfo[] }>({ cmd: 'scenarios' });
  store.builtins = list.builtins;
  const caps = await engine.call<Capabilities>({ cmd: 'capabilities' });

  const banner = h('div', { class: 'banner', 'data-testid': 'banner' });
  const pickerBox = h('section', { class: 'card', 'aria-label': 'Scenario' });
  const runBox = h('div', { 'aria-label': 'Run' });
  const shareBox = h('div', { 'aria-label': 'Share' });
  const imageBox = h('div', { 'data-testid': 'image-summary' });
  const editorBox = h('div');
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const views = h('div', { class: 'views' });
  fill(
    root,
    banner,
    h(
      'div',
      { class: 'layout' },
      h(
        'div',
        { class: 'side' },
        pickerBox,
        h('section', { class: 'card' }, h('h3', {}, 'Run'), runBox),
        h('section', { class: 'card' }, h('h3', {}, 'Share link'), shareBox),
      ),
      h('div', { class: 'mainpane' }, tabs, views),
    ),
  );

  // Tabs: editor first, then the analysis views.
  const panels = [
    { id: 'editor', title: 'Scenario text', body: h('div', { 'data-testid': 'editor-panel' }, imageBox, editorBox) },
    ...makePanels(caps),
  ];
  const select = (id: string): void => {
    for (const p of panels) {
      const on = p.id === id;
      p.body.hidden = !on;
      const t = tabs.querySelector<HTMLButtonElement>(`[data-tab="${p.id}"]`);
      t?.setAttribute('aria-selected', String(on));
    }
  };
  for (const p of panels) {
    const t = h('button', { type: 'button', role: 'tab', 'data-tab': p.id, 'data-testid': `tab-${p.id}` }, p.title);
    t.addEventListener('click', () => select(p.id));
    tabs.appendChild(t);
    views.appendChild(p.body);
  }
  select('editor');

  const editor = mountEditor(editorBox, engine, (text: string, check: CheckBody) => {
    // A valid edit: the text becomes the scenario; keep the variant and
    // options where they still exist.
    const sc = check.scenario;
    if (!sc) return;
    const s = store.state;
    const variant = sc.variants.some((v) => v.name === s.variant) ? s.variant : (check.defaultVariant ?? sc.variants[0]?.name ?? '');
    const opts = optionValues(sc, s.options);
    const options = Object.fromEntries(Object.entries(s.options).filter(([k, v]) => opts[k] === v));
    store.set({ builtin: check.builtin ?? null, text, scenario: sc, variant, options, schedule: '', step: null });
  });

  const pick = async (id: string): Promise<void> => {
    const b = await engine.call<ScenarioBody>({ cmd: 'scenario', key: id });
    store.set({
      builtin: b.id ?? null,
      text: b.text,
      scenario: b.scenario,
      variant: b.defaultVariant ?? b.scenario.variants[0]?.name ?? '',
      options: {},
      strategy: defaultStrategy(b.scenario),
      seed: b.scenario.explore.seed,
      schedule: '',
      step: null,
    });
    editor.setText(b.text);
  };

  const apply = async (link: Link, text: string): Promise<void> => {
    const c = await engine.call<CheckBody>({ cmd: 'check-scenario', text });
    if (!c.scenario) throw new Error('a decoded link carried a scenario that does not parse');
    store.set({
      builtin: link.scenario.kind === 'builtin' ? link.scenario.id : (c.builtin ?? null),
      text,
      scenario: c.scenario,
      variant: link.variant,
      options: link.options,
      strategy: link.strategy,
      seed: link.seed,
      schedule: link.schedule,
      step: link.step,
    });
    editor.setText(text);
  };

  mountPicker(pickerBox, store, engine, (id) => void pick(id));
  mountRun(runBox, store, caps);
  const share = mountShare(shareBox, banner, store, engine, apply);
  store.subscribe((s, changed) => {
    if (changed.has('scenario') && s.scenario) fill(imageBox, imageSummary(s.scenario));
  });

  // A link in the address bar wins; a bad one leaves a message and the default scenario.
  const fragment = location.hash;
  if (!(fragment.length > 1 && (await share.open(fragment)))) await pick(DEFAULT_SCENARIO);
  window.addEventListener('hashchange', () => {
    const f = location.hash;
    if (f.length > 1 && f !== shareBox.dataset.fragment) void share.open(f);
  });
  root.dataset.state = 'ready';
}
