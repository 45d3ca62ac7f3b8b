// Benchmark of the verify page (run by scripts/bench-verifier): sizes of what a verdict needs,
// time from navigation to verdict in headless Chromium (first visit, cached, offline), and the
// time of one verify call in the browser. Prints a Markdown table.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { env, labels, launch, readVerdict } from './helpers.mjs';
import { startServer } from './server.mjs';

const RUNS = Number(process.env.RUNS || 15);
const CALLS = Number(process.env.CALLS || 2000);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

// Sizes: what the verify page loads for a verdict, and the camera's decoder.
const assets = readdirSync(join(env.site, 'assets'));
const file = (re) => join(env.site, 'assets', assets.find((f) => re.test(f)));
const size = (path) => {
  const b = readFileSync(path);
  return { raw: b.length, gz: gzipSync(b, { level: 9 }).length };
};
const verdictFiles = {
  'starmark_verify wasm': file(/^starmark_verify\.\w+\.wasm$/),
  'starmark_verify glue (JS)': file(/^starmark_verify\.\w+\.js$/),
  'verify.js (page script)': file(/^verify\.\w+\.js$/),
};
const rows = [];
let total = { raw: 0, gz: 0 };
for (const [name, path] of Object.entries(verdictFiles)) {
  const s = size(path);
  total = { raw: total.raw + s.raw, gz: total.gz + s.gz };
  rows.push(`| ${name} | ${s.raw} B (${kb(s.raw)}) | ${s.gz} B (${kb(s.gz)}) |`);
}
const verifier = ['starmark_verify wasm', 'starmark_verify glue (JS)'].map((n) => size(verdictFiles[n]));
const v = verifier.reduce((a, b) => ({ raw: a.raw + b.raw, gz: a.gz + b.gz }));
rows.push(`| **the verifier: wasm + glue** (budget 40 KB gzipped) | **${v.raw} B (${kb(v.raw)})** | **${v.gz} B (${kb(v.gz)})** |`);
rows.push(`| **wasm + JS for a verdict** (with the page script) | **${total.raw} B (${kb(total.raw)})** | **${total.gz} B (${kb(total.gz)})** |`);
const scan = size(file(/^starmark_scan\.\w+\.wasm$/));
const scanGlue = size(file(/^starmark_scan\.\w+\.js$/));
rows.push(`| camera QR decoder wasm + glue (loaded only with the camera, no BarcodeDetector) | ${scan.raw + scanGlue.raw} B (${kb(scan.raw + scanGlue.raw)}) | ${scan.gz + scanGlue.gz} B (${kb(scan.gz + scanGlue.gz)}) |`);

const server = await startServer(env.site);
const browser = await launch();
const demo = labels();
const digits = demo[0].digits;
const timing = { first: [], cached: [], offline: [] };
let calls = null;
for (let run = 0; run < RUNS; run++) {
  const ctx = await browser.newContext();
  const visit = async (d) => {
    const page = await ctx.newPage();
    await page.goto(`${server.url}verify/#${d}`);
    const v = await readVerdict(page);
    return { page, v };
  };
  const first = await visit(digits);
  timing.first.push(first.v.ms);
  await first.page.waitForFunction(() => document.getElementById('verifier').dataset.offlineReady === 'true');
  await first.page.close();
  const cached = await visit(demo[run % demo.length].digits);
  timing.cached.push(cached.v.ms);
  if (run === 0) {
    // One verify call, as the page makes it, repeated.
    calls = await cached.page.evaluate(
      async ({ code, n }) => {
        const d = document.getElementById('verifier').dataset;
        const mod = await import(d.glue);
        const get = async (p) => new Uint8Array(await (await fetch(new URL(p, new URL(d.siteRoot, location.href)))).arrayBuffer());
        const trust = await get('api/v1/trust-list.bin');
        const revocation = await get('api/v1/revocation-list.bin');
        const now = Math.floor(Date.now() / 1000);
        for (let i = 0; i < 50; i++) mod.verify(code, d.rootKey, trust, revocation, now, undefined);
        const t0 = performance.now();
        for (let i = 0; i < n; i++) mod.verify(code, d.rootKey, trust, revocation, now, undefined);
        const t1 = performance.now();
        for (let i = 0; i < n; i++) mod.inspect(d.rootKey, trust, revocation);
        const t2 = performance.now();
        return { verify: ((t1 - t0) * 1000) / n, inspect: ((t2 - t1) * 1000) / n };
      },
      { code: digits, n: CALLS },
    );
  }
  await cached.page.close();
  await ctx.setOffline(true);
  server.setDown(true);
  const offline = await visit(demo[(run + 1) % demo.length].digits);
  timing.offline.push(offline.v.ms);
  server.setDown(false);
  await ctx.close();
}
await browser.close();
await server.close();

const version = (await import('node:child_process')).execFileSync(env.chromium, ['--version'], { encoding: 'utf8' }).trim();
console.log(`## Verify page (${version}, headless, ${RUNS} runs, median)\n`);
console.log('| file | raw | gzip -9 |');
console.log('|---|---|---|');
console.log(rows.join('\n'));
console.log('\n| measure | median | min | max |');
console.log('|---|---|---|---|');
for (const [name, label] of [
  ['first', 'navigation to verdict, first visit (nothing cached)'],
  ['cached', 'navigation to verdict, cached (service worker, online)'],
  ['offline', 'navigation to verdict, offline (service worker cache)'],
]) {
  const xs = timing[name];
  console.log(`| ${label} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)} ms | ${Math.max(...xs).toFixed(0)} ms |`);
}
console.log(`| one verify call (decode digits, trust list + revocation list signatures, claim signature), mean of ${CALLS} | ${calls.verify.toFixed(0)} µs | | |`);
console.log(`| of which checking both lists' signatures (inspect), mean of ${CALLS} | ${calls.inspect.toFixed(0)} µs | | |`);
