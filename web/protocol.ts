// Messages between the page and the engine worker. The page sends
// {id, req: {cmd, ...args}}; the worker answers {id, answer} where answer is
// {ok: true, ...} or {ok: false, error: {kind, message}}. Plain data only.

import outcomeKinds from './outcome-kinds.json';

export type Request =
  | { cmd: 'hello' }
  | { cmd: 'crc32c'; text: string }
  | { cmd: 'scenarios' }
  | { cmd: 'scenario'; key: string }
  | { cmd: 'check-scenario'; text: string }
  | { cmd: 'resolve-scenario'; text: string; variant: string; options: Record<string, string>; custom?: CustomKernel }
  | { cmd: 'history' }
  | { cmd: 'link-encode'; link: Link }
  | { cmd: 'link-decode'; fragment: string }
  | { cmd: 'capabilities' }
  | {
      cmd: 'explore';
      target: Target;
      strategy: LinkStrategy;
      seed: number;
      maxExecutions: number;
      shard: [number, number];
      progressId: number;
      progressEvery?: number;
      /** Outcome kind names (`lost-write`...): stop once each has shown
       * ("Find the race"; the search then proves nothing absent). */
      stopWhenFound?: string[];
    }
  | { cmd: 'merge'; parts: ExploreBody[] }
  | { cmd: 'replay'; target: Target; token: string }
  | { cmd: 'chrome-trace'; target: Target; token: string }
  | { cmd: 'refind'; fragment: string; kind?: string }
  | { cmd: 'manual'; target: Target; choices: number[] }
  | { cmd: 'image'; target: Target; token: string; step?: number; choices?: number }
  | { cmd: 'disk'; target: Target; token: string; step?: number }
  | ImageRequest;

// ---- image library (web/library.ts; crate/wasm/device/commands.rs) ----

export type Backend = 'opfs' | 'idb';

/** mkfs options (all optional: mkfs.ext4's defaults). */
export interface MkfsRequest {
  blockSize?: number;
  inodeSize?: number;
  /** A -O list, e.g. "inline_data,^metadata_csum". */
  features?: string;
  volumeName?: string;
  journalBlocks?: number;
}

export type ImageRequest =
  | { cmd: 'image-list' }
  | { cmd: 'image-create'; name: string; backend: Backend; size: number; mkfs?: MkfsRequest }
  | { cmd: 'image-import'; name: string; backend: Backend; bytes: Uint8Array }
  | { cmd: 'image-export'; name: string }
  | { cmd: 'image-delete'; name: string }
  | { cmd: 'image-open'; name: string }
  | { cmd: 'image-close'; name: string }
  | { cmd: 'image-info'; name: string }
  | { cmd: 'image-fsck'; name: string }
  | { cmd: 'image-read-file'; name: string; path: string }
  | { cmd: 'image-write-file'; name: string; path: string; bytes: Uint8Array }
  | { cmd: 'image-write-blocks'; name: string; offset: number; bytes: Uint8Array }
  | { cmd: 'image-inject-fault'; name: string; fault: 'quota' | 'flush' | 'idb-abort' }
  /** Keep a stored image as a scenario base in this worker; with `text`,
   * check it against that scenario first (typed base-* errors). */
  | { cmd: 'image-base-load'; name: string; text?: string }
  /** Give an exploring worker a base image's bytes (hash verified). */
  | { cmd: 'image-base-put'; name: string; hash: string; bytes: Uint8Array };

/** A stored image as a run's starting point: its library name and the
 * FNV-1a 64 of its bytes (16 hex digits); the hash decides. */
export interface BaseRef {
  name: string;
  hash: string;
}

export interface BaseLoaded extends BaseRef {
  size: number;
  bytes: Uint8Array;
}

/** The engine's superblock summary of an image. */
export interface FsSummary {
  blockSize: number;
  blocksCount: number;
  freeBlocksCount: number;
  inodesCount: number;
  freeInodesCount: number;
  volumeName: string;
  features: string[];
  needsRecovery: boolean;
  /** Why the engine opens it read-only ("bigalloc", "quota", ...) or not at
   * all ("unsupported: meta_bg"); undefined: writable (serde's `None`). */
  readOnly?: string;
}

export interface ImageInfo {
  name: string;
  backend: Backend;
  /** Undefined: the image is busy in another tab (serde's `None`). */
  size?: number;
  open: boolean;
  /** Held open by another tab (OPFS). */
  busy?: boolean;
  /** Undefined: not ext4 (or busy). */
  fs?: FsSummary;
}

export interface ImageList {
  images: ImageInfo[];
}

