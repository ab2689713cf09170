// The Race tab, where the page opens: the scenario's story and its variants
// as a claim/verdict table, with one action per variant: "Find the race"
// for a variant the scenario expects to fail, "Check every interleaving"
// for the others. An action explores the variant with the scenario's own
// strategy (DFS+DPOR under its preemption bound) and opens the failing
// schedule with the fewest preemptions on the timeline, or says that none
// was found and whether the search was complete. After a race is found,
// "Now try the fix" checks the variant the scenario marks as the fix.
import { fill, h } from '../dom';
import type { ExploreBody, Outcome, OutcomeRecord, Scenario, Target, Variant } from '../protocol';
import { NO_BOUND, boundPhrase, outcomeKindName, variantBound } from '../protocol';
import { kindLabel } from './outcomes';
import { rowApplies } from './picker';
import { optionValues, type Store } from './store';

/** "Find the race" deepens the preemption bound: it searches every
 * interleaving with 0 preemptions, then 1, ... up to FIND_BOUND (or the
 * variant's own bound, if smaller), and stops at the first bound that shows
 * every kind the row expects, as soon as they have all shown; then the
 * variant's own search, if they did not all show (the page's `explore`
 * hook, web/playground/index.ts). */
export const FIND_BOUND = 2;

/** The outcome records of a search that found the race, with each kind
 * also found by a complete search under a smaller bound (`lower`) keeping
 * that search's schedule when it had fewer preemptions: the search that
 * found every kind may have stopped before reaching its fewest. Keys only
 * in `lower` are kept too (found, just not yet again). */
export function fewestOf(lower: OutcomeRecord[], found: OutcomeRecord[]): OutcomeRecord[] {
  const out = found.map((r) => ({ ...r }));
  const at = new Map(out.map((r, i) => [JSON.stringify(r.key), i]));
  for (const l of lower) {
    const k = JSON.stringify(l.key);
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, out.length);
      out.push({ ...l });
    } else if (l.fewest_preemptions < out[i].fewest_preemptions) {
      out[i] = { ...out[i], fewest_preemptions: l.fewest_preemptions, fewest_token: l.fewest_token, fewest: l.fewest };
    }
  }
  return out;
}

export interface OverviewHooks {
  /** Explore `variant` with the scenario's own strategy, to the end.
   * `find`: the outcome kinds the variant is expected to show, when the
   * question is where they are rather than whether they can happen
   * (searches under smaller preemption bounds first may answer it: the
   * first that shows all of them); empty otherwise.
   * `bound` is the one the search used (DFS). */
  explore(variant: string, find: string[]): Promise<{ report: ExploreBody; target: Target; bound: number } | null>;
  /** Replay an outcome's shortest schedule and show it on the timeline. */
  open(rec: OutcomeRecord, target: Target): Promise<void>;
  /** Bring the Race tab to the front (a verdict with nothing to replay). */
  show(): void;
}

/** What happened, in one sentence of kernel terms (the oracle's own words
 * where it gives them). */
export function outcomeSentence(o: Outcome): string {
  const tasks = o.tasks.join(', ');
  const locks = [...new Set(o.locks)].join(' and ');
  const detail = o.message ? `: ${o.message}` : '';
  switch (outcomeKindName(o.kind)) {
    case 'deadlock':
      return `Deadlock: ${tasks} wait for each other in a cycle over ${locks || 'their locks'}${detail}.`;
    case 'lock-order-inversion':
      return `Lock-order inversion (lockdep): ${tasks} take ${locks} in opposite orders; a deadlock waits for the wrong timing${detail}.`;
    case 'stale-data': {
      const [reader, ...others] = o.tasks;
      const what = o.message ? `${reader}'s ${o.message}` : `${reader} read stale bytes`;
      return `Stale data: ${what} (in ${o.site})${others.length ? `; ${others.join(', ')} also involved` : ''}.`;
    }
    case 'lost-write':
      return `Lost write, seen at ${o.site}${detail || ` (tasks ${tasks})`}.`;
    case 'fsck':
      return `The image is inconsistent after the run (the engine's fsck, as e2fsck -fn would say)${detail}.`;
    case 'kernel-warning':
      return `Kernel warning: ${o.site} fires in ${tasks}${detail}.`;
    case 'user-error':
      return `A user-visible error in ${tasks} from ${o.site}${detail}.`;
    default:
      return `${kindLabel(o.kind)} in ${tasks}${detail}.`;
  }
}

