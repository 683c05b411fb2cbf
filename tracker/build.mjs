// Minifies src/script.js with the pinned terser into two served files:
//   shared/tracking/static/script.js       everything (pageviews, SPA, engagement, API, clicks, forms)
//   shared/tracking/static/script.core.js  the same without click and form tracking (EXTRAS = false)
// `node build.mjs --check` exits 1 when a committed build differs from a fresh one.
// Each preamble records the SHA-256 of the source, so a Python test can spot a stale
// build without Node.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const here = new URL('.', import.meta.url);
const source = readFileSync(new URL('src/script.js', here), 'utf8');
const digest = createHash('sha256').update(source).digest('hex').slice(0, 12);
const outputs = { 'script.js': true, 'script.core.js': false };

let stale = false;
for (const [name, extras] of Object.entries(outputs)) {
  const result = await minify(source, {
    ecma: 5,
    compress: { passes: 2, global_defs: { EXTRAS: extras } },
    mangle: true,
    format: { preamble: `/*! Beacon tracker ${digest} */` },
  });
  const built = result.code + '\n';
  const target = new URL(`../shared/tracking/static/${name}`, here);
  if (process.argv.includes('--check')) {
    let current = '';
    try { current = readFileSync(target, 'utf8'); } catch { /* missing counts as stale */ }
    if (current !== built) {
      console.error(`shared/tracking/static/${name} is stale: run \`npm run build\` in tracker/`);
      stale = true;
    }
  } else {
    writeFileSync(target, built);
    console.log(`wrote ${name}: ${built.length} bytes`);
  }
}
if (stale) process.exit(1);
