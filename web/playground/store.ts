// The page state a share link carries, and who is told when it changes.
// One store; every view renders from it and writes to it through `set`.
import type { BaseRef, BuiltinInfo, CustomKernel, LinkStrategy, Scenario } from '../protocol';
import { variantBound } from '../protocol';

export interface PageState {
  /** The built-in the text came from, if it is still that built-in's text. */
  builtin: string | null;
  /** The scenario text (a built-in's or the editor's). */
  text: string;
  /** The last valid parse of `text` (null while the editor has errors). */
  scenario: Scenario | null;
  variant: string;
  options: Record<string, string>;
  strategy: LinkStrategy;
  seed: number;
  /** The simulator's replay token of the schedule shown ('' = none). */
  schedule: string;
  /** The step of the trace to show. */
  step: number | null;
  /** The simulator reference model being run instead of the scenario
   * (null: the scenario). A model run's link is the page's own `#m1.` form. */
  model: string | null;
  /** The library image runs start from (null: the recipe's mkfs). */
  base: BaseRef | null;
  /** The outcome kind the shown schedule leads to (links carry it so a
   * schedule another engine made can be found again). */
  outcome: string | null;
  /** The variant's kernel changed by hand (null: the variant's own). */
  custom: CustomKernel | null;
}

export type Change = keyof PageState;

export class Store {
  builtins: BuiltinInfo[] = [];
  private s: PageState = {
    builtin: null,
    text: '',
    scenario: null,
    variant: '',
    options: {},
    strategy: { kind: 'dfs', bound: 2 },
    seed: 0,
    schedule: '',
    step: null,
    model: null,
    base: null,
    outcome: null,
    custom: null,
  };
  private listeners: Array<(s: PageState, changed: Set<Change>) => void> = [];

  get state(): Readonly<PageState> {
    return this.s;
  }

  set(patch: Partial<PageState>): void {
    const changed = new Set<Change>();
    for (const [k, v] of Object.entries(patch) as Array<[Change, unknown]>) {
      if (JSON.stringify(this.s[k]) !== JSON.stringify(v)) changed.add(k);
    }
    if (changed.size === 0) return;
    this.s = { ...this.s, ...patch };
    for (const l of this.listeners) l(this.s, changed);
  }

  subscribe(l: (s: PageState, changed: Set<Change>) => void): void {
    this.listeners.push(l);
  }
}

/** Options at their defaults, overlaid with `chosen` where it names a real value. */
export function optionValues(sc: Scenario, chosen: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of sc.options ?? []) {
    const v = chosen[o.name];
    out[o.name] = v !== undefined && o.values.some((x) => x.name === v) ? v : o.default;
  }
  return out;
}

/** The strategy a scenario's [explore] table starts with, for `variant`
 * (a variant may name its own DFS bound). */
export function defaultStrategy(sc: Scenario, variant: string): LinkStrategy {
  switch (sc.explore.strategy) {
    case 'random':
      return { kind: 'random' };
    case 'pct':
      return { kind: 'pct', depth: sc.explore.pct_depth };
    default:
      return { kind: 'dfs', bound: variantBound(sc, variant) };
  }
}
