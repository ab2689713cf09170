// The timeline of one execution: one lane per task (colour per task),
// kernel function spans (nested), lock hold and wait spans, bios in flight,
// crash/warning/error markers. Clicking a step shows the state there: each
// task's kernel stack, the locks it holds, what it waits for, and the
// events of that step.
import { fill, h } from '../dom';
import type { RunBody, Trace, TraceEvent } from '../protocol';
import { s } from '../svg';
import { taskClass } from './picker';

const LANE = 62;
const LEFT = 96;

interface Span {
  lane: number;
  from: number;
  to: number;
  row: number;
  label: string;
  cls: string;
}

interface Marker {
  lane: number;
  step: number;
  label: string;
  cls: string;
}

export function layout(trace: Trace, last: number, stuck: Map<string, string> = new Map()): { spans: Span[]; markers: Marker[]; bioLane: number } {
  const spans: Span[] = [];
  const markers: Marker[] = [];
  const fn: Array<Array<{ name: string; from: number }>> = trace.tasks.map(() => []);
  const held = new Map<string, { lane: number; from: number; label: string }>();
  const waiting = new Map<string, { lane: number; from: number; lock: string }>();
  const bios = new Map<number, { from: number; label: string }>();
  const bioLane = trace.tasks.length;
  const nameToLane = new Map(trace.tasks.map((t, i) => [t.name, i]));
  for (const ev of trace.events) {
    const lane = ev.task ?? -1;
    const k = ev.kind;
    switch (k.type) {
      case 'Enter':
        if (lane >= 0) fn[lane].push({ name: k.func, from: ev.step });
        break;
      case 'Exit': {
        const open = lane >= 0 ? fn[lane].pop() : undefined;
        if (open) spans.push({ lane, from: open.from, to: ev.step, row: fn[lane].length, label: open.name, cls: 'kfn' });
        break;
      }
      case 'Acquire':
        held.set(`${lane}/${k.lock}`, { lane, from: ev.step, label: `${k.lock}${k.mode === 'Shared' ? ' (r)' : ''}` });
        closeWait(lane, ev.step);
        break;
      case 'Release': {
        const hd = held.get(`${lane}/${k.lock}`);
        held.delete(`${lane}/${k.lock}`);
        if (hd) spans.push({ lane, from: hd.from, to: ev.step, row: 4, label: hd.label, cls: 'hold' });
        break;
      }
      case 'Block':
        if (lane >= 0) waiting.set(String(lane), { lane, from: ev.step, lock: k.lock });
        break;
      case 'Wake': {
        const w = nameToLane.get(k.task);
        if (w !== undefined) closeWait(w, ev.step);
        break;
      }
      case 'BioSubmit':
        bios.set(k.bio, { from: ev.step, label: `bio ${k.bio} ${k.write ? 'W' : 'R'} blk ${k.block}${(k.blocks ?? 1) > 1 ? `+${(k.blocks ?? 1) - 1}` : ''}` });
        break;
      case 'BioComplete': {
        const b = bios.get(k.bio);
        bios.delete(k.bio);
        if (b) spans.push({ lane: bioLane, from: b.from, to: ev.step, row: 0, label: b.label, cls: 'bio' });
        break;
      }
      case 'Crash':
        markers.push({ lane: -1, step: ev.step, label: `crash: ${k.point}`, cls: 'crash' });
        break;
      case 'Warn':
        markers.push({ lane, step: ev.step, label: `WARN ${k.site}`, cls: 'warn' });
        break;
      case 'Bug':
        markers.push({ lane, step: ev.step, label: `BUG ${k.site}`, cls: 'warn' });
        break;
      case 'Error':
        markers.push({ lane, step: ev.step, label: `${k.site}: ${k.errno}`, cls: 'errno' });
        break;
      case 'Finish':
        markers.push({ lane, step: ev.step, label: 'exit', cls: 'exit' });
        break;
      default:
        break;
    }
  }
  function closeWait(l: number, step: number): void {
    const w = waiting.get(String(l));
    if (!w) return;
    waiting.delete(String(l));
    spans.push({ lane: l, from: w.from, to: step, row: 5, label: `waits ${w.lock}`, cls: 'wait' });
  }
  // Whatever is still open at the end (a deadlock) runs to the last step.
  fn.forEach((stack, lane) => stack.forEach((f, row) => spans.push({ lane, from: f.from, to: last + 1, row, label: f.name, cls: 'kfn open' })));
  for (const hd of held.values()) spans.push({ lane: hd.lane, from: hd.from, to: last + 1, row: 4, label: hd.label, cls: 'hold open' });
  for (const w of waiting.values()) spans.push({ lane: w.lane, from: w.from, to: last + 1, row: 5, label: `waits ${w.lock}`, cls: 'wait open' });
  // Tasks the deadlock oracle found stuck without a recorded block (their
  // next operation was never enabled): waiting from their last step on.
  for (const [name, lock] of stuck) {
    const lane = nameToLane.get(name);
    if (lane === undefined || waiting.has(String(lane))) continue;
    const mine = trace.events.filter((e) => e.task === lane);
    const from = mine.length ? mine[mine.length - 1].step + 1 : 0;
    spans.push({ lane, from, to: Math.max(from + 1, last + 1), row: 5, label: `waits ${lock}`, cls: 'wait open' });
  }
  for (const [, b] of bios) spans.push({ lane: bioLane, from: b.from, to: last + 1, row: 0, label: b.label, cls: 'bio open' });
  return { spans, markers, bioLane };
}