/** The rows of `v` that apply to the chosen options. */
function rows(sc: Scenario, v: Variant, chosen: Record<string, string>) {
  return (v.expect ?? []).filter((e) => rowApplies(sc, e, chosen));
}

/** The kinds the scenario's race is about: what its default variant (the
 * code before a fix) expects found under these options and some other
 * variant expects absent. A kind every variant shows (S5's
 * dio_warn_stale_pagecache) is a side effect, not the race. Empty when
 * nothing tells them apart. */
function raceKinds(sc: Scenario, chosen: Record<string, string>): string[] {
  const d = sc.variants.find((v) => v.name === sc.explore.default_variant) ?? sc.variants[0];
  if (!d) return [];
  const absentElsewhere = new Set(
    sc.variants
      .filter((v) => v !== d)
      .flatMap((v) => rows(sc, v, chosen))
      .filter((e) => e.expect === 'absent')
      .map((e) => e.kind),
  );
  return rows(sc, d, chosen)
    .filter((e) => e.expect === 'found' && absentElsewhere.has(e.kind))
    .map((e) => e.kind);
}

/** A variant the scenario expects to fail under these options: a row
 * expects the race's kind found. A fix whose rows expect only a side
 * effect found (S5's fixes keep the kernel's own dio_warn_stale_pagecache
 * warning) is checked, not raced. */
function expectsFailure(sc: Scenario, v: Variant, chosen: Record<string, string>): boolean {
  const race = raceKinds(sc, chosen);
  return rows(sc, v, chosen).some((e) => e.expect === 'found' && (race.length === 0 || race.includes(e.kind)));
}

/** The fix to try after `from`: the variant the scenario labels a fix
 * (its expected outcomes may include the fix's own refusal, an EAGAIN or
 * EBUSY), else the first with no failure expected under these options. */
export function fixFor(sc: Scenario, from: string, chosen: Record<string, string>): Variant | null {
  const others = sc.variants.filter((v) => v.name !== from);
  const clean = others.filter((v) => !expectsFailure(sc, v, chosen) && rows(sc, v, chosen).length > 0);
  return others.find((v) => /\bfix\b/i.test(v.label ?? '')) ?? clean[0] ?? null;
}

interface Verdict {
  text: string;
  state: 'found' | 'none-complete' | 'none-bounded' | 'running' | 'error';
  sentence?: string;
  /** The outcome kind the sentence is about (the race a fix must close). */
  kind?: string;
}

/** `root`: the Race tab; `banner`: the top of the Timeline tab, where the
 * found race's sentence and "Now try the fix" also show. */