export interface ImageBytes {
  name: string;
  size: number;
  bytes: Uint8Array;
}

/** `image-read-file`: the file's bytes. */
export interface FileBytes {
  name: string;
  path: string;
  size: number;
  bytes: Uint8Array;
}

/** `image-fsck` (crate/engine/fsck FsckReport): clean when no finding is
 * one `e2fsck -n` calls an error. */
export interface FsckBody {
  clean: boolean;
  report: { findings: unknown[]; inodes_used: number; blocks_used: number };
}

/** Storage errors carry a typed kind: image-busy, quota-exceeded,
 * write-failed, flush-failed, read-failed, idb-blocked, idb-aborted,
 * idb-closed, not-found, exists, invalid, storage-error; engine-error; and
 * for a scenario base image: base-too-large, base-not-ext4, base-block-size,
 * base-inode-size, base-missing-features, base-unwanted-features,
 * base-journal, base-unsupported, base-not-clean, base-file-exists,
 * base-no-space, base-engine-error, base-not-loaded, base-hash-mismatch. */
export interface StorageErrorBody extends ErrorBody {
  image?: string;
  op?: string;
  domName?: string;
}

export interface ErrorBody {
  kind: string;
  message: string;
  /** link-hash-mismatch: the decoded link, to open against today's text. */
  link?: Link;
}

export type Answer<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

/** The body of a successful answer to each command, by its `cmd`: what
 * `EngineClient.request`/`call` resolve to (crate/wasm/mod.rs
 * `handle_message`, crate/wasm/device/commands.rs). tests/protocol_types.rs
 * checks the non-storage ones against the Rust serde output. */
export interface Answers {
  hello: Hello;
  crc32c: { crc32c: string };
  scenarios: BuiltinList;
  scenario: ScenarioBody;
  'check-scenario': CheckBody;
  'resolve-scenario': ResolveBody;
  history: HistoryBody;
  'link-encode': EncodeBody;
  'link-decode': DecodeBody;
  capabilities: Capabilities;
  explore: ExploreBody;
  merge: ExploreBody;
  replay: RunBody;
  'chrome-trace': ChromeBody;
  refind: RefindBody;
  manual: RunBody;
  image: ImageAtStep;
  disk: DiskBody;
  'image-list': ImageList;
  'image-create': ImageInfo;
  'image-import': ImageInfo;
  'image-export': ImageBytes;
  'image-delete': { name: string };
  'image-open': ImageInfo;
  'image-close': { name: string };
  'image-info': ImageInfo;
  'image-fsck': FsckBody;
  'image-read-file': FileBytes;
  'image-write-file': { name: string; path: string; size: number };
  'image-write-blocks': { name: string; offset: number; size: number };
  'image-inject-fault': { name: string; armed: boolean };
  'image-base-load': BaseLoaded;
  'image-base-put': BaseRef;
}

export interface Hello {
  engine: string;
  version: string;
  crc32cCheck: string;
  /** Which module answered: the small one (no engine) or the whole. */
  module: 'scenario' | 'engine';
}

/** The commands the scenario module (pkg-lite/, no engine) answers; the
 * worker sends every other command to the engine module (pkg/), which it
 * loads on the first such command (web/worker.ts). The same list as
 * crate/view/mod.rs SCENARIO_COMMANDS (tests/protocol_types.rs checks). */
export const SCENARIO_COMMANDS: readonly string[] = [
  'hello',
  'crc32c',
  'scenarios',
  'scenario',
  'check-scenario',
  'resolve-scenario',
  'history',
  'link-encode',
  'link-decode',
  'capabilities',
];

export interface Envelope {
  id: number;
  answer: Answer<Record<string, unknown>>;
}

// ---- scenarios (crate/scenario, serialized by serde) ----

export interface BuiltinInfo {
  id: string;
  name: string;
  file: string;
  title: string;
  hash: string;
}

export interface BuiltinList {
  builtins: BuiltinInfo[];
}

export interface Meta {
  id: string;
  name: string;
  title: string;
  story: string;
  source?: string;
}

export interface Expectation {
  kind: string;
  expect: 'found' | 'absent';
  when?: Record<string, string>;
  tasks?: string[];
  locks?: string[];
  warning?: string;
  errno?: string[];
  file?: string;
  note?: string;
}

export interface Variant {
  name: string;
  label?: string;
  doc?: string;
  code?: string;
  claim?: string;
  confidence?: string;
  kernel?: string;
  apply?: string[];
  revert?: string[];
  switches?: Record<string, string>;
  mount?: Record<string, unknown>;
  memory?: string;
  /** The variant's own DFS bound, when not the scenario's (see `variantBound`). */
  preemption_bound?: number | 'none';
  expect?: Expectation[];
}

