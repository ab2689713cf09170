// Every built-in variant explored under its own preemption bound (the
// variant's, else the scenario's; "none" is every interleaving) by the
// reduced DFS (the default) and by naive DFS (`--no-dpor`), at default
// options, natively: executions, whether each finished, seconds, the ratio
// of executions naive/reduced and the outcome kinds (which must agree
// where both finished). Naive DFS stops at --cap executions (its count is
// then a lower bound, and the ratio too).
//   node scripts/bench-naive.mjs [--cap 100000] [--only s5] [--timeout 120]
// EXT4LAB=path to the CLI (default target/release/ext4lab; the tables build
// target/tables/ext4lab is as fast). One search at a time, on one core.
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const CAP = Number(opt('--cap', 100000));
const ONLY = opt('--only', null);
const TIMEOUT = Number(opt('--timeout', 120));
const BIN = process.env.EXT4LAB ?? 'target/release/ext4lab';

function explore(id, variant, naive) {
  const a = ['explore', id, '--variant', variant, '--strategy', 'dfs', '--budget', String(naive ? CAP : 100_000_000), '--json'];
  if (naive) a.push('--no-dpor');
  try {
    const out = execFileSync(BIN, a, { maxBuffer: 1 << 28, timeout: TIMEOUT * 1000, stdio: ['ignore', 'pipe', 'ignore'] });
    const d = JSON.parse(out.toString());
    return {
      executions: d.executions,
      complete: d.complete,
      seconds: d.seconds,
      scope: d.scope,
      outcomes: [...new Set(d.outcomes.map((o) => o.kind))].sort().join(' '),
    };
  } catch (e) {
    if (e.code === 'ETIMEDOUT' || e.signal === 'SIGTERM') return { timeout: true };
    throw e;
  }
}

const list = JSON.parse(execFileSync(BIN, ['scenarios', '--json']).toString());
const fmt = (r) => (r.timeout ? `past ${TIMEOUT} s` : `${r.executions.toLocaleString('en')} ${r.complete ? '' : '(stopped) '}in ${r.seconds.toFixed(1)} s`);
console.log('| scenario | variant | claim | reduced | naive | naive/reduced | outcomes |');
console.log('|---|---|---|---|---|---|---|');
for (const s of list) {
  if (ONLY && s.id !== ONLY) continue;
  for (const v of s.variants) {
    const red = explore(s.id, v, false);
    const nai = explore(s.id, v, true);
    const ratio =
      red.timeout || nai.timeout || !red.complete ? '' : `${nai.complete ? '' : '> '}${(nai.executions / red.executions).toFixed(1)}x`;
    let outcomes = red.outcomes ?? '';
    if (!red.timeout && !nai.timeout && red.complete && nai.complete && red.outcomes !== nai.outcomes) {
      outcomes = `DIFFER: reduced ${red.outcomes}, naive ${nai.outcomes}`;
    }
    console.log(`| ${s.id} | ${v} | ${red.scope ?? ''} | ${fmt(red)} | ${fmt(nai)} | ${ratio} | ${outcomes} |`);
  }
}
