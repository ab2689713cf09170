// The playground: scenario picker, run controls and share link on the left;
// editor and analysis views in tabs on the right. Wires the store, the
// engine worker and the views together.
import { fill, h } from '../dom';
import type { EngineClient } from '../engine';
import type { Answer, CheckBody, DiskBody, ExploreBody, Link, LinkStrategy, OutcomeRecord, RunBody, Target } from '../protocol';
import { NO_BOUND, boundPhrase, outcomeKindName } from '../protocol';
import { renderDisk, renderStepBlocks } from './diskview';
import { mountEditor } from './editor';
import { imageSummary, makePanels } from './panels';
import { mountPicker } from './picker';
import { mountRun } from './run';
import { FIND_BOUND, fewestOf, mountOverview, outcomeSentence } from './overview';
import { renderOutcomes, outcomeDetails } from './outcomes';
import { renderTimeline } from './timeline';
import { renderLocks } from './lockview';
import { byTestId } from '../dom';
import { download } from './export';
import { mountShare } from './share';
import { defaultStrategy, optionValues, Store } from './store';

const DEFAULT_SCENARIO = 's5';

export async function mountPlayground(root: HTMLElement, engine: EngineClient): Promise<void> {
  const store = new Store();
  const list = await engine.call({ cmd: 'scenarios' });
  store.builtins = list.builtins;
  const caps = await engine.call({ cmd: 'capabilities' });

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

  // Tabs: the race (where the page opens), the editor, then the analysis views.
  const overviewBox = h('div', { 'data-testid': 'overview-panel' });
  const raceBanner = h('div', { 'data-testid': 'race-banner', class: 'race-banner' });
  const panels = [
    { id: 'overview', title: 'Race', body: overviewBox },
    { id: 'editor', title: 'Scenario text', body: h('div', { 'data-testid': 'editor-panel' }, imageBox, editorBox) },
    ...makePanels(caps),
  ];
  panels.find((p) => p.id === 'timeline')?.body.prepend(raceBanner);
  let onSelect: (id: string) => void = () => {};
  const select = (id: string): void => {
    onSelect(id);
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
  select('overview');

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
    const b = await engine.call({ cmd: 'scenario', key: id });
    const variant = b.defaultVariant ?? b.scenario.variants[0]?.name ?? '';
    store.set({
      builtin: b.id ?? null,
      text: b.text,
      scenario: b.scenario,
      variant,
      options: {},
      strategy: defaultStrategy(b.scenario, variant),
      seed: b.scenario.explore.seed,
      schedule: '',
      step: null,
      model: null,
      custom: null,
    });
    editor.setText(b.text);
  };

  const apply = async (link: Link, text: string): Promise<void> => {
    const c = await engine.call({ cmd: 'check-scenario', text });
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
      step: link.step ?? null,
      model: null,
      base: link.base ?? null,
      outcome: link.outcome ?? null,
      custom: link.custom ?? null,
    });
    editor.setText(text);
  };

  mountPicker(pickerBox, store, engine, (id) => void pick(id));
  // ---- results: outcomes, timeline, locks ----
  const outcomesView = byTestId(views, 'outcomes-view');
  const timelineView = byTestId(views, 'timeline-view');
  const runHeader = byTestId(views, 'run-header');
  const locksView = byTestId(views, 'locks-view');
  let learned: Array<[string, string]> = [];
  // ---- the disk view: fetched when its tab is open, for the shown run and step ----
  const diskView = byTestId(views, 'disk-panel');
  let disk: { run: RunBody; target: Target; exposed: number[]; outcomeStep: number | null } | null = null;
  let diskKey = '';
  let diskOn = false;
  // One disk replay per run and step, shared by the Disk tab and the block
  // strips under the timeline (switching between them at one step asks once).
  let diskAnswer: { key: string; answer: Promise<Answer<DiskBody>> } | null = null;
  const diskAt = (run: RunBody, target: Target, step: number | null, key: string): Promise<Answer<DiskBody>> => {
    if (diskAnswer?.key !== key) diskAnswer = { key, answer: engine.request({ cmd: 'disk', target, token: run.token, ...(step === null ? {} : { step }) }) };
    return diskAnswer.answer;
  };
  const refreshDisk = async (): Promise<void> => {
    if (!disk || !diskOn) return;
    const { run, target, exposed, outcomeStep } = disk;
    if (target.kind !== 'scenario') {
      diskKey = '';
      fill(diskView, h('p', { class: 'note', 'data-testid': 'disk-none' }, 'The simulator’s reference models have no disk: run a scenario to see its files and journal.'));
      return;
    }
    // The chosen step, else the step of the outcome shown (where it happened), else the end.
    const step = store.state.step ?? outcomeStep;
    const key = `${run.token}@${step ?? 'end'}`;
    if (key === diskKey) return;
    diskKey = key;
    fill(diskView, h('p', { class: 'small muted', 'data-testid': 'disk-loading' }, `reading the disk at ${step === null ? 'the end' : `step ${step}`}…`));
    const a = await diskAt(run, target, step, key);
    if (key !== diskKey) return;
    if (a.ok) renderDisk(diskView, a, step, exposed);
    else fill(diskView, h('p', { class: 'error', 'data-testid': 'disk-error' }, `${a.error.kind}: ${a.error.message}`));
  };
  // The same blocks under the timeline, following the step being played or
  // clicked (one replay per step shown; a newer step drops an older answer).
  const stepDisk = byTestId(views, 'step-disk');
  let stepDiskKey = '';
  let timelineOn = false;
  const refreshStepDisk = async (): Promise<void> => {
    if (!disk || !timelineOn || disk.target.kind !== 'scenario') {
      if (!disk || disk.target.kind !== 'scenario') fill(stepDisk);
      stepDiskKey = '';
      return;
    }
    const { run, target, exposed } = disk;
    const step = store.state.step;
    const key = `${run.token}@${step ?? 'end'}`;
    if (key === stepDiskKey) return;
    stepDiskKey = key;
    const a = await diskAt(run, target, step, key);
    if (key !== stepDiskKey) return;
    if (a.ok) renderStepBlocks(stepDisk, a, step, exposed);
    else fill(stepDisk, h('p', { class: 'error' }, `${a.error.kind}: ${a.error.message}`));
  };
  onSelect = (id) => {
    diskOn = id === 'disk';
    timelineOn = id === 'timeline';
    void refreshDisk();
    void refreshStepDisk();
  };
  store.subscribe((_s, changed) => {
    if (changed.has('step')) {
      void refreshDisk();
      void refreshStepDisk();
    }
  });
  const showRun = (run: RunBody, target: Target, what: string, outcome: OutcomeRecord | null): void => {
    const exportTrace = h('button', { type: 'button', 'data-testid': 'export-trace' }, 'Export trace (Perfetto JSON)');
    exportTrace.addEventListener('click', async () => {
      const a = await engine.request({ cmd: 'chrome-trace', target, token: run.token });
      if (a.ok) download(`ext4lab-${what.replace(/[^A-Za-z0-9_-]+/g, '_')}.trace.json`, a.json, 'application/json');
    });
    // The disk image at the chosen step (scenario runs only: models have no disk).
    const exportImage =
      target.kind === 'scenario' ? h('button', { type: 'button', 'data-testid': 'export-image' }, 'Disk image at this step (.img)') : null;
    exportImage?.addEventListener('click', async () => {
      // Exact: the replay is cut after the chosen step (the end without one).
      const step = store.state.step;
      const a = await engine.request({ cmd: 'image', target, token: run.token, ...(step === null ? {} : { step }) });
      if (a.ok) download(`ext4lab-${what.replace(/[^A-Za-z0-9_-]+/g, '_')}-step${a.steps}.img`, a.bytes as BlobPart, 'application/octet-stream');
      else exportImage.textContent = `no image: ${a.error.message}`;
    });
    const outs = run.outcomes.length ? run.outcomes.map((o) => outcomeDetails(o)) : [h('p', { class: 'small muted' }, 'no outcome in this execution')];
    fill(
      runHeader,
      outcome ? h('p', { class: 'sentence', 'data-testid': 'run-sentence' }, outcomeSentence(outcome.fewest)) : null,
      h(
        'div',
        { class: 'runhead' },
        h(
          'dl',
          { class: 'kv' },
          h('dt', {}, 'run'),
          h('dd', {}, what),
          h('dt', {}, 'end'),
          h('dd', { 'data-testid': 'run-end' }, h('code', {}, run.end)),
          h('dt', {}, 'steps'),
          h('dd', {}, `${run.steps} (${run.preemptions} preemptions)`),
          h('dt', {}, 'trace hash'),
          h('dd', {}, h('code', { 'data-testid': 'trace-hash' }, run.traceHash ?? '—')),
          h('dt', {}, 'replay token'),
          h('dd', {}, h('code', { class: 'token', 'data-testid': 'replay-token' }, run.token)),
        ),
        h('div', {}, ...outs),
        h('div', { class: 'exports' }, exportTrace, exportImage, run.divergence ? h('p', { class: 'error' }, run.divergence) : null),
      ),
    );
    // The outcome shown (or the run's first one naming blocks): the timeline
    // and the disk view start at its step, where it happened; a link's own
    // step wins when the run came from a link.
    const shown = outcome?.fewest ?? run.outcomes.find((o) => o.blocks.length) ?? null;
    disk = { run, target, exposed: shown?.blocks ?? [], outcomeStep: shown ? shown.step : null };
    diskKey = '';
    diskAnswer = null;
    const initial = outcome ? outcome.fewest.step : (store.state.step ?? shown?.step ?? null);
    renderTimeline(timelineView, run, (st) => store.set({ step: st }), initial);
    renderLocks(locksView, outcome?.fewest ?? run.outcomes.find((o) => o.detail) ?? null, learned);
    // The outcome kind the link will carry: the one chosen, else the one the
    // page already names if this run shows it (a link being restored), else
    // the run's first.
    const kinds = run.outcomes.map((o) => outcomeKindName(o.kind));
    const kept = store.state.outcome && kinds.includes(store.state.outcome) ? store.state.outcome : null;
    const kind = outcome ? outcomeKindName(outcome.fewest.kind) : (kept ?? kinds.find((k) => k !== null) ?? null);
    store.set({ schedule: run.token, outcome: kind });
    stepDiskKey = '';
    void refreshDisk();
    void refreshStepDisk();
  };
  // An outcome's shortest schedule, replayed and shown on the timeline.
  const openOutcome = async (rec: OutcomeRecord, target: Target, what: string): Promise<void> => {
    const a = await engine.request({ cmd: 'replay', target, token: rec.fewest_token });
    if (a.ok) {
      showRun(a, target, what, rec);
      select('timeline');
    }
  };
  // Runs the Race tab starts stay on their tab until there is a schedule to show.
  let fromOverview = false;
  const runner = mountRun(runBox, store, caps, engine, {
    explored(r: ExploreBody, target: Target, what, strategy, workers, ms) {
      learned = r.lockGraph;
      renderOutcomes(outcomesView, r, { what, strategy, workers, ms }, (rec) => void openOutcome(rec, target, what));
      if (!fromOverview) select('outcomes');
    },
    show(run, target, what) {
      showRun(run, target, what, null);
      select('timeline');
    },
    status() {},
  });

  mountOverview(overviewBox, raceBanner, store, {
    async explore(variant, find) {
      const sc = store.state.scenario;
      if (!sc) return null;
      const s = store.state;
      // Another variant: the custom kernel was relative to the one it started from.
      if (variant !== s.variant) store.set({ variant, custom: null, schedule: '', step: null });
      const own = defaultStrategy(sc, variant);
      // Finding a race a variant is expected to show: DFS under bound 0,
      // then 1, ... up to FIND_BOUND (below the variant's own bound), then
      // the variant's own bound. Each search stops once every kind the row
      // expects has shown (each shard at its own find: the page waits for
      // both, so the answer does not depend on which worker is faster), or
      // at its end. A bound whose search ended without them all was
      // searched completely, so a kind first found under bound k has no
      // schedule with fewer than k preemptions; kinds already found under a
      // smaller bound keep that search's schedules (below). Shallow races
      // take a fraction of the runs of a larger bound, and deep ones need
      // not finish it (measured natively on 2026-12-06, release build, before
      // the reductions of that evening: S4 v4.13 shows all
      // three of its kinds at bound 0 in 1,418 executions, where bound 2
      // took 463,320 in the page's two shards; S6 v4.4 finds nothing in
      // bound 0's 25,874 and its lost write after 5,603 and 5,582
      // executions of bound 1's two shards, where the whole of bound 1 is
      // 533,911). If nothing shows, the variant's own search runs to its
      // end. Checking a fix always runs the variant's own, to the end.
      const tries: LinkStrategy[] = [];
      if (find.length && own.kind === 'dfs') {
        for (let b = 0; b <= FIND_BOUND && b < own.bound; b++) tries.push({ ...own, bound: b });
      }
      tries.push(own);
      fromOverview = true;
      try {
        let res = null;
        const lower: OutcomeRecord[] = [];
        for (const strategy of tries) {
          store.set({ strategy });
          res = await runner.explore(strategy, 1_000_000, `${variant}: every interleaving${strategy.kind === 'dfs' ? ` ${boundPhrase(strategy.bound)}` : ''}`, find);
          const bound = strategy.kind === 'dfs' ? strategy.bound : NO_BOUND;
          if (!res) return null;
          const kinds = res.report.outcomes.map((r) => outcomeKindName(r.key.kind) ?? '');
          const seen = find.every((k) => kinds.includes(k));
          if (seen || strategy === own) return { ...res, report: { ...res.report, outcomes: fewestOf(lower, res.report.outcomes) }, bound };
          lower.push(...res.report.outcomes);
        }
        return null;
      } finally {
        fromOverview = false;
      }
    },
    async open(rec, target) {
      await openOutcome(rec, target, `${store.state.scenario?.meta.name} / ${store.state.variant}`);
    },
    show() {
      select('overview');
    },
  });

  // A model run's link: the default scenario stays loaded underneath.
  const applyModel = async (model: string, schedule: string, step: number | null): Promise<void> => {
    if (!store.state.scenario) await pick(DEFAULT_SCENARIO);
    store.set({ model, schedule, step });
  };
  const share = mountShare(shareBox, banner, store, engine, apply, applyModel, caps.models.map((m) => m.name), (f) => replayLinked(f));
  store.subscribe((s, changed) => {
    if (changed.has('scenario') && s.scenario) fill(imageBox, imageSummary(s.scenario));
  });

  // A link whose schedule no longer fits the model (another engine made it):
  // say so, and offer to find the same outcome again (the worker's `refind`,
  // as `ext4lab replay --refind`).
  // `fragment` is the link as opened: the share box rewrites the address
  // bar with the current state's link (made by this engine) 120 ms after
  // any change, so reading location.hash here would race it.
  const diverged = async (step: number, message: string, fragment: string): Promise<void> => {
    const d = await engine.request({ cmd: 'link-decode', fragment });
    const madeWith = d.ok ? d.made_with : 'another ext4lab';
    const kind = d.ok ? d.link.outcome : undefined;
    const again = h('button', { type: 'button', 'data-testid': 'link-refind' }, kind ? `Find the ${kind} again` : 'Find it again');
    const note = h('span', { class: 'small', 'data-testid': 'link-refind-status' });
    again.addEventListener('click', async () => {
      again.setAttribute('disabled', '');
      note.textContent = ' exploring…';
      const a = await engine.request({ cmd: 'refind', fragment });
      if (!a.ok) {
        note.textContent = ` ${a.error.message}`;
        again.removeAttribute('disabled');
        return;
      }
      fill(banner);
      // Open it here (not through the address bar: the share box rewrites
      // the address bar for the current state, which would race a hashchange).
      if (await share.open(a.fragment)) await replayLinked(a.fragment);
    });
    fill(
      banner,
      h(
        'div',
        { class: 'alert', role: 'alert', 'data-testid': 'link-diverged' },
        h('strong', {}, `This link was made with ${madeWith}; its schedule diverged at step ${step}.`),
        ' ',
        h('span', { class: 'small' }, `(${message})`),
        ' ',
        again,
        note,
      ),
    );
  };

  // A link with a schedule replays it and shows the step it names.
  const replayLinked = async (fragment: string): Promise<void> => {
    const restored = store.state;
    if (!restored.schedule) return;
    let target: Target;
    if (restored.model) target = { kind: 'model', name: restored.model };
    else if (caps.explore && restored.scenario) target = {
        kind: 'scenario',
        text: restored.text,
        variant: restored.variant,
        options: restored.options,
        base: restored.base ?? undefined,
        custom: restored.custom ?? undefined,
      };
    else return;
    const r = await engine.request({ cmd: 'replay', target, token: restored.schedule });
    if (r.ok) {
      showRun(r, target, target.kind === 'model' ? target.name : `${restored.scenario?.meta.name} / ${restored.variant}`, null);
      select('timeline');
      if (r.divergence && target.kind === 'scenario') await diverged(r.divergenceStep ?? r.steps, r.divergence, fragment);
    } else {
      fill(banner, h('div', { class: 'alert', role: 'alert', 'data-testid': 'link-error', 'data-kind': r.error.kind }, `The link's schedule does not replay: ${r.error.message}`));
    }
  };
  // A link in the address bar wins; a bad one leaves a message and the default scenario.
  const fragment = location.hash;
  if (!(fragment.length > 1 && (await share.open(fragment)))) await pick(DEFAULT_SCENARIO);
  else await replayLinked(fragment);
  // The fragment navigated to is the event's, not location.hash: the share
  // box may have rewritten the address bar (history.replaceState, for the
  // state before the link) between the navigation and this event, and
  // location.hash would then name the old state and the link would be lost.
  window.addEventListener('hashchange', (ev: HashChangeEvent) => {
    const f = new URL(ev.newURL).hash;
    if (f.length > 1 && f !== shareBox.dataset.fragment) {
      void share.open(f).then((ok) => (ok ? replayLinked(f) : undefined));
    }
  });
  root.dataset.state = 'ready';
}
