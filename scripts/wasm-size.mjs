// What spends the bytes of a .wasm module: section sizes, the largest
// functions (by body size, named from the "name" section, so run it before
// the names are stripped), code grouped by Rust crate/module path, and the
// data segments. Sizes are raw bytes; the gzip share of each group is
// estimated by compressing that group's function bodies together.
//   node scripts/wasm-size.mjs pkg/ext4lab_bg.wasm [--top 40] [--depth 2] [--json out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const file = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const TOP = Number(opt('--top', 30));
const DEPTH = Number(opt('--depth', 2));
const b = readFileSync(file);
if (b.readUInt32LE(0) !== 0x6d736100) throw new Error(`${file}: not a wasm module`);

function leb(i) {
  let r = 0;
  let shift = 0;
  for (;;) {
    const x = b[i++];
    r += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (x < 0x80) return [r, i];
  }
}
function str(i) {
  const [len, at] = leb(i);
  return [b.subarray(at, at + len).toString('utf8'), at + len];
}

const SECTION = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'];
const sections = [];
let importedFuncs = 0;
const bodies = []; // [start, size]
const names = new Map();
let dataBytes = 0;
let dataSegments = 0;
for (let i = 8; i < b.length; ) {
  const id = b[i];
  const [size, body] = leb(i + 1);
  const end = body + size;
  let label = SECTION[id] ?? `id ${id}`;
  if (id === 0) label = `custom "${str(body)[0]}"`;
  sections.push({ label, size: end - i });
  if (id === 2) {
    let [n, p] = leb(body);
    for (let k = 0; k < n; k++) {
      [, p] = str(p);
      [, p] = str(p);
      const kind = b[p++];
      if (kind === 0) {
        importedFuncs++;
        [, p] = leb(p);
      } else if (kind === 1) {
        p++;
        const [flags, q] = leb(p + 0);
        p = q;
        [, p] = leb(p);
        if (flags & 1) [, p] = leb(p);
      } else if (kind === 2) {
        const [flags, q] = leb(p);
        p = q;
        [, p] = leb(p);
        if (flags & 1) [, p] = leb(p);
      } else if (kind === 3) {
        p += 2;
      } else {
        throw new Error(`import kind ${kind}`);
      }
    }
  } else if (id === 10) {
    let [n, p] = leb(body);
    for (let k = 0; k < n; k++) {
      const [sz, q] = leb(p);
      bodies.push([q, sz]);
      p = q + sz;
    }
  } else if (id === 11) {
    const [n] = leb(body);
    dataSegments = n;
    dataBytes = size;
  } else if (id === 0 && str(body)[0] === 'name') {
    let p = str(body)[1];
    while (p < end) {
      const sub = b[p];
      const [len, q] = leb(p + 1);
      if (sub === 1) {
        let [n, r] = leb(q);
        for (let k = 0; k < n; k++) {
          const [idx, r2] = leb(r);
          const [nm, r3] = str(r2);
          names.set(idx, nm);
          r = r3;
        }
      }
      p = q + len;
    }
  }
  i = end;
}

/** Rust legacy mangling (_ZN..E) to a path; v0 and plain names as they are. */
function demangle(n) {
  if (!n.startsWith('_ZN')) return n.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
  const parts = [];
  let i = 3;
  while (i < n.length && n[i] !== 'E') {
    let j = i;
    while (j < n.length && n[j] >= '0' && n[j] <= '9') j++;
    const len = Number(n.slice(i, j));
    if (!len) break;
    parts.push(n.slice(j, j + len));
    i = j + len;
  }
  // Drop the hash component (h0123...).
  if (parts.length && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1])) parts.pop();
  return parts
    .join('::')
    .replace(/\$LT\$/g, '<')
    .replace(/\$GT\$/g, '>')
    .replace(/\$u20\$/g, ' ')
    .replace(/\$RF\$/g, '&')
    .replace(/\$C\$/g, ',')
    .replace(/\$u7b\$/g, '{')
    .replace(/\$u7d\$/g, '}')
    .replace(/\.\./g, '::');
}

