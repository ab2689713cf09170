// The lock view of one outcome: a deadlock's wait-for cycle (graph and
// table: task, locks held, lock wanted, kernel stack) and a lockdep
// report (its text in the kernel's layout, and the dependency chain).
import { fill, h } from '../dom';
import type { LockdepReport, Outcome, WaitInfo } from '../protocol';
import { s } from '../svg';

export function renderLocks(root: HTMLElement, o: Outcome | null, learned: Array<[string, string]>): void {
  const parts: HTMLElement[] = [];
  const d = o?.detail;
  if (d && 'Deadlock' in d) parts.push(cycleView(d.Deadlock.cycle.length ? d.Deadlock.cycle : d.Deadlock.blocked));
  if (d && 'Lockdep' in d) parts.push(lockdepView(d.Lockdep));
  if (!d) parts.push(h('p', { class: 'muted' }, o ? 'This outcome has no lock detail.' : 'Choose an outcome to see its locks.'));
  if (learned.length) {
    parts.push(
      h('h3', {}, 'Lock dependencies learned in this exploration'),
      h('p', { class: 'mono small' }, learned.map(([a, b]) => `${a} → ${b}`).join('   ')),
    );
  }
  fill(root, ...parts);
}

function cycleView(cycle: WaitInfo[]): HTMLElement {
  const n = cycle.length;
  const R = 90;
  const cx = 150;
  const cy = 115;
  const svg = s('svg', { width: 300, height: 230, class: 'cycle' });
  svg.appendChild(
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))),
  );
  const pos = cycle.map((_, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
    return [cx + R * Math.cos(a), cy + R * Math.sin(a)];
  });
  cycle.forEach((w, i) => {
    // Edge: w waits for the holder(s); draw to the next task in the cycle.
    const held = cycle.findIndex((x) => w.waits_for.includes(x.task));
    const j = held >= 0 ? held : (i + 1) % n;
    const [x1, y1] = pos[i];
    const [x2, y2] = pos[j];
    const dx = x2 - x1;
    const dy = y2 - y1;
    const len = Math.hypot(dx, dy) || 1;
    const k = 26 / len;
    svg.appendChild(s('line', { x1: x1 + dx * k, y1: y1 + dy * k, x2: x2 - dx * k, y2: y2 - dy * k, class: 'edge', 'marker-end': 'url(#arrow)' }));
    svg.appendChild(s('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, class: 'elabel', 'text-anchor': 'middle' }, w.wants_class || w.wants));
  });
  cycle.forEach((w, i) => {
    const [x, y] = pos[i];
    svg.appendChild(s('circle', { cx: x, cy: y, r: 24, class: 'node' }));
    svg.appendChild(s('text', { x, y: y + 4, 'text-anchor': 'middle', class: 'nlabel' }, w.task));
  });
  const table = h(
    'table',
    { class: 'grid' },
    h('thead', {}, h('tr', {}, ...['task', 'holds', 'wants', 'waits for', 'kernel stack'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      ...cycle.map((w) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, w.task)),
          h('td', {}, h('code', {}, w.holds.join(', '))),
          h('td', {}, h('code', {}, `${w.wants} [${w.wants_class}]`)),
          h('td', {}, h('code', {}, w.waits_for.join(' '))),
          h('td', {}, h('code', {}, w.stack.join(' → '))),
        ),
      ),
    ),
  );
  return h('div', { 'data-testid': 'wait-for-cycle' }, h('h3', {}, 'Deadlock: wait-for cycle'), h('div', { class: 'cyclebox' }, svg, table));
}

function lockdepView(r: LockdepReport): HTMLElement {
  const chain = [r.new_link, ...r.existing];
  return h(
    'div',
    { 'data-testid': 'lockdep' },
    h('h3', {}, `lockdep: ${r.holding} → ${r.trying} inverts an existing dependency`),
    h(
      'ol',
      { class: 'small mono' },
      ...chain.map((c) =>
        h('li', {}, `${c.from} → ${c.to}  (${c.declared ? 'declared ext4 order' : `${c.task}: held at ${c.held_at}, acquired at ${c.acquired_at}`})`),
      ),
    ),
    h('pre', { class: 'lockdep', 'data-testid': 'lockdep-text' }, r.text),
  );
}
