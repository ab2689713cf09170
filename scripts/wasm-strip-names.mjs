// Drop the "name" custom section from a .wasm file (function names for
// stack traces: about a fifth of the gzipped module). Every other section,
// custom ones included, is copied unchanged.
//   node scripts/wasm-strip-names.mjs pkg/ext4lab_bg.wasm
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
const b = readFileSync(file);
if (b.readUInt32LE(0) !== 0x6d736100) throw new Error(`${file}: not a wasm module`);
const leb = (i) => {
  let r = 0;
  let shift = 0;
  for (;;) {
    const x = b[i++];
    r += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (x < 0x80) return [r, i];
  }
};
const parts = [b.subarray(0, 8)];
let dropped = 0;
for (let i = 8; i < b.length; ) {
  const start = i;
  const id = b[i++];
  const [size, body] = leb(i);
  const end = body + size;
  if (end > b.length) throw new Error(`${file}: section at ${start} runs past the end`);
  let keep = true;
  if (id === 0) {
    const [len, at] = leb(body);
    keep = b.subarray(at, at + len).toString('utf8') !== 'name';
  }
  if (keep) parts.push(b.subarray(start, end));
  else dropped += end - start;
  i = end;
}
writeFileSync(file, Buffer.concat(parts));
console.error(`wasm-strip-names: dropped ${dropped} bytes of function names from ${file}`);
