// The Disk & journal tab: for each of the scenario's files, its block map
// at the start and at the chosen step as a strip of blocks coloured by
// state (hole, delalloc, unwritten, stale, dirty, written), the extents
// before and after, a table of the blocks at the step (physical block,
// whose bytes it holds on disk, the page cache's bits); then the journal
// area as a strip of log blocks (descriptor, logged copies, revoke,
// commit) and a table of its transactions. The worker computes all of it
// (crate/wasm/cmd_disk.rs) by replaying the run and cutting it at the step.
import { fill, h } from '../dom';
import type { BlockView, DiskBody, DiskState, FileView, LogView } from '../protocol';
import { s } from '../svg';

const STATES: Array<[string, string]> = [
  ['hole', 'no block, no page'],
  ['delalloc', 'dirty page, BH_Delay: reserved, no block yet'],
  ['unwritten', 'mapped to an unwritten extent (reads return zeros)'],
  ['stale', 'mapped written, but the bytes on disk are another file’s'],
  ['dirty', 'mapped, the page in the cache is dirty'],
  ['written', 'mapped, the bytes on disk are this file’s (or zeros)'],
];

const BW = 44;
const BH = 26;

function legend(): HTMLElement {
  const box = h('div', { class: 'disklegend small', 'data-testid': 'disk-legend' });
  for (const [st, doc] of STATES) {
    const sw = s('svg', { width: 14, height: 14 }, s('rect', { x: 1, y: 1, width: 12, height: 12, class: `blk blk-${st}` }));
    box.appendChild(h('span', { class: 'dl', title: doc }, sw as unknown as Node, ` ${st}`));
  }
  const ex = s('svg', { width: 14, height: 14 }, s('rect', { x: 1, y: 1, width: 12, height: 12, class: 'blk blk-written exposed' }), s('text', { x: 4, y: 11, class: 'bt exposed-mark' }, '!'));
  box.appendChild(h('span', { class: 'dl', title: 'the block the selected outcome read' }, ex as unknown as Node, ' ! exposed by the outcome'));
  const dot = s('svg', { width: 14, height: 14 }, s('circle', { cx: 7, cy: 7, r: 3, class: 'pgdirty' }));
  box.appendChild(h('span', { class: 'dl', title: 'the page caching this block is dirty' }, dot as unknown as Node, ' page dirty in the cache'));
  return box;
}

/** Two rows of blocks (start, at the step) for one file. */
function strip(file: string, start: FileView | undefined, at: FileView, exposed: Set<number>, atLabel: string): SVGSVGElement {
  const n = Math.max(at.blocks.length, start?.blocks.length ?? 0, 1);
  const LEFT = 92;
  const width = LEFT + n * (BW + 4) + 8;
  // The picture's text for screen readers: each row's block states in order.
  const states = (fv: FileView | undefined): string => Array.from({ length: n }, (_, i) => `${i} ${fv?.blocks[i]?.state ?? 'hole'}`).join(', ');
  const alt = `Blocks of ${file} by logical block. Start: ${states(start)}. ${atLabel}: ${states(at)}.`;
  const svg = s('svg', { width, height: 2 * (BH + 30) + 14, class: 'diskstrip', role: 'img', 'aria-label': alt, 'data-testid': `disk-strip-${file}` });
  const rows: Array<[string, FileView | undefined, string]> = [
    ['start', start, 'start'],
    [atLabel, at, 'at'],
  ];
  rows.forEach(([label, fv, which], r) => {
    const y = 14 + r * (BH + 30);
    svg.appendChild(s('text', { x: 0, y: y + BH / 2 + 4, class: 'ct' }, label));
    for (let i = 0; i < n; i++) {
      const x = LEFT + i * (BW + 4);
      if (r === 0) svg.appendChild(s('text', { x: x + BW / 2, y: 10, class: 'ct small', 'text-anchor': 'middle' }, `lblk ${i}`));
      const b = fv?.blocks[i];
      const st = b?.state ?? 'hole';
      const isExposed = which === 'at' && b?.pblk != null && exposed.has(b.pblk);
      const g = s('g', {
        'data-testid': 'disk-block',
        'data-which': which,
        'data-file': file,
        'data-lblk': i,
        'data-state': st,
        'data-pblk': b?.pblk ?? '',
        ...(isExposed ? { 'data-exposed': 'true' } : {}),
      });
      const rect = s('rect', { x, y, width: BW, height: BH, rx: 2, class: `blk blk-${st}${isExposed ? ' exposed' : ''}` });
      rect.appendChild(s('title', {}, blockTitle(b, st)));
      g.appendChild(rect);
      g.appendChild(s('text', { x: x + BW / 2, y: y + BH / 2 + 4, class: 'bt', 'text-anchor': 'middle' }, b?.pblk != null ? String(b.pblk) : '—'));
      if (b?.page?.dirty) g.appendChild(s('circle', { cx: x + BW - 5, cy: y + 5, r: 3, class: 'pgdirty' }));
      // Not by colour alone: the exposed block is also marked "!".
      if (isExposed) g.appendChild(s('text', { x: x + 4, y: y + 10, class: 'bt exposed-mark' }, '!'));
      svg.appendChild(g);
      svg.appendChild(s('text', { x: x + BW / 2, y: y + BH + 12, class: 'ct small', 'text-anchor': 'middle' }, st));
    }
  });
  return svg;
}