/** The crate/module a function belongs to: the first path components of
 * the implementing type (for `<T as Trait>::f`, T's path). */
function group(name) {
  let p = name.replace(/^</, '');
  const m = /^([A-Za-z0-9_:]+)/.exec(p);
  p = m ? m[1] : p;
  const parts = p.split('::').filter(Boolean);
  if (parts[0] === 'ext4lab') return parts.slice(0, DEPTH + 1).join('::');
  return parts.slice(0, 1).join('::') || '(unnamed)';
}

const funcs = bodies.map(([start, size], k) => {
  const idx = importedFuncs + k;
  const name = demangle(names.get(idx) ?? `func[${idx}]`);
  return { idx, name, size, start };
});
const codeBytes = funcs.reduce((a, f) => a + f.size, 0);
const groups = new Map();
for (const f of funcs) {
  const g = group(f.name);
  const e = groups.get(g) ?? { group: g, size: 0, count: 0, parts: [] };
  e.size += f.size;
  e.count++;
  e.parts.push(b.subarray(f.start, f.start + f.size));
  groups.set(g, e);
}
for (const e of groups.values()) {
  e.gzip = gzipSync(Buffer.concat(e.parts), { level: 9 }).length;
  delete e.parts;
}
const total = b.length;
const gz = gzipSync(b, { level: 9 }).length;
const pct = (x, of) => `${((100 * x) / of).toFixed(1)}%`;

console.log(`${file}: ${total} bytes raw, ${gz} bytes gzip; ${funcs.length} functions (${importedFuncs} imported), ${names.size ? 'named' : 'NO name section: run before stripping (WASM_KEEP_NAMES=1)'}`);
console.log('\nsections:');
for (const s of sections.sort((a, b2) => b2.size - a.size)) console.log(`  ${String(s.size).padStart(9)}  ${pct(s.size, total).padStart(6)}  ${s.label}`);
console.log(`\ncode by crate / module (raw, gzip of the group alone; code total ${codeBytes}):`);
for (const e of [...groups.values()].sort((a, b2) => b2.size - a.size).slice(0, TOP)) {
  console.log(`  ${String(e.size).padStart(9)}  ${pct(e.size, codeBytes).padStart(6)}  gz ${String(e.gzip).padStart(7)}  ${String(e.count).padStart(5)} fns  ${e.group}`);
}
console.log(`\nlargest functions:`);
for (const f of [...funcs].sort((a, b2) => b2.size - a.size).slice(0, TOP)) {
  console.log(`  ${String(f.size).padStart(9)}  ${f.name.slice(0, 150)}`);
}
// Generic code compiled more than once (one copy per type argument, e.g.
// Ext4Fs<D> for each device type): the bytes of the extra copies.
const byName = new Map();
for (const f of funcs) byName.set(f.name, [...(byName.get(f.name) ?? []), f.size]);
const dups = [...byName.entries()]
  .filter(([, v]) => v.length > 1)
  .map(([name, v]) => ({ name, copies: v.length, extra: v.reduce((a, x) => a + x, 0) - Math.max(...v) }))
  .sort((a, b2) => b2.extra - a.extra);
console.log(`\nrepeated instantiations: ${dups.reduce((a, d) => a + d.extra, 0)} bytes in extra copies; the largest:`);
for (const d of dups.slice(0, 12)) console.log(`  ${String(d.extra).padStart(9)}  x${d.copies}  ${d.name.slice(0, 140)}`);
console.log(`\ndata: ${dataSegments} segments, ${dataBytes} bytes (string literals, tables, the built-in scenario texts)`);
const out = opt('--json', null);
if (out) {
  writeFileSync(
    out,
    JSON.stringify(
      {
        file,
        raw: total,
        gzip: gz,
        sections,
        groups: [...groups.values()].sort((a, b2) => b2.size - a.size),
        top: [...funcs].sort((a, b2) => b2.size - a.size).slice(0, TOP).map(({ name, size }) => ({ name, size })),
        data: dataBytes,
      },
      null,
      1,
    ) + '\n',
  );
}