export interface OptionValue {
  name: string;
  doc?: string;
}

export interface OptionDecl {
  name: string;
  doc?: string;
  default: string;
  values: OptionValue[];
}

export interface Switch {
  name: string;
  values: string[];
  default: string;
  doc?: string;
}

export interface Task {
  name: string;
  kind: 'user' | 'kworker' | 'kjournald2';
  process?: string;
  doc?: string;
  setup?: boolean;
  when?: Record<string, string>;
  steps?: Array<Record<string, unknown> & { op: string }>;
}

export interface Explore {
  strategy: 'random' | 'pct' | 'dfs';
  /** A number, or "none": every interleaving (see `scenarioBound`). */
  preemption_bound: number | 'none';
  pct_depth: number;
  budget: number;
  seed: number;
  max_steps: number;
  default_variant?: string;
}

/** Mount options and the device's stable-pages property (crate/scenario/model.rs `Mount`). */
export interface Mount {
  data: string;
  delalloc: boolean;
  /** Resolved: the scenario's value or the kernel's default. */
  dioread_nolock?: boolean;
  dax?: boolean;
  stable_writes?: boolean;
}

export interface Scenario {
  format: number;
  meta: Meta;
  image: Record<string, unknown>;
  mount: Mount;
  explore: Explore;
  /** `[kernel]` (format 2): the release the variants run. */
  kernel?: { version: string };
  switches?: Switch[];
  variants: Variant[];
  options?: OptionDecl[];
  processes?: Array<Record<string, unknown>>;
  tasks: Task[];
}

export interface ScenarioBody {
  id?: string;
  text: string;
  hash: string;
  scenario: Scenario;
  defaultVariant?: string;
}

export interface ScenarioErrorBody {
  kind: string;
  message: string;
  path: string;
  location?: { line: number; column: number; offset: number };
  rendered: string;
}

export interface CheckBody {
  errors: ScenarioErrorBody[];
  scenario?: Scenario;
  defaultVariant?: string;
  hash: string;
  builtin?: string;
}

export interface RunConfig {
  variant: string;
  options: Record<string, string>;
  mount: Mount;
  memory: string;
  switches: Record<string, string>;
  kernel?: string;
  changes?: string[];
  custom?: CustomKernel;
  tasks: number[];
}

export interface ResolveBody {
  config: RunConfig;
  task_names: string[];
  /** The run's changes against its version's own (crate/wasm/cmd_scenario.rs). */
  delta: CustomKernel;
}

/** A variant's kernel changed by hand (crate/scenario/resolve.rs
 * CustomKernel): that release plus `apply` minus `revert`. */
export interface CustomKernel {
  kernel?: string;
  apply?: string[];
  revert?: string[];
}

/** One modelled kernel change (crate/scenario/history.rs HistoryRow). */
export interface HistoryRow {
  id: string;
  kind: 'commit' | 'proposal' | 'hypothetical';
  title: string;
  author: string;
  date: string;
  /** `v4.5-rc1`, or `unmerged`. */
  merged: string;
  source: string;
  functions: string[];
  requires: string[];
  doc: string;
  /** Whether a kernel path reads it; the others cannot be applied or reverted. */
  modelled: boolean;
  used_by: Array<{ scenario: string; variant: string; how: 'version' | 'apply' | 'revert' }>;
}

export interface HistoryBody {
  changes: HistoryRow[];
  /** Versions worth offering, oldest first. */
  versions: string[];
}

// ---- share links (crate/scenario/link) ----

export type LinkScenario = { kind: 'builtin'; id: string; hash: string } | { kind: 'text'; text: string };

export type LinkStrategy = { kind: 'random' } | { kind: 'pct'; depth: number } | { kind: 'dfs'; bound: number };

/** A DFS `bound` that means no preemption bound: every interleaving (the
 * link format's `NO_BOUND`, crate/scenario/link, what `ext4lab explore --bound none`
 * writes). */
export const NO_BOUND = 4294967295;

/** A scenario's `[explore] preemption_bound` as a DFS bound: "none" is `NO_BOUND`. */
export function scenarioBound(e: Explore): number {
  return e.preemption_bound === 'none' ? NO_BOUND : e.preemption_bound;
}

/** The DFS bound of `variant` (crate/scenario `Scenario::bound_of`): its
 * own `preemption_bound` if it has one, else the scenario's. */
export function variantBound(sc: { explore: Explore; variants: Variant[] }, variant: string): number {
  const own = sc.variants.find((v) => v.name === variant)?.preemption_bound;
  return own === undefined ? scenarioBound(sc.explore) : own === 'none' ? NO_BOUND : own;
}