function blockTitle(b: BlockView | undefined, st: string): string {
  if (!b) return 'beyond the file';
  const bits = [`logical ${b.lblk}: ${st}`];
  if (b.pblk != null) bits.push(`physical ${b.pblk}${b.unwritten ? ' (unwritten)' : ''}, on disk: ${b.disk ?? '?'}`);
  if (b.page) bits.push(pageText(b));
  return bits.join('\n');
}

function pageText(b: BlockView): string {
  const p = b.page;
  if (!p) return '—';
  const bits = [];
  if (p.uptodate) bits.push('uptodate');
  if (p.dirty) bits.push('dirty');
  if (p.delay) bits.push('BH_Delay');
  if (p.unwritten) bits.push('BH_Unwritten');
  if (p.mapped != null) bits.push(`mapped ${p.mapped}`);
  if (p.origins.length) bits.push(`bytes of ${p.origins.join(', ')}`);
  return bits.join(' · ') || 'cached, clean';
}

function extentTable(label: string, f: FileView | undefined): HTMLElement {
  const t = h('table', { class: 'grid', 'data-testid': `extents-${label}` }, h('caption', { class: 'small' }, `${label}: ${f ? `${f.layout}, i_size ${f.i_size}, i_disksize ${f.i_disksize}` : '—'}`));
  t.appendChild(h('tr', {}, ...['lblk', 'len', 'pblk', 'state'].map((c) => h('th', {}, c))));
  for (const e of f?.extents ?? []) {
    t.appendChild(h('tr', {}, h('td', {}, String(e.lblk)), h('td', {}, String(e.len)), h('td', {}, `${e.pblk}–${e.pblk + e.len - 1}`), h('td', {}, e.unwritten ? 'unwritten' : 'written')));
  }
  if (!f?.extents.length) t.appendChild(h('tr', {}, h('td', { colspan: '4', class: 'muted' }, f?.layout === 'inline' ? 'inline data (no blocks)' : 'no blocks mapped')));
  return t;
}

function blockTable(f: FileView, exposed: Set<number>): HTMLElement {
  const t = h('table', { class: 'grid', 'data-testid': `blocks-${f.name}` });
  t.appendChild(h('tr', {}, ...['lblk', 'state', 'pblk', 'bytes on disk', 'page cache'].map((c) => h('th', {}, c))));
  for (const b of f.blocks) {
    const ex = b.pblk != null && exposed.has(b.pblk);
    t.appendChild(
      h(
        'tr',
        { class: ex ? 'exposed-row' : '', 'data-testid': ex ? 'disk-exposed' : undefined },
        h('td', {}, String(b.lblk)),
        h('td', {}, h('code', { class: `st st-${b.state}` }, b.state)),
        h('td', {}, b.pblk != null ? `${b.pblk}${b.unwritten ? ' (u)' : ''}` : '—'),
        h('td', {}, b.disk ?? '—', ex ? ' ← read by the outcome' : ''),
        h('td', { class: 'small' }, pageText(b)),
      ),
    );
  }
  return t;
}