/** The state at `step`: per task, its stack, locks held, what it waits for. */
export function stateAt(trace: Trace, step: number): Array<{ task: string; stack: string[]; holds: string[]; waits: string }> {
  const out = trace.tasks.map((t) => ({ task: t.name, stack: [] as string[], holds: [] as string[], waits: '' }));
  const lane = new Map(trace.tasks.map((t, i) => [t.name, i]));
  for (const ev of trace.events) {
    if (ev.step > step) break;
    if (ev.task === undefined || !out[ev.task]) continue;
    const o = out[ev.task];
    o.stack = ev.stack;
    const k = ev.kind;
    if (k.type === 'Acquire') {
      o.holds.push(`${k.lock}${k.mode === 'Shared' ? ' (r)' : ''}`);
      o.waits = '';
    } else if (k.type === 'Release') {
      o.holds = o.holds.filter((x) => x !== k.lock && x !== `${k.lock} (r)`);
    } else if (k.type === 'Block') o.waits = k.lock;
    else if (k.type === 'Wake') {
      const w = lane.get(k.task);
      if (w !== undefined && out[w]) out[w].waits = '';
    } else if (k.type === 'Finish') o.stack = [];
  }
  return out;
}

/** The timeline shown last: the keyboard drives it while its tab is open. */
let active: { root: HTMLElement; by(d: number): void; toggle(): void; stop(): void } | null = null;
let listening = false;

