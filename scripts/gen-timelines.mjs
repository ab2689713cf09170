// Regenerate the "Timeline of the shortest failing schedule" sections of
// docs/scenarios/*.md from the replay fixtures they cite:
//   cargo build --bin ext4lab && node scripts/gen-timelines.mjs
// Each section reads "Fixture `tests/fixtures/replay/X.json` (HEADER).
// Outcomes: ..." followed by a fenced block; the header, the outcomes and
// the block are rewritten from `ext4lab replay LINK --timeline`.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const BIN = process.env.EXT4LAB ?? 'target/debug/ext4lab';
const SECTION = /Fixture `(tests\/fixtures\/replay\/[^`]+\.json)` \([^)]*\)\. Outcomes: [^\n]*\n\n```\n[\s\S]*?```/g;

let changed = 0;
for (const name of readdirSync('docs/scenarios').filter((n) => n.endsWith('.md'))) {
  const path = `docs/scenarios/${name}`;
  const before = readFileSync(path, 'utf8');
  const after = before.replace(SECTION, (_, fixture) => {
    const { link } = JSON.parse(readFileSync(fixture, 'utf8'));
    const out = execFileSync(BIN, ['replay', link, '--timeline'], { encoding: 'utf8' }).trimEnd().split('\n');
    const header = out[0];
    const outcomes = out.filter((l) => l.startsWith('  "')).map((l) => l.trim());
    const steps = out.slice(1).filter((l) => !l.startsWith('  "'));
    return `Fixture \`${fixture}\` (${header}). Outcomes: ${outcomes.join('; ')}.\n\n\`\`\`\n${steps.join('\n')}\n\`\`\``;
  });
  if (after !== before) {
    writeFileSync(path, after);
    changed++;
  }
}
console.log(`timelines regenerated in ${changed} file(s)`);