/** The log blocks from s_first to the last one used, coloured by kind and transaction. */
function journalStrip(j: LogView): SVGSVGElement {
  const kinds = new Map<number, { kind: string; tid: number; label: string }>();
  for (const t of j.transactions) {
    for (const d of t.descriptors) kinds.set(d, { kind: 'desc', tid: t.tid, label: `descriptor (tid ${t.tid})` });
    for (const g of t.tags) kinds.set(g.log_block, { kind: 'data', tid: t.tid, label: `copy of block ${g.blocknr} (tid ${t.tid})` });
    for (const r of t.revoke_blocks) kinds.set(r, { kind: 'revoke', tid: t.tid, label: `revoke (tid ${t.tid}): ${t.revokes.join(', ')}` });
    if (t.commit != null) kinds.set(t.commit, { kind: 'commit', tid: t.tid, label: `commit (tid ${t.tid})` });
  }
  const used = [...kinds.keys()];
  const first = j.s_first;
  const last = Math.min(j.s_maxlen - 1, Math.max(first + 7, ...used) + 2);
  const n = Math.min(96, last - first + 1);
  const W = 22;
  const svg = s('svg', { width: 70 + n * (W + 2), height: 58, class: 'diskstrip', role: 'img', 'aria-label': `jbd2 log blocks ${first} to ${first + n - 1}: ${[...kinds.values()].map((k) => k.label).join('; ') || 'no transactions'}`, 'data-testid': 'journal-strip' });
  svg.appendChild(s('text', { x: 0, y: 26, class: 'ct' }, 'log'));
  for (let i = 0; i < n; i++) {
    const l = first + i;
    const k = kinds.get(l);
    const x = 40 + i * (W + 2);
    const r = s('rect', { x, y: 12, width: W, height: 22, rx: 2, class: `jb jb-${k?.kind ?? 'free'}${k ? ` tx${k.tid % 4}` : ''}`, 'data-testid': 'journal-block', 'data-kind': k?.kind ?? 'free' });
    r.appendChild(s('title', {}, `journal block ${l}: ${k?.label ?? 'unused'}`));
    svg.appendChild(r);
    svg.appendChild(s('text', { x: x + W / 2, y: 27, class: 'bt', 'text-anchor': 'middle' }, k ? { desc: 'D', data: '▪', revoke: 'R', commit: 'C' }[k.kind] ?? '' : ''));
    if (i % 4 === 0) svg.appendChild(s('text', { x: x + W / 2, y: 48, class: 'ct small', 'text-anchor': 'middle' }, String(l)));
  }
  return svg;
}

function journalTable(j: LogView): HTMLElement {
  const t = h('table', { class: 'grid', 'data-testid': 'journal-transactions' });
  t.appendChild(h('tr', {}, ...['tid', 'replayed by recovery', 'descriptor', 'tags: home blocks', 'revokes', 'commit'].map((c) => h('th', {}, c))));
  for (const x of j.transactions) {
    t.appendChild(
      h(
        'tr',
        { 'data-testid': 'journal-tx', 'data-tid': String(x.tid), 'data-live': String(x.live) },
        h('td', {}, String(x.tid)),
        h('td', {}, x.live ? 'yes (log dirty)' : x.commit == null ? 'no (no commit block)' : 'no (checkpointed)'),
        h('td', {}, x.descriptors.join(', ') || '—'),
        h('td', { class: 'mono' }, x.tags.map((g) => `${g.blocknr}@${g.log_block}`).join(' ') || '—'),
        h('td', { class: 'mono' }, x.revokes.join(' ') || '—'),
        h('td', {}, x.commit != null ? `block ${x.commit}` : '—'),
      ),
    );
  }
  if (!j.transactions.length) t.appendChild(h('tr', {}, h('td', { colspan: '6', class: 'muted', 'data-testid': 'journal-empty' }, 'no transaction in the log area')));
  return t;
}

