// The analysis views: outcomes, timeline, locks, disk and journal. Each
// shows the results of a run; until the engine build can run scenarios,
// each says plainly that it has nothing to show and why.
import { fill, h } from '../dom';
import type { Scenario } from '../protocol';
import type { Capabilities } from '../protocol';

export interface Panel {
  id: string;
  title: string;
  body: HTMLElement;
}

const WHAT: Record<string, string> = {
  outcomes:
    'Counts of each outcome kind over the explored runs, each outcome’s shortest schedule and its structured details (wait-for cycle, exposed block and its origin, lost bytes, fsck findings, warning site).',
  timeline:
    'One lane per task: kernel function spans, lock hold and wait spans, bios in flight, crash and recovery markers. Click a step to see the state there.',
  locks:
    'The wait-for cycle of a deadlock and the lockdep report (graph and the kernel’s text layout), next to the declared ext4 lock order.',
  disk: 'Each file’s extents and blocks at the start and at the chosen step (hole, delalloc, unwritten, stale, dirty, written; whose bytes each block holds on disk), and the journal’s transactions (descriptor tags, revokes, commit). Show a run or an outcome’s timeline first; click a step in the timeline to move.',
};

/** The declared ext4 lock order (fs/ext4/super.c, "Lock ordering"), as SCENARIOS.md lists it. */
export const EXT4_LOCK_ORDER: Array<[string, string[]]> = [
  ['page fault', ['mmap_lock', 'sb_start_pagefault', 'invalidate_lock (r)', 'transaction start', 'page lock', 'i_data_sem']],
  ['write(2)', ['sb_start_write', 'i_rwsem', 'mmap_lock']],
  ['write(2)', ['sb_start_write', 'i_rwsem', 'transaction start', 'page lock', 'i_data_sem']],
  ['truncate', ['sb_start_write', 'i_rwsem', 'invalidate_lock (w)', 'page lock']],
  ['truncate', ['sb_start_write', 'i_rwsem', 'invalidate_lock (w)', 'transaction start', 'i_data_sem']],
  ['direct I/O', ['sb_start_write', 'i_rwsem', 'mmap_lock']],
  ['direct I/O', ['sb_start_write', 'i_rwsem', 'transaction start', 'i_data_sem']],
  ['writepages', ['transaction start', 'page lock(s)', 'i_data_sem']],
];

export function makePanels(caps: Capabilities): Panel[] {
  const empty = (id: string) =>
    h(
      'div',
      { class: 'empty', 'data-testid': `${id}-empty` },
      h('p', {}, WHAT[id] ?? ''),
      caps.explore
        ? h('p', { class: 'muted' }, 'Nothing run yet: pick a run mode on the left.')
        : h(
            'p',
            { class: 'note' },
            `Scenarios cannot run in this build (missing: ${caps.missing.join('; ')}); this view stays empty for them rather than show invented results. The simulator’s reference models (Run, on the left) do run and fill it.`,
          ),
    );
  const locks = h(
    'div',
    { 'data-testid': 'locks-panel' },
    h('div', { 'data-testid': 'locks-view' }, empty('locks')),
    h('h3', {}, 'Declared ext4 lock order (fs/ext4/super.c)'),
    orderTable(),
  );
  return [
    { id: 'outcomes', title: 'Outcomes', body: h('div', { 'data-testid': 'outcomes-panel' }, h('div', { 'data-testid': 'outcomes-view' }, empty('outcomes'))) },
    {
      id: 'timeline',
      title: 'Timeline',
      body: h('div', { 'data-testid': 'timeline-panel' }, h('div', { 'data-testid': 'run-header' }), h('div', { 'data-testid': 'timeline-view' }, empty('timeline')), h('div', { 'data-testid': 'step-disk', class: 'stepdisk' })),
    },
    { id: 'locks', title: 'Locks', body: locks },
    { id: 'disk', title: 'Disk & journal', body: h('div', { 'data-testid': 'disk-panel' }, empty('disk')) },
  ];
}

function orderTable(): HTMLElement {
  const t = h('table', { class: 'grid order', 'data-testid': 'lock-order' });
  for (const [path, chain] of EXT4_LOCK_ORDER) {
    const cells = h('td', { class: 'mono' });
    chain.forEach((c, i) => {
      if (i > 0) cells.appendChild(h('span', { class: 'arrow' }, ' → '));
      cells.appendChild(h('code', {}, c));
    });
    t.appendChild(h('tr', {}, h('th', {}, path), cells));
  }
  return t;
}

/** The image recipe as a short summary (block size, features, files). */
export function imageSummary(sc: Scenario): HTMLElement {
  const img = sc.image as { block_size?: number; blocks_count?: number; features?: string[]; journal?: boolean; files?: Array<Record<string, unknown>> };
  const files = (img.files ?? []).map((f) => {
    const bits = [String(f.name), String(f.layout ?? 'extents')];
    if (f.deleted) bits.push('deleted');
    if (f.size !== undefined) bits.push(`i_size ${String(f.size)}`);
    return bits.join(' ');
  });
  const box = h('div', { class: 'small' });
  fill(
    box,
    h(
      'code',
      {},
      `mkfs: ${img.blocks_count ?? 4096} blocks of ${img.block_size ?? 4096}${img.journal === false ? ', no journal' : ', jbd2 journal'}${(img.features ?? []).length ? `, -O ${(img.features ?? []).join(',')}` : ''}`,
    ),
    h('ul', { class: 'plain' }, ...files.map((f) => h('li', {}, h('code', {}, f)))),
  );
  return box;
}