export function mountOverview(root: HTMLElement, banner: HTMLElement, store: Store, hooks: OverviewHooks): void {
  // Verdicts of this page's runs, per scenario text + variant + options.
  const verdicts = new Map<string, Verdict>();
  const keyOf = (variant: string): string => JSON.stringify([store.state.text, variant, store.state.options, store.state.custom]);
  let running = false;

  /** Explore `variant`. `focus`: the outcome kinds the question is about
   * (trying a fix: the race found before); other outcomes are named, not
   * counted as the race. */
  const run = async (variant: string, focus: string[] = []): Promise<void> => {
    const sc = store.state.scenario;
    if (!sc || running) return;
    running = true;
    const key = keyOf(variant);
    verdicts.set(key, { text: 'exploring…', state: 'running' });
    draw();
    // What the variant is expected to show under the options of this run,
    // and which of it is the race.
    const chosen = optionValues(sc, store.state.options);
    const v = sc.variants.find((x) => x.name === variant);
    const want = v ? rows(sc, v, chosen).filter((e) => e.expect === 'found').map((e) => e.kind) : [];
    const race = raceKinds(sc, chosen).filter((k) => want.includes(k));
    // Finding stops at the first bound that shows every kind the row
    // expects (S2 convert-under-mmap-lock loses a write with 0 preemptions
    // and deadlocks with 1: stopping at the race alone would leave the
    // deadlock out of the verdict).
    const find = focus.length === 0 && v !== undefined && expectsFailure(sc, v, chosen) ? want : [];
    const res = await hooks.explore(variant, find);
    running = false;
    if (!res) {
      verdicts.set(key, { text: 'the exploration did not finish (see Run)', state: 'error' });
      draw();
      return;
    }
    const { report, target, bound } = res;
    const st = report.stats;
    // An error the man page lists for what the program did (`expected`) is
    // not a finding: it is named on the Outcomes tab, quietly.
    const findings = report.outcomes.filter((r) => !r.key.expected);
    const relevant = focus.length ? findings.filter((r) => focus.includes(outcomeKindName(r.key.kind) ?? '')) : findings;
    if (relevant.length === 0) {
      const what = focus.length ? focus.join(' or ') : 'any outcome';
      const others = [...new Set(findings.map((r) => kindLabel(r.key.kind)))];
      const besides = others.length ? `; it does show ${others.join(', ')} (see the Outcomes tab)` : '';
      verdicts.set(
        key,
        st.exhausted
          ? { text: `no interleaving ${bound === NO_BOUND ? 'at all' : `within preemption bound ${bound}`} reaches ${what} (${st.executions} executions, complete)${besides}`, state: 'none-complete' }
          : { text: `no ${what} in ${st.executions} executions (the search did not finish: absence not proven)${besides}`, state: 'none-bounded' },
      );
      draw();
      hooks.show();
      return;
    }
    // The outcome to show: the race's kind, else another kind the variant
    // expects, else the one with the fewest preemptions. (A side effect the
    // variant also expects, S5's dio_warn_stale_pagecache, can need fewer
    // preemptions than the race: a search with no bound reports the fewest
    // among the runs it kept.)
    const byPreemptions = [...relevant].sort((a, b) => a.fewest_preemptions - b.fewest_preemptions);
    const first = (kinds: string[]) => byPreemptions.find((r) => kinds.includes(outcomeKindName(r.key.kind) ?? ''));
    const rec = first(race) ?? first(want) ?? byPreemptions[0];
    const kinds = [...new Set(findings.map((r) => kindLabel(r.key.kind)))].join(', ');
    verdicts.set(key, {
      text: `found ${kinds} (${st.executions} executions${st.exhausted ? `, complete ${boundPhrase(bound)}` : st.stopped_at_find ? `, stopped once found ${boundPhrase(bound)}` : ''})`,
      state: 'found',
      sentence: outcomeSentence(rec.fewest),
      kind: outcomeKindName(rec.key.kind) ?? undefined,
    });
    draw();
    await hooks.open(rec, target);
  };

  const draw = (): void => {
    const sc = store.state.scenario;
    if (!sc) return;
    const chosen = optionValues(sc, store.state.options);
    const body = h('tbody');
    let lastFound: { variant: string; verdict: Verdict } | null = null;
    // Variants may name their own bound (S2's fixes search every
    // interleaving, its other variants two preemptions): then each row
    // says its own.
    const bounds = new Set(sc.variants.map((v) => variantBound(sc, v.name)));
    const boundNote = (b: number): string => (b === NO_BOUND ? 'checked over every interleaving' : `checked with at most ${b} preemption${b === 1 ? '' : 's'}`);
    for (const v of sc.variants) {
      const fails = expectsFailure(sc, v, chosen);
      const verdict = verdicts.get(keyOf(v.name));
      if (verdict?.state === 'found') lastFound = { variant: v.name, verdict };
      const action = h(
        'button',
        { type: 'button', class: fails ? 'primary' : '', 'data-testid': `overview-run-${v.name}`, disabled: running },
        fails ? 'Find the race' : 'Check every interleaving',
      );
      action.addEventListener('click', () => void run(v.name));
      const expected = rows(sc, v, chosen)
        .map((e) => `${e.kind} ${e.expect}`)
        .join(', ');
      body.appendChild(
        h(
          'tr',
          { 'data-testid': `overview-variant-${v.name}`, class: v.name === store.state.variant ? 'on' : '' },
          h('td', {}, h('code', {}, v.name), v.label ? h('div', { class: 'tag' }, v.label) : null),
          h('td', { class: 'small' }, v.code ?? v.doc ?? ''),
          h('td', { class: 'small' }, v.claim ?? '', v.confidence ? h('div', { class: 'muted' }, `confidence ${v.confidence}`) : null),
          h('td', { class: 'small' }, expected || '—', bounds.size > 1 ? h('div', { class: 'muted', 'data-testid': `overview-bound-${v.name}` }, boundNote(variantBound(sc, v.name))) : null),
          h(
            'td',
            { class: `small verdict ${verdict?.state ?? ''}`, 'data-testid': `overview-verdict-${v.name}`, 'data-state': verdict?.state ?? '' },
            verdict ? verdict.text : 'not run yet',
          ),
          h('td', {}, action),
        ),
      );
    }
    const story = sc.meta.story
      .trim()
      .split(/\n\s*\n/)
      .map((p) => h('p', {}, p.replace(/\s*\n\s*/g, ' ')));
    // The found race, its sentence and the fix to try: on this tab and
    // above the timeline (built twice: a node lives in one place).
    const found = lastFound;
    // `onTimeline`: above the schedule, which already carries the sentence.
    const after = (onTimeline: boolean): HTMLElement | null => {
      if (!found) return null;
      const fix = fixFor(sc, found.variant, chosen);
      const fixBtn = fix
        ? h('button', { type: 'button', class: 'primary', 'data-testid': 'overview-try-fix', disabled: running }, `Now try the fix: ${fix.name}`)
        : null;
      fixBtn?.addEventListener('click', () => {
        if (fix) void run(fix.name, found.verdict.kind ? [found.verdict.kind] : []);
      });
      const fixVerdict = fix ? verdicts.get(keyOf(fix.name)) : undefined;
      return h(
        'div',
        { class: 'found' },
        onTimeline ? null : h('p', { 'data-testid': 'overview-sentence' }, h('strong', {}, `${found.variant}: `), found.verdict.sentence ?? ''),
        onTimeline
          ? h('p', { class: 'small muted' }, `The shortest failing schedule of ${found.variant}: play it step by step below (space, arrows); the Disk & journal tab shows the blocks at each step.`)
          : h('p', { class: 'small muted' }, 'Its shortest failing schedule is on the Timeline tab; the Disk & journal tab shows the blocks at each step.'),
        fixBtn,
        fixVerdict && fix
          ? h('p', { 'data-testid': 'overview-fix-verdict', 'data-state': fixVerdict.state }, h('strong', {}, `${fix.name}: `), fixVerdict.text)
          : null,
      );
    };
    fill(banner, after(true));
    fill(
      root,
      h('h2', { class: 'sc-title' }, sc.meta.title),
      h('div', { class: 'story' }, ...story),
      sc.meta.source ? h('p', { class: 'muted small' }, `Source: ${sc.meta.source}`) : null,
      h('h3', {}, 'Variants: the code, the claim, and what the model says'),
      h(
        'table',
        { class: 'grid overview', 'data-testid': 'overview-table' },
        h('thead', {}, h('tr', {}, ...['variant', 'code', 'claim', 'expected', 'verdict', ''].map((t) => h('th', {}, t)))),
        body,
      ),
      h(
        'p',
        { class: 'small muted' },
        `Each action explores every interleaving of the variant ${bounds.size > 1 ? 'within the bound its row names' : [...bounds][0] === NO_BOUND ? 'whatever its number of preemptions' : `with at most ${[...bounds][0]} preemption${[...bounds][0] === 1 ? '' : 's'}`} (DFS with partial-order reduction), with the options chosen on the left; finding a race tries 0 preemptions first, then 1, and so on (up to ${FIND_BOUND} before the row's own search), and stops as soon as it has shown, so a found race has the fewest preemptions any schedule showing it has. Strategy, bound and seed are under Run.`,
      ),
      after(false),
    );
  };

  store.subscribe((_s, changed) => {
    if (changed.has('scenario') || changed.has('options') || changed.has('variant') || changed.has('custom')) draw();
  });
}