function journalSection(label: string, st: DiskState): HTMLElement {
  const j = st.journal;
  if (!j) return h('p', { class: 'note' }, `${label}: ${st.journal_error ?? 'no journal'}`);
  return h(
    'div',
    { 'data-testid': `journal-${label === 'start' ? 'start' : 'at'}` },
    h(
      'p',
      { class: 'small' },
      `${label}: jbd2 log blocks ${j.s_first}–${j.s_maxlen - 1}, s_sequence ${j.s_sequence}, s_start ${j.s_start}${j.s_start === 0 ? ' (clean: nothing to replay)' : ''}, checksum ${j.csum}`,
    ),
    journalStrip(j),
    journalTable(j),
    j.problems.length ? h('p', { class: 'error' }, j.problems.join('; ')) : null,
  );
}

/** The files' blocks at `step` against the start, strips only: shown under
 * the timeline so the block states follow the step being played. */
export function renderStepBlocks(root: HTMLElement, d: DiskBody, step: number | null, exposed: number[]): void {
  const ex = new Set(exposed);
  const atLabel = step === null ? 'end' : `step ${step}`;
  fill(
    root,
    h('h3', { 'data-testid': 'step-disk-status', 'data-step': step === null ? 'end' : String(step) }, `Blocks at ${atLabel}`),
    ...d.at.files.map((f) =>
      h(
        'div',
        { class: 'scrollx' },
        h('p', { class: 'small' }, h('code', {}, f.name), ` (inode ${f.ino}, ${f.layout})`),
        strip(f.name, d.start.files.find((x) => x.name === f.name), f, ex, atLabel),
      ),
    ),
    legend(),
  );
}

/** Renders the disk view of `d`; `exposed` are the blocks the shown outcome names. */
export function renderDisk(root: HTMLElement, d: DiskBody, step: number | null, exposed: number[]): void {
  const ex = new Set(exposed);
  const atLabel = step === null ? 'end' : `step ${step}`;
  const files = d.at.files.map((f) => {
    const start = d.start.files.find((x) => x.name === f.name);
    return h(
      'section',
      { class: 'diskfile', 'data-testid': `disk-file-${f.name}` },
      h('h4', {}, h('code', {}, f.name), ` (inode ${f.ino}, ${f.layout}; i_reserved_data_blocks ${f.i_reserved_data_blocks})`),
      f.error ? h('p', { class: 'error' }, f.error) : null,
      h('div', { class: 'scrollx' }, strip(f.name, start, f, ex, atLabel)),
      h('div', { class: 'two' }, extentTable('start', start), extentTable(atLabel, f)),
      h('details', { open: f.blocks.some((b) => b.state !== 'hole') }, h('summary', { class: 'small' }, `blocks at ${atLabel}`), blockTable(f, ex)),
    );
  });
  fill(
    root,
    h(
      'p',
      { class: 'small', 'data-testid': 'disk-status', 'data-step': step === null ? 'end' : String(step) },
      `State after ${d.at.steps} step${d.at.steps === 1 ? '' : 's'} (${step === null ? 'the end of the run' : `the selected step ${step}`}; run ${d.at.end}) against the start. Block maps are the in-memory inode’s (ei->i_data); “bytes on disk” says whose bytes the device holds in that block: the recipe’s owner while they are unchanged since the image was built, “this run” once rewritten.`,
    ),
    legend(),
    ...files,
    h('h3', {}, 'Journal (jbd2 log area)'),
    journalSection(atLabel, d.at),
    h('details', {}, h('summary', { class: 'small' }, 'journal at the start'), journalSection('start', d.start)),
  );
}