/** Space plays or pauses, the arrows step (not while typing in a field). */
function listen(): void {
  if (listening) return;
  listening = true;
  document.addEventListener('keydown', (e) => {
    if (!active || active.root.offsetParent === null || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target instanceof HTMLElement ? e.target : null;
    if (t?.closest('input, textarea, select, button, .cm-editor, [contenteditable]')) return;
    if (e.key === ' ') active.toggle();
    else if (e.key === 'ArrowRight') active.by(1);
    else if (e.key === 'ArrowLeft') active.by(-1);
    else return;
    e.preventDefault();
  });
}

export function renderTimeline(root: HTMLElement, run: RunBody, onStep: (step: number) => void, initialStep: number | null): void {
  active?.stop();
  active = null;
  const trace = run.trace;
  if (!trace) {
    fill(root, h('p', { class: 'error' }, 'The replay recorded no trace.'));
    return;
  }
  const last = Math.max(0, ...trace.events.map((e) => e.step));
  // Pixels per step: wide for short runs, at least 12 for long ones.
  const SW = Math.max(12, Math.min(48, Math.floor(900 / (last + 2))));
  const stuck = new Map<string, string>();
  for (const o of run.outcomes) {
    const d = o.detail;
    if (d && 'Deadlock' in d) for (const w of [...d.Deadlock.cycle, ...d.Deadlock.blocked]) stuck.set(w.task, w.wants);
  }
  const { spans, markers, bioLane } = layout(trace, last, stuck);
  const lanes = trace.tasks.length + 1;
  const width = LEFT + (last + 2) * SW;
  const height = lanes * LANE + 22;
  const svg = s('svg', { width, height, class: 'timeline', 'data-testid': 'timeline-svg', 'data-step-width': SW, 'data-left': LEFT });
  // Step ruler.
  for (let st = 0; st <= last + 1; st++) {
    const x = LEFT + st * SW;
    svg.appendChild(s('line', { x1: x, y1: 14, x2: x, y2: height, class: st % 5 === 0 ? 'tick major' : 'tick' }));
    if (st % 5 === 0) svg.appendChild(s('text', { x: x + 2, y: 11, class: 'rule' }, String(st)));
  }
  for (let l = 0; l < lanes; l++) {
    const y = 18 + l * LANE;
    const name = l === bioLane ? 'bio' : trace.tasks[l].name;
    svg.appendChild(s('rect', { x: 0, y, width, height: LANE - 4, class: l % 2 ? 'lane odd' : 'lane' }));
    svg.appendChild(s('rect', { x: 2, y: y + 4, width: 6, height: LANE - 12, class: l === bioLane ? 'swatch-bio' : `${taskClass(l)}` }));
    svg.appendChild(s('text', { x: 12, y: y + 16, class: 'lname' }, name));
  }
  for (const sp of spans) {
    const y = 18 + sp.lane * LANE + 3 + sp.row * 9;
    const x = LEFT + sp.from * SW;
    const w = Math.max(3, (sp.to - sp.from) * SW);
    const g = s('g', { class: `span ${sp.cls} ${sp.cls === 'kfn' || sp.cls === 'kfn open' ? taskClass(sp.lane) : ''}` });
    g.appendChild(s('title', {}, `${sp.label} [${sp.from}, ${sp.to})`));
    g.appendChild(s('rect', { x, y, width: w, height: 8 }));
    if (w > 40) g.appendChild(s('text', { x: x + 2, y: y + 7 }, sp.label.slice(0, Math.floor(w / 5.6))));
    svg.appendChild(g);
  }
  for (const m of markers) {
    const x = LEFT + m.step * SW + SW / 2;
    if (m.lane < 0) {
      svg.appendChild(s('line', { x1: x, y1: 14, x2: x, y2: height, class: `marker ${m.cls}` }, s('title', {}, m.label)));
    } else {
      const y = 18 + m.lane * LANE + LANE - 12;
      svg.appendChild(s('circle', { cx: x, cy: y, r: 4, class: `marker ${m.cls}` }, s('title', {}, m.label)));
    }
  }
  const cursor = s('rect', { x: LEFT, y: 14, width: SW, height: height - 14, class: 'cursor' });
  svg.appendChild(cursor);
  const state = h('div', { class: 'stepstate', 'data-testid': 'step-state' });
  const scroller = h('div', { class: 'tlscroll', tabindex: '0', role: 'region', 'aria-label': 'Timeline of the schedule' });
  scroller.appendChild(svg);
  let current = 0;
  const select = (st: number): void => {
    const step = Math.max(0, Math.min(last, st));
    current = step;
    cursor.setAttribute('x', String(LEFT + step * SW));
    renderState(state, trace, step, step === last ? stuck : new Map());
    stepLabel.textContent = `step ${step} of ${last}`;
    // Keep the cursor in view while playing or stepping.
    const x = LEFT + step * SW;
    if (x < scroller.scrollLeft + LEFT || x > scroller.scrollLeft + scroller.clientWidth - SW) scroller.scrollLeft = Math.max(0, x - scroller.clientWidth / 2);
    onStep(step);
  };
  svg.addEventListener('click', (ev) => {
    stop();
    const r = svg.getBoundingClientRect();
    select(Math.floor((ev.clientX - r.left - LEFT) / SW));
  });
  // Play the schedule: one scheduling step at a time.
  const btn = (id: string, label: string, title: string): HTMLButtonElement => h('button', { type: 'button', 'data-testid': id, title, 'aria-label': title }, label);
  const first = btn('tl-first', '|◀', 'first step');
  const back = btn('tl-back', '◀', 'previous step (←)');
  const play = btn('tl-play', '▶ play', 'play the schedule step by step (space)');
  const fwd = btn('tl-forward', '▶', 'next step (→)');
  const end = btn('tl-last', '▶|', 'last step');
  const speed = h(
    'select',
    { 'data-testid': 'tl-speed', 'aria-label': 'Steps per second' },
    ...[1, 2, 4, 8].map((n) => h('option', { value: String(n), selected: n === 2 }, `${n} steps/s`)),
  );
  const stepLabel = h('span', { class: 'small mono', 'data-testid': 'tl-step-label' });
  let timer: number | null = null;
  const stop = (): void => {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
    play.textContent = '▶ play';
    play.dataset.state = 'paused';
  };
  const start = (): void => {
    if (current >= last) select(0);
    play.textContent = '⏸ pause';
    play.dataset.state = 'playing';
    timer = window.setInterval(() => {
      if (current >= last) stop();
      else select(current + 1);
    }, 1000 / Number(speed.value));
  };
  const toggle = (): void => (timer === null ? start() : stop());
  const by = (d: number): void => {
    stop();
    select(current + d);
  };
  play.addEventListener('click', toggle);
  back.addEventListener('click', () => by(-1));
  fwd.addEventListener('click', () => by(1));
  first.addEventListener('click', () => by(-current));
  end.addEventListener('click', () => by(last - current));
  speed.addEventListener('change', () => {
    if (timer !== null) {
      stop();
      start();
    }
  });
  const controls = h('div', { class: 'row tlcontrols', 'data-testid': 'timeline-controls' }, first, back, play, fwd, end, speed, stepLabel);
  const legend = h(
    'p',
    { class: 'small muted legend' },
    'rows per lane: kernel function spans (nested), ',
    h('span', { class: 'lg hold' }, 'lock held'),
    ' ',
    h('span', { class: 'lg wait' }, 'waiting'),
    ' ',
    h('span', { class: 'lg bio' }, 'bio in flight'),
    ' · markers: exit, WARN, errno, crash · click a step to see the state there; space plays, the arrows step',
  );
  fill(root, controls, scroller, legend, state);
  select(initialStep ?? last);
  active = { root, by, toggle, stop };
  listen();
}

function renderState(root: HTMLElement, trace: Trace, step: number, stuck: Map<string, string>): void {
  const rows = stateAt(trace, step);
  for (const r of rows) if (!r.waits && stuck.has(r.task)) r.waits = `${stuck.get(r.task)} (deadlocked)`;
  const events = trace.events.filter((e) => e.step === step);
  const running = new Set(events.map((e) => e.task));
  const table = h(
    'table',
    { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, 'task'), h('th', {}, 'kernel stack'), h('th', {}, 'holds'), h('th', {}, 'waits for'))),
  );
  const tb = h('tbody');
  rows.forEach((r, i) =>
    tb.appendChild(
      h(
        'tr',
        running.has(i) ? { class: 'running', 'data-testid': 'running-task' } : {},
        h('td', {}, h('span', { class: `swatch ${taskClass(i)}` }), ' ', h('code', {}, r.task), running.has(i) ? h('span', { class: 'tag' }, 'runs') : null),
        h('td', {}, h('code', {}, r.stack.join(' → '))),
        h('td', {}, h('code', {}, r.holds.join(', '))),
        h('td', { class: r.waits ? 'bad' : '' }, h('code', {}, r.waits)),
      ),
    ),
  );
  table.appendChild(tb);
  fill(
    root,
    h('h3', {}, `State at step `, h('span', { 'data-testid': 'current-step' }, String(step))),
    table,
    h('ul', { class: 'plain small events' }, ...events.map((e) => h('li', {}, h('code', {}, describe(trace, e))))),
  );
}