/** "under preemption bound 2" / "with no preemption bound". */
export function boundPhrase(bound: number): string {
  return bound === NO_BOUND ? 'with no preemption bound' : `under preemption bound ${bound}`;
}

export interface Link {
  scenario: LinkScenario;
  variant: string;
  options: Record<string, string>;
  strategy: LinkStrategy;
  seed: number;
  schedule: string;
  /** The trace step shown. The page may send null; the worker answers
   * none as undefined (serde_wasm_bindgen's `None`). */
  step?: number | null;
  /** The stored image the runs start from (library name + content hash). */
  base?: BaseRef;
  /** The ext4lab version whose engine made the schedule (link version 3). */
  engine?: string;
  /** The outcome kind the link shows (`deadlock`, `stale-data`...). */
  outcome?: string;
  /** The variant's kernel changed by hand (the custom kernel panel). */
  custom?: CustomKernel;
}

export interface EncodeBody {
  fragment: string;
}

export interface DecodeBody {
  link: Link;
  text: string;
  /** "ext4lab 0.2.0": the engine that made the link's schedule. */
  made_with: string;
}

/** `{cmd: 'refind', fragment, kind?}` (crate/wasm/cmd_explore.rs handle_refind). */
export interface RefindBody {
  fragment: string;
  kind: string;
  steps: number;
  executions: number;
  made_with: string;
}

/** The scenario outcome-kind name of a simulator outcome kind (as the
 * scenario rows and links name them; kernel/runner.rs kind_name). The table
 * is web/outcome-kinds.json, which scripts/bench-unbounded.mjs reads too. */
export function outcomeKindName(k: OutcomeKind): string | null {
  const names: Record<string, string> = outcomeKinds;
  return typeof k === 'string' ? (names[k] ?? null) : null;
}

// ---- running (crate/sim, through crate/wasm/cmd_explore.rs) ----

export type Target =
  | { kind: 'scenario'; text: string; variant: string; options: Record<string, string>; base?: BaseRef; custom?: CustomKernel }
  | { kind: 'model'; name: string };

export interface ModelInfo {
  name: string;
  doc: string;
}

export interface Capabilities {
  explore: boolean;
  missing: string[];
  models: ModelInfo[];
}

export interface Stats {
  executions: number;
  complete: number;
  cut_by_step_limit: number;
  deadlocks: number;
  crashes: number;
  pruned_by_dpor: number;
  foreign_executions: number;
  /** Runs bounded DFS stopped at a prefix whose trace it had covered (not
   * counted as executions). */
  cut_runs: number;
  /** Steps of the cut runs, their replayed prefixes included (`steps`
   * counts the executions' steps only). */
  cut_steps: number;
  distinct_outcomes: number;
  exhausted: boolean;
  budget_exhausted: boolean;
  cancelled: boolean;
  steps: number;
  /** DFS: the executions the whole search is estimated to count (0: no
   * estimate yet; crate/sim/sched/dfs.rs `estimated_executions`). */
  estimated_executions?: number;
  /** Bounded DPOR gave its reduction up for naive DFS (present only when
   * true; crate/sim/sched/dfs.rs, "Giving up"). */
  reduction_given_up?: boolean;
  /** The search stopped once every `stopWhenFound` kind showed, before its
   * end (present only when true). */
  stopped_at_find?: boolean;
}

/** serde's external tagging: "Deadlock" or {"Other": "v=1"}. */
export type OutcomeKind = string | { Other: string };

export interface WaitInfo {
  task: string;
  holds: string[];
  wants: string;
  wants_class: string;
  waits_for: string[];
  stack: string[];
}

export interface ChainLink {
  from: string;
  to: string;
  task: string;
  held_at: string;
  acquired_at: string;
  declared: boolean;
}

export interface LockdepReport {
  task: string;
  trying: string;
  holding: string;
  new_link: ChainLink;
  existing: ChainLink[];
  scenario: Array<[string, string]>;
  text: string;
}

export type Detail = { Deadlock: { cycle: WaitInfo[]; blocked: WaitInfo[] } } | { Lockdep: LockdepReport };

export interface Outcome {
  kind: OutcomeKind;
  tasks: string[];
  locks: string[];
  blocks: number[];
  step: number;
  site: string;
  message: string;
  /** Undefined when the outcome has none (serde's `None`). */
  detail?: Detail;
  /** A user-visible error the syscall's man page lists for what the program
   * did (ENOSPC, SIGBUS past EOF, EINVAL on unaligned O_DIRECT): shown
   * quietly, not as a failure. Absent when false. */
  expected?: boolean;
}