export function describe(trace: Trace, e: TraceEvent): string {
  const who = e.task === undefined ? 'setup' : (trace.tasks[e.task]?.name ?? `task ${e.task}`);
  const k = e.kind;
  switch (k.type) {
    case 'Step':
      return `${who}: ${k.op}`;
    case 'Enter':
      return `${who}: → ${k.func}()`;
    case 'Exit':
      return `${who}: ← ${k.func}()`;
    case 'Acquire':
      return `${who}: acquired ${k.lock} [${k.class}] ${k.mode}`;
    case 'Release':
      return `${who}: released ${k.lock}`;
    case 'Block':
      return `${who}: blocks on ${k.lock}`;
    case 'Wake':
      return `${who}: wakes ${k.task} (${k.lock})`;
    case 'BioSubmit':
      return `${who}: submit_bio ${k.write ? 'WRITE' : 'READ'} ${(k.blocks ?? 1) > 1 ? `blocks ${k.block}-${k.block + (k.blocks ?? 1) - 1}` : `block ${k.block}`} (bio ${k.bio})`;
    case 'BioComplete':
      return `${who}: bio ${k.bio} end_io, block ${k.block}`;
    case 'Crash':
      return `CRASH at ${k.point}`;
    case 'Warn':
      return `${who}: WARN ${k.site}`;
    case 'Bug':
      return `${who}: kernel BUG ${k.site}`;
    case 'Error':
      return `${who}: ${k.site} -> ${k.errno}`;
    case 'Flush':
      return `store of ${k.task} to ${k.atomic} becomes visible`;
    case 'Note':
      return `${who}: ${k.text}`;
    case 'Spawn':
      return `spawn ${k.name} (${k.process})`;
    case 'Finish':
      return `${who}: exit`;
    case 'Signal':
      return `${who}: ${k.object}: ${k.what}`;
  }
}