export interface OutcomeKey {
  kind: OutcomeKind;
  tasks: string[];
  locks: string[];
  blocks: number[];
  site: string;
  expected?: boolean;
}

export interface OutcomeRecord {
  key: OutcomeKey;
  first: Outcome;
  first_execution: number;
  first_token: string;
  count: number;
  fewest_preemptions: number;
  fewest_token: string;
  fewest: Outcome;
  /** The shortest schedule (fewest choices) showing it, and its length. */
  shortest_token: string;
  shortest_len: number;
}

/** `{cmd: 'chrome-trace'}`: Chrome trace-event JSON text (opens in Perfetto). */
export interface ChromeBody {
  json: string;
}

/** `{cmd: 'image'}`: the disk image after a trace step (what debugfs opens). */
export interface ImageAtStep {
  steps: number;
  bytes: Uint8Array;
}

export interface ExploreBody {
  stats: Stats;
  outcomes: OutcomeRecord[];
  lockGraph: Array<[string, string]>;
  tokens: string[];
}

export type EventKind =
  | { type: 'Spawn'; name: string; process: string }
  | { type: 'Step'; actor: number; op: string }
  | { type: 'Finish' }
  | { type: 'Enter'; func: string }
  | { type: 'Exit'; func: string }
  | { type: 'Acquire'; lock: string; class: string; mode: string }
  | { type: 'Release'; lock: string }
  | { type: 'Block'; lock: string }
  | { type: 'Wake'; task: string; lock: string }
  | { type: 'BioSubmit'; bio: number; block: number; write: boolean; blocks?: number }
  | { type: 'BioComplete'; bio: number; block: number }
  | { type: 'Crash'; point: string }
  | { type: 'Warn'; site: string }
  | { type: 'Bug'; site: string }
  | { type: 'Error'; site: string; errno: string }
  | { type: 'Flush'; atomic: string; task: string }
  | { type: 'Note'; text: string }
  | { type: 'Signal'; object: string; what: string };

export interface TraceEvent {
  step: number;
  /** The task's index in `Trace.tasks`; undefined: the setup (no task). */
  task?: number;
  stack: string[];
  kind: EventKind;
}

export interface Trace {
  tasks: Array<{ name: string; process: string }>;
  events: TraceEvent[];
}

export interface Pending {
  kind: 'schedule' | 'value';
  n: number;
  candidates: number[];
  labels: string[];
  preemptive: boolean[];
}

export interface RunBody {
  token: string;
  end: string;
  steps: number;
  preemptions: number;
  outcomes: Outcome[];
  trace?: Trace;
  traceHash?: string;
  divergence?: string;
  /** The step at which the replayed schedule stopped fitting the model. */
  divergenceStep?: number;
  pending?: Pending;
}

// ---- disk and journal view (crate/wasm/cmd_disk.rs, engine/journal/logview.rs) ----

export interface ExtentView {
  lblk: number;
  len: number;
  pblk: number;
  unwritten: boolean;
}

export interface PageView {
  uptodate: boolean;
  dirty: boolean;
  delay: boolean;
  unwritten: boolean;
  mapped?: number | null;
  origins: string[];
}

export type BlockState = 'hole' | 'delalloc' | 'unwritten' | 'stale' | 'dirty' | 'written';

export interface BlockView {
  lblk: number;
  pblk?: number | null;
  state: BlockState;
  unwritten: boolean;
  disk?: string | null;
  page?: PageView | null;
}

export interface FileView {
  name: string;
  ino: number;
  layout: 'extents' | 'indirect' | 'inline';
  i_size: number;
  i_disksize: number;
  i_reserved_data_blocks: number;
  extents: ExtentView[];
  blocks: BlockView[];
  error?: string | null;
}

export interface LoggedBlock {
  log_block: number;
  blocknr: number;
  flags: number;
}

export interface LoggedTransaction {
  tid: number;
  descriptors: number[];
  tags: LoggedBlock[];
  revoke_blocks: number[];
  revokes: number[];
  commit?: number | null;
  commit_sec?: number | null;
  live: boolean;
}

export interface LogView {
  s_first: number;
  s_maxlen: number;
  s_sequence: number;
  s_start: number;
  csum: string;
  transactions: LoggedTransaction[];
  problems: string[];
}

export interface DiskState {
  steps: number;
  end: string;
  files: FileView[];
  journal?: LogView | null;
  journal_error?: string | null;
}

export interface DiskBody {
  block_size: number;
  start: DiskState;
  at: DiskState;
}
