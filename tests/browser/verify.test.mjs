// The verify page in headless Chromium, against the demo site built and served on 127.0.0.1.
// Run with scripts/browser-test (it builds the binary and the site and sets the environment).
import { after, before, test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cliVerify, env, labels, launch, readVerdict, revocationList, starmark } from './helpers.mjs';
import { startServer } from './server.mjs';

const DAY = 86400;
/** Every test fails, rather than hangs, when the page never gets where it waits for. */
const test = (name, fn) => nodeTest(name, { timeout: 90_000 }, fn);
let server;
let browser;
let tmp;
/** The browser's clock in the tests, and the CLI's --at: an hour after the list was signed. */
let now;
let all;

/**
 * Copies the demo registry to `dest` for a test that signs with its keys. Git does not keep file
 * modes, so a fresh clone has the secret keys at 0644, which starmark refuses: restore 0600.
 */
function copyRegistry(dest) {
  cpSync(env.registry, dest, { recursive: true, filter: (src) => !src.includes('.starmark-cache') && !src.endsWith('/public') });
  for (const f of readdirSync(join(dest, 'keys'))) {
    if (f.endsWith('.key')) chmodSync(join(dest, 'keys', f), 0o600);
  }
}

before(async () => {
  server = await startServer(env.site);
  browser = await launch();
  tmp = mkdtempSync(join(tmpdir(), 'starmark-browser-'));
  now = revocationList().issued_at + 3600;
  all = labels().map((l) => ({ ...l, cli: cliVerify(l.digits, now) }));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh browser context (its own service workers and storage) with its clock at `at`. */
async function context(at = now) {
  const ctx = await browser.newContext();
  await ctx.clock.setFixedTime(new Date(at * 1000));
  return ctx;
}

async function verifyIn(ctx, fragment, path = 'verify/') {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}${path}#${fragment}`);
  const v = await readVerdict(page);
  assert.deepEqual(errors, [], 'no script errors');
  return { page, v };
}

async function verify(fragment, at = now, path = 'verify/') {
  const ctx = await context(at);
  try {
    return (await verifyIn(ctx, fragment, path)).v;
  } finally {
    await ctx.close();
  }
}

function firstWith(verdict, extra = () => true) {
  const l = all.find((x) => x.cli.verdict === verdict && !x.cli.stale && extra(x));
  assert.ok(l, `the demo registry has a label that is ${verdict} at ${now}`);
  return l;
}

/** What the page shows must be what `starmark verify --json` says. */
function assertSame(v, cli) {
  assert.equal(v.verdict, cli.verdict);
  assert.equal(v.stale, cli.stale);
  assert.equal(v.rollback, cli.rollback);
  if (cli.manufacturer === null || cli.verdict === 'issuer_compromised') {
    assert.equal(v.fields, null, 'no signed fields shown');
  } else {
    assert.deepEqual(
      {
        manufacturer: v.fields.manufacturer,
        model: v.fields.model,
        tier: v.fields.tier,
        valid_from: v.fields.valid_from,
        valid_until: v.fields.valid_until,
        serial: v.fields.serial,
        issuer: v.fields.issuer,
      },
      {
        manufacturer: cli.manufacturer,
        model: cli.model,
        tier: cli.tier,
        valid_from: cli.valid_from,
        valid_until: cli.valid_until,
        serial: String(cli.serial).padStart(8, '0'),
        issuer: cli.issuer,
      },
    );
  }
  if (cli.revocation) assert.ok(v.revoked.includes(cli.revocation.date), v.revoked);
  else assert.equal(v.revoked, null);
}

test('a valid label: green, genuine and valid, with the signed fields and a link to its page', async () => {
  const l = firstWith('valid');
  const v = await verify(l.digits);
  assertSame(v, l.cli);
  assert.equal(v.state, 'valid');
  assert.equal(v.title, '真实有效');
  assert.equal(v.background, 'rgb(19, 121, 91)');
  assert.equal(v.fields.stars.length, 3);
  assert.equal(v.fields.cert, `../cert/${l.serial}.html`);
  const en = await verify(l.digits, now, 'en/verify/');
  assert.equal(en.title, 'Genuine and valid');
  assert.equal(en.fields.cert, `../../en/cert/${l.serial}.html`);
});

test('an expired label', async () => {
  const l = firstWith('expired');
  const v = await verify(l.digits);
  assertSame(v, l.cli);
  assert.equal(v.title, '已过期');
});

test('a label not yet valid', async () => {
  const l = firstWith('not_yet_valid');
  const v = await verify(l.digits, now, 'en/verify/');
  assertSame(v, l.cli);
  assert.equal(v.title, 'Not yet valid');
});

test('a revoked label: red, with the date and the reason', async () => {
  const l = firstWith('revoked');
  const v = await verify(l.digits, now, 'en/verify/');
  assertSame(v, l.cli);
  assert.equal(v.title, 'Revoked');
  assert.equal(v.background, 'rgb(179, 38, 30)');
  assert.match(v.revoked, new RegExp(`Revoked on ${l.cli.revocation.date}\\. Reason: .+\\.`));
});

test('a counterfeit: one digit changed', async () => {
  const l = firstWith('valid');
  // Change one digit of the signature; keep the first change the verifier reads as counterfeit.
  let forged = null;
  for (let i = l.digits.length - 30; i < l.digits.length - 3 && !forged; i++) {
    const d = l.digits[i];
    const candidate = l.digits.slice(0, i) + (d === '0' ? '1' : String(Number(d) - 1)) + l.digits.slice(i + 1);
    if (cliVerify(candidate, now).verdict === 'counterfeit') forged = candidate;
  }
  assert.ok(forged, 'a one-digit change that is counterfeit');
  const v = await verify(forged);
  assertSame(v, cliVerify(forged, now));
  assert.equal(v.verdict, 'counterfeit');
  assert.equal(v.fields, null, 'a counterfeit never shows its claimed manufacturer');
  assert.equal(v.background, 'rgb(179, 38, 30)');
});

test('an unknown issuer: a label signed by a key the trust list does not hold', async () => {
  const other = join(tmp, 'other');
  assert.equal(starmark(['init', other, '--issuer-valid-from', '2026-01-01']).status, 0);
  cpSync(join(env.registry, 'records', '0001.md'), join(other, 'records', '0001.md'));
  const signed = starmark(['sign', '--registry', other, join(other, 'records', '0001.md')]);
  assert.equal(signed.status, 0, signed.stderr);
  const digits = readFileSync(join(other, 'records', '0001.sig'), 'utf8').trim();
  const cli = cliVerify(digits, now);
  assert.equal(cli.verdict, 'unknown_issuer');
  const v = await verify(digits, now, 'en/verify/');
  assertSame(v, cli);
  assert.equal(v.title, 'Unknown issuer');
});

test('a malformed fragment: damaged code', async () => {
  for (const fragment of ['123', '1234567890abc', '00000000000000000000000000000000000000000000000000']) {
    const v = await verify(fragment);
    assert.equal(v.verdict, cliVerify(fragment, now).verdict);
    assert.equal(v.verdict, 'malformed', fragment);
    assert.equal(v.title, '二维码损坏');
    assert.equal(v.fields, null);
  }
});

test('without a fragment the page explains how to scan and verifies a pasted link', async () => {
  const l = firstWith('valid');
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${server.url}en/verify/`);
  assert.equal(await page.locator('#intro').isVisible(), true);
  assert.equal(await page.locator('#result').isVisible(), false);
  assert.match(await page.locator('#intro').innerText(), /Scan the QR code/);
  assert.equal(await page.locator('#camera').isVisible(), true, 'a camera button');
  await page.fill('#code', `https://label.example.cn/verify/#${l.digits}`);
  await page.click('#paste button');
  const v = await readVerdict(page);
  assertSame(v, l.cli);
  assert.equal(new URL(page.url()).hash, `#${l.digits}`);
  // The language link keeps the label.
  assert.equal(await page.locator('a.lang').getAttribute('href'), `../../verify/index.html#${l.digits}`);
  await ctx.close();
});

test('every demo label: the browser says what starmark verify --json says', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${server.url}verify/`);
  let count = 0;
  for (const l of all) {
    await page.evaluate((d) => {
      location.hash = d;
    }, l.digits);
    count += 1;
    const v = await readVerdict(page, count);
    assertSame(v, l.cli);
  }
  const verdicts = new Set(all.map((l) => l.cli.verdict));
  for (const must of ['valid', 'expired', 'not_yet_valid', 'revoked']) assert.ok(verdicts.has(must), must);
  await ctx.close();
});

test('offline: loaded once, the page verifies another label with the network off', async () => {
  const [a, b] = [firstWith('valid'), firstWith('revoked')];
  const ctx = await context();
  const first = await verifyIn(ctx, a.digits);
  await first.page.waitForFunction(() => document.getElementById('verifier').dataset.offlineReady === 'true');
  await ctx.setOffline(true);
  server.setDown(true);
  try {
    const before = server.log.length;
    const second = await verifyIn(ctx, b.digits);
    assertSame(second.v, b.cli);
    const third = await verifyIn(ctx, a.digits);
    assertSame(third.v, a.cli);
    assert.equal(server.log.length, before, 'nothing reached the server');
  } finally {
    server.setDown(false);
    await ctx.close();
  }
});

test('rollback: after a newer revocation list, an older one served is refused', async () => {
  const victim = firstWith('valid');
  // A newer list (sequence + 1) that revokes a label the served list does not.
  const reg = join(tmp, 'newer');
  copyRegistry(reg);
  const revoke = starmark([
    'revoke', String(victim.serial), '--reason', 'security_flaw', '--date', victim.cli.valid_from, '--registry', reg,
  ]);
  assert.equal(revoke.status, 0, revoke.stderr);
  const newer = readFileSync(join(reg, 'revocation-list.bin'));
  const ctx = await context();
  try {
    server.override('api/v1/revocation-list.bin', newer);
    const seen = await verifyIn(ctx, victim.digits);
    assert.equal(seen.v.verdict, 'revoked', 'the newer list revokes it');
    assert.equal(seen.v.rollback, false);
    server.override('api/v1/revocation-list.bin', null);
    const before = server.log.length;
    const again = await verifyIn(ctx, victim.digits);
    assert.ok(
      server.log.slice(before).some((e) => e.url.endsWith('/api/v1/revocation-list.bin') && e.status === 200),
      'the older list was served',
    );
    assert.equal(again.v.verdict, 'revoked', 'the older list was refused: still revoked');
    assert.equal(again.v.rollback, true, 'the page says it refused an older list');
    assert.match(await again.page.locator('#notes').innerText(), /较旧的撤销列表/);
  } finally {
    server.override('api/v1/revocation-list.bin', null);
    await ctx.close();
  }
  // A fresh browser, which never saw the newer list, accepts the served one.
  assert.equal((await verify(victim.digits)).verdict, 'valid');
});

/** The page's key in localStorage and IndexedDB (the site root is `/`). */
const STORE_KEY = 'starmark-verify:/';

/** The sequence of a revocation list (docs/FORMAT.md section 5: a big-endian u64 at byte 5). */
const sequenceOf = (bytes) => Buffer.from(bytes).readBigUInt64BE(5);

/** What a verify page in `page` finds in the three stores: the highest sequence kept in
 * localStorage and in IndexedDB (null when absent), and the sequence of the revocation list in
 * each of the service worker's caches. */
async function stores(page) {
  return page.evaluate(async (key) => {
    const local = JSON.parse(localStorage.getItem(key) || '{}').highest ?? null;
    const db = await new Promise((resolve) => {
      const open = indexedDB.open('starmark-verify');
      open.onupgradeneeded = () => open.transaction.abort();
      open.onerror = () => resolve(null);
      open.onsuccess = () => {
        const conn = open.result;
        if (!conn.objectStoreNames.contains('lists')) {
          conn.close();
          resolve(null);
          return;
        }
        const get = conn.transaction('lists').objectStore('lists').get(key);
        get.onsuccess = () => {
          conn.close();
          resolve(get.result ? get.result.highest : null);
        };
      };
    });
    const cache = [];
    const url = new URL(`${document.getElementById('verifier').dataset.siteRoot}api/v1/revocation-list.bin`, location.href).href;
    for (const name of (await caches.keys()).filter((n) => n.startsWith('starmark-verify '))) {
      const hit = await (await caches.open(name)).match(url);
      if (hit) cache.push(new DataView(await hit.arrayBuffer()).getBigUint64(5).toString());
    }
    return { local, db, cache };
  }, STORE_KEY);
}

/** Waits until the verify page has brought its stores up to date (data-lists-kept). */
const listsKept = (page) =>
  page.waitForFunction(() => document.getElementById('verifier').dataset.listsKept === 'true');

test('rollback survives clearing one store: localStorage, IndexedDB and the cache each remember the highest sequence', async () => {
  const victim = firstWith('valid');
  const reg = join(tmp, 'newer-stores');
  copyRegistry(reg);
  const revoke = starmark([
    'revoke', String(victim.serial), '--reason', 'security_flaw', '--date', victim.cli.valid_from, '--registry', reg,
  ]);
  assert.equal(revoke.status, 0, revoke.stderr);
  const newer = readFileSync(join(reg, 'revocation-list.bin'));
  const older = readFileSync(join(env.site, 'api/v1/revocation-list.bin'));
  const high = sequenceOf(newer).toString();
  assert.ok(sequenceOf(newer) > sequenceOf(older));
  const all3 = { local: high, db: high, cache: [high, high] };

  const ctx = await context();
  try {
    // First visit: the newer list is served and remembered in every store.
    server.override('api/v1/revocation-list.bin', newer);
    const first = await verifyIn(ctx, victim.digits);
    assert.equal(first.v.verdict, 'revoked');
    await first.page.waitForFunction(() => document.getElementById('verifier').dataset.offlineReady === 'true');
    const en = await verifyIn(ctx, victim.digits, 'en/verify/');
    await en.page.waitForFunction(() => document.getElementById('verifier').dataset.offlineReady === 'true');
    await listsKept(en.page);
    assert.deepEqual(await stores(en.page), all3, 'both workers cached the newer list');

    // From now on the older list is served.
    server.override('api/v1/revocation-list.bin', null);
    const refusedAgain = async (what) => {
      const again = await verifyIn(ctx, victim.digits);
      assert.equal(again.v.verdict, 'revoked', `${what}: the older list was refused`);
      assert.equal(again.v.rollback, true, `${what}: the page says it refused an older list`);
      await listsKept(again.page);
      assert.deepEqual(await stores(again.page), all3, `${what}: every store holds the highest again`);
      return again.page;
    };
    const page = await refusedAgain('nothing cleared');

    // The service worker does not cache the older list it fetches (the page, whose stores are
    // already written, does not repair the cache here).
    const served = await page.evaluate(async () => {
      const r = await fetch('../api/v1/revocation-list.bin', { cache: 'no-cache' });
      return new DataView(await r.arrayBuffer()).getBigUint64(5).toString();
    });
    assert.equal(served, sequenceOf(older).toString(), 'the worker passes the older list on');
    assert.deepEqual((await stores(page)).cache, [high, high], 'and keeps the newer one cached');

    // Each store alone is enough: clear the others, and the older list is still refused (and
    // the cleared stores get the highest back). A cleared cache is refilled by the worker with the
    // older list it is served; the page finds it behind and puts the newer list back.
    const clear = (what) =>
      page.evaluate(
        async ({ what, key }) => {
          if (what.includes('local')) localStorage.removeItem(key);
          if (what.includes('db')) {
            await new Promise((resolve, reject) => {
              const d = indexedDB.deleteDatabase('starmark-verify');
              d.onsuccess = resolve;
              d.onerror = reject;
            });
          }
          if (what.includes('cache')) {
            const url = new URL(`${document.getElementById('verifier').dataset.siteRoot}api/v1/revocation-list.bin`, location.href).href;
            for (const name of await caches.keys()) await (await caches.open(name)).delete(url);
          }
        },
        { what, key: STORE_KEY },
      );
    for (const what of [['local'], ['db'], ['cache'], ['db', 'cache'], ['local', 'cache'], ['local', 'db']]) {
      await clear(what);
      const left = await stores(page);
      assert.deepEqual(
        [left.local === null, left.db === null, left.cache.length === 0],
        ['local', 'db', 'cache'].map((s) => what.includes(s)),
        `${what} cleared`,
      );
      await refusedAgain(`${what.join(' and ')} cleared`);
    }
  } finally {
    server.override('api/v1/revocation-list.bin', null);
    await ctx.close();
  }
});

test('a new service worker version keeps the newer cached revocation list over an older one served', async () => {
  const victim = firstWith('valid');
  const reg = join(tmp, 'newer-reinstall');
  copyRegistry(reg);
  const revoke = starmark([
    'revoke', String(victim.serial), '--reason', 'security_flaw', '--date', victim.cli.valid_from, '--registry', reg,
  ]);
  assert.equal(revoke.status, 0, revoke.stderr);
  const newer = readFileSync(join(reg, 'revocation-list.bin'));
  const high = sequenceOf(newer).toString();
  const worker = readFileSync(join(env.site, 'verify-sw.js'), 'utf8');
  const [versionLine] = worker.split('\n');
  assert.match(versionLine, /^const VERSION = "[0-9a-f]+";$/);
  const ctx = await context();
  try {
    server.override('api/v1/revocation-list.bin', newer);
    const first = await verifyIn(ctx, victim.digits);
    await first.page.waitForFunction(() => document.getElementById('verifier').dataset.offlineReady === 'true');
    const oldCaches = await first.page.evaluate(() => caches.keys());
    assert.equal(oldCaches.length, 1, String(oldCaches));

    // A new build (another worker version) while the older list is served.
    server.override('api/v1/revocation-list.bin', null);
    server.override('verify-sw.js', Buffer.from(worker.replace(versionLine, versionLine.replace('";', '-next";'))));
    const second = await verifyIn(ctx, victim.digits);
    const newCache = `${oldCaches[0]}-next`;
    for (let i = 0; ; i++) {
      const keys = await second.page.evaluate(() => caches.keys());
      if (keys.length === 1 && keys[0] === newCache) break;
      assert.ok(i < 150, `the new worker replaced the old one: ${keys}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual((await stores(second.page)).cache, [high], 'the reinstalled worker kept the newer list');
  } finally {
    server.override('api/v1/revocation-list.bin', null);
    server.override('verify-sw.js', null);
    await ctx.close();
  }
});

test('issuer key compromised: a newer trust list marks the key; an older one served later is refused', async () => {
  const l = firstWith('valid');
  const reg = join(tmp, 'compromised');
  copyRegistry(reg);
  const keyId = l.cli.key_id;
  const mark = starmark(['trust', 'compromised', keyId, '--since', '2026-11-01', '--registry', reg]);
  assert.equal(mark.status, 0, mark.stderr);
  const cli = cliVerify(l.digits, now, reg);
  assert.equal(cli.verdict, 'issuer_compromised');
  const ctx = await context();
  try {
    server.override('api/v1/trust-list.bin', readFileSync(join(reg, 'trust-list.bin')));
    const first = await verifyIn(ctx, l.digits, 'en/verify/');
    assertSame(first.v, cli);
    assert.equal(first.v.title, 'Issuer key compromised');
    assert.equal(first.v.background, 'rgb(179, 38, 30)');
    server.override('api/v1/trust-list.bin', null);
    const again = await verifyIn(ctx, l.digits, 'en/verify/');
    assert.equal(again.v.verdict, 'issuer_compromised', 'the older trust list was refused');
  } finally {
    server.override('api/v1/trust-list.bin', null);
    await ctx.close();
  }
});

test('stale: with the clock past next-update the verdict is amber, never plainly valid', async () => {
  const at = revocationList().next_update + DAY;
  const l = all.find((x) => cliVerify(x.digits, at).verdict === 'valid');
  assert.ok(l, 'a label still valid after the list is due');
  const cli = cliVerify(l.digits, at);
  assert.equal(cli.stale, true);
  const v = await verify(l.digits, at, 'en/verify/');
  assertSame(v, cli);
  assert.equal(v.state, 'stale');
  assert.equal(v.title, 'Genuine, but revocation data is out of date');
  assert.equal(v.background, 'rgb(242, 176, 30)');
});

test('the camera decoder (wasm) reads a label QR code', async () => {
  const l = firstWith('valid');
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${server.url}verify/`);
  const text = await page.evaluate(async (src) => {
    const d = document.getElementById('verifier').dataset;
    const mod = await import(d.scanGlue);
    await mod.default({ module_or_path: fetch(d.scanWasm, { integrity: d.scanWasmSri }) });
    const img = new Image();
    img.src = src;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const c = canvas.getContext('2d');
    c.fillStyle = '#fff';
    c.fillRect(0, 0, canvas.width, canvas.height);
    c.drawImage(img, 0, 0);
    const data = c.getImageData(0, 0, canvas.width, canvas.height);
    return mod.decode_qr(data.data, data.width, data.height) ?? null;
  }, `../labels/${l.serial}.png`);
  assert.equal(text, `https://label.example.cn/verify/#${l.digits}`);
  await ctx.close();
});

test('the camera button: a label in front of the camera is verified', async () => {
  const l = firstWith('revoked');
  // A camera that films the label: a Y4M video of its PNG on white, for Chromium's fake camera.
  const [w, h] = [640, 480];
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${server.url}verify/`);
  const rgba = await page.evaluate(
    async ({ src, w, h }) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const c = canvas.getContext('2d');
      c.fillStyle = '#fff';
      c.fillRect(0, 0, w, h);
      const scale = (h * 0.95) / img.naturalHeight;
      const dw = img.naturalWidth * scale;
      c.drawImage(img, (w - dw) / 2, (h - img.naturalHeight * scale) / 2, dw, img.naturalHeight * scale);
      return Array.from(c.getImageData(0, 0, w, h).data);
    },
    { src: `../labels/${l.serial}.png`, w, h },
  );
  await ctx.close();
  const y = Buffer.alloc(w * h);
  const uv = Buffer.alloc((w / 2) * (h / 2), 128);
  for (let i = 0; i < w * h; i++) {
    y[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, uv, uv]);
  const video = join(tmp, 'label.y4m');
  writeFileSync(video, Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));

  const camera = await launch([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
  try {
    const cctx = await camera.newContext();
    await cctx.clock.setFixedTime(new Date(now * 1000));
    await cctx.grantPermissions(['camera'], { origin: server.url.slice(0, -1) });
    const p = await cctx.newPage();
    await p.goto(`${server.url}en/verify/`);
    await p.click('#camera');
    const v = await readVerdict(p);
    assertSame(v, l.cli);
    assert.equal(new URL(p.url()).hash, `#${l.digits}`);
    assert.equal(await p.locator('#scanner').isVisible(), false, 'the camera stops after a scan');
    if (!(await p.evaluate(() => 'BarcodeDetector' in window))) {
      assert.ok(server.log.some((e) => /^\/assets\/starmark_scan\.\w+\.wasm$/.test(e.url)), 'the wasm decoder read it');
    }
  } finally {
    await camera.close();
  }
});

test('the log witnesses: the page says how many known witnesses cosigned the checkpoint', async () => {
  const l = firstWith('valid');
  const built = JSON.parse(readFileSync(join(env.site, 'api/v1/witnesses.json'), 'utf8'));
  assert.equal(built.known, 0, 'the demo lists no witness');
  const ctx = await context();
  try {
    const first = await verifyIn(ctx, l.digits);
    assert.equal(await first.page.locator('#witnesses').isHidden(), true, 'no known witness: nothing shown');
    const cosigned = {
      ...built,
      known: 2,
      cosigned: 1,
      witnesses: [
        { name: 'witness.example.org/w1', vkey: 'w1', cosigned: true, timestamp: 1796083200, date: '2026-12-01' },
        { name: 'audit.example.net', vkey: 'w2', cosigned: false },
      ],
    };
    server.override('api/v1/witnesses.json', Buffer.from(JSON.stringify(cosigned)));
    const { page } = await verifyIn(ctx, l.digits, 'en/verify/');
    const node = page.locator('#witnesses');
    await node.waitFor({ state: 'visible' });
    assert.equal(await node.getAttribute('data-cosigned'), '1');
    assert.equal(await node.getAttribute('data-known'), '2');
    assert.match(await node.innerText(), /cosigned by 1 of its 2 independent witnesses: witness\.example\.org\/w1\./);
  } finally {
    server.override('api/v1/witnesses.json', null);
    await ctx.close();
  }
});

// ---- Point 4 and 9 of issue 12: number, icons, announcements, focus, layout, stars, superseded --

/** Records, from the first script on, the layout shifts (not after input) and the status region. */
async function instrumented(ctx) {
  await ctx.addInitScript(() => {
    window.__cls = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
    document.addEventListener('DOMContentLoaded', () => {
      const s = document.getElementById('status');
      window.__statusAtLoad = s && {
        role: s.getAttribute('role'),
        live: s.getAttribute('aria-live'),
        text: s.textContent,
        shown: !s.hidden && !s.closest('[hidden]'),
      };
    });
  });
}

const statusText = (page) => page.locator('#status').textContent();
const focused = (page) => page.evaluate(() => document.activeElement && document.activeElement.className);

test('the number as printed on the label, and icons drawn as inline SVG (no emoji)', async () => {
  for (const verdict of ['valid', 'expired', 'revoked']) {
    const l = firstWith(verdict);
    const ctx = await context();
    const { page, v } = await verifyIn(ctx, l.digits, 'en/verify/');
    assert.equal(v.fields.serial, String(l.serial).padStart(8, '0'));
    assert.match(v.fields.serial, /^\d{8,}$/);
    const icon = await page.evaluate(() => {
      const box = document.querySelector('.verdict-icon');
      const shown = [...box.querySelectorAll('svg')].filter((svg) => getComputedStyle(svg).display !== 'none');
      return { text: box.textContent.trim(), shown: shown.length, box: shown[0]?.getBoundingClientRect().width };
    });
    assert.equal(icon.text, '', `${verdict}: no emoji or text glyph as icon`);
    assert.equal(icon.shown, 1, `${verdict}: one SVG icon shown`);
    assert.ok(icon.box > 16, `${verdict}: the icon has a size`);
    await ctx.close();
  }
});

test('the verdict is announced by an always-present status region, on load and after a paste; focus goes to its heading', async () => {
  const [a, b] = [firstWith('valid'), firstWith('expired')];
  const ctx = await context();
  await instrumented(ctx);
  const { page, v } = await verifyIn(ctx, a.digits, 'en/verify/');
  const atLoad = await page.evaluate(() => window.__statusAtLoad);
  assert.deepEqual(atLoad, { role: 'status', live: 'polite', text: '', shown: true }, 'present and empty before a verdict');
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  assert.match(await statusText(page), new RegExp(`^${v.title}`));
  assert.equal(await focused(page), 'verdict-title');
  await page.fill('#code', b.digits);
  await page.click('#paste button');
  const second = await readVerdict(page, 2);
  assert.equal(second.title, 'Expired');
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Expired'));
  assert.equal(await focused(page), 'verdict-title');
  // The result region itself is not live: the verdict is read once, from the status region.
  assert.equal(await page.locator('#result').getAttribute('aria-live'), null);
  await ctx.close();
});

test('no layout shift: CLS under 0.1 with a code, without one, on a phone and a desktop', async () => {
  const l = firstWith('valid');
  for (const viewport of [{ width: 390, height: 844 }, { width: 1280, height: 720 }]) {
    for (const fragment of [l.digits, '']) {
      const ctx = await browser.newContext({ viewport });
      await ctx.clock.setFixedTime(new Date(now * 1000));
      await instrumented(ctx);
      const page = await ctx.newPage();
      await page.goto(`${server.url}en/verify/#${fragment}`);
      if (fragment) await readVerdict(page);
      else await page.locator('#intro').waitFor();
      await page.waitForTimeout(600);
      const cls = await page.evaluate(() => window.__cls);
      assert.ok(cls < 0.1, `CLS ${cls} at ${viewport.width} px ${fragment ? 'with' : 'without'} a code`);
      await ctx.close();
    }
  }
});

/** WCAG contrast of two CSS rgb() colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((x) => {
      const s = x / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

test('the stars are an image named "2 of 3 stars" / "二星（共三星）", drawn at 3:1 or more', async () => {
  const l = firstWith('valid', (x) => x.cli.tier === 2);
  for (const [path, name] of [['en/verify/', '2 of 3 stars'], ['verify/', '二星（共三星）']]) {
    const ctx = await context();
    const { page } = await verifyIn(ctx, l.digits, path);
    const stars = page.getByRole('img', { name, exact: true });
    assert.equal(await stars.count(), 1, `an image named ${name}`);
    const colours = await stars.evaluate((el) => {
      let bg = 'rgba(0, 0, 0, 0)';
      for (let n = el; n && /rgba\(0, 0, 0, 0\)|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
      return { fg: getComputedStyle(el).color, bg: /rgba\(0, 0, 0, 0\)/.test(bg) ? 'rgb(255, 255, 255)' : bg };
    });
    assert.ok(contrast(colours.fg, colours.bg) >= 3, `stars ${colours.fg} on ${colours.bg}`);
    await ctx.close();
  }
});

test('superseded: the page, the site and starmark verify all say valid, superseded by the newer number', async () => {
  const old = all.find((x) => x.cli.superseded_by !== null && x.cli.verdict === 'valid' && !x.cli.stale);
  assert.ok(old, 'the demo registry has a valid superseded certification');
  const newer = String(old.cli.superseded_by).padStart(8, '0');
  const ctx = await context();
  const { page, v } = await verifyIn(ctx, old.digits, 'en/verify/');
  assert.equal(v.verdict, 'valid');
  assert.equal(v.state, 'superseded');
  assert.equal(v.title, 'Genuine and valid, superseded');
  assert.equal(v.background, 'rgb(19, 121, 91)', 'green: it is valid');
  assert.match(await page.locator('.verdict-superseded').innerText(), new RegExp(`A newer certification, ${newer}, covers a changed version`));
  // The site's page of that certification says the same.
  const cert = await ctx.newPage();
  await cert.goto(`${server.url}en/cert/${old.serial}.html`);
  const body = await cert.locator('main').innerText();
  assert.match(body, /Valid, superseded/);
  assert.ok(body.includes(newer), body);
  // The newer one is plainly valid.
  const n = all.find((x) => x.serial === old.cli.superseded_by);
  if (n && n.cli.verdict === 'valid' && !n.cli.stale) {
    const nv = (await verifyIn(ctx, n.digits, 'en/verify/')).v;
    assert.equal(nv.state, 'valid');
  }
  await ctx.close();
});

test('the how-to-verify page explains every verdict, the amber state, superseded and rollback', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${server.url}en/about.html`);
  const text = await page.locator('#verdicts + p + dl').innerText();
  for (const title of [
    'Genuine and valid', 'Genuine and valid, superseded', 'Genuine, but revocation data is out of date', 'Expired',
    'Not yet valid', 'Revoked', 'Counterfeit', 'Unknown issuer', 'Issuer key compromised', 'Damaged code',
    'Cannot check', 'Older revocation list refused',
  ]) {
    assert.ok(text.includes(title), `${title} explained`);
  }
  assert.match(text, /Amber \(yellow\) means genuine/);
  await ctx.close();
});

test('the digits never leave the page: no request carries them', () => {
  assert.ok(server.log.length > 50, 'the tests made requests');
  const codes = [...all.map((l) => l.digits)];
  for (const e of server.log) {
    assert.ok(!e.url.includes('?'), `no query string: ${e.url}`);
    assert.ok(!e.url.includes('#'), `no fragment: ${e.url}`);
    for (const d of codes) {
      assert.ok(!e.url.includes(d.slice(0, 24)), `request ${e.url} carries a label's digits`);
      if (e.referer) assert.ok(!e.referer.includes(d.slice(0, 24)), `referer of ${e.url}`);
    }
    assert.ok(!/\d{30,}/.test(e.url), `no long digit run in ${e.url}`);
  }
  // Only same-origin static files: the page, assets, lists, the worker, the manifests, labels;
  // and the two site pages the tests themselves open (a certification page and how-to-verify,
  // in the superseded and how-to tests), which carry no digits either (checked above).
  for (const e of server.log) {
    assert.match(
      e.url,
      /^\/((en\/)?verify\/(index\.html|manifest\.webmanifest)?|assets\/[\w.-]+|api\/v1\/((trust|revocation)-list\.bin|superseded\.json|witnesses\.json)|verify-sw\.js|labels\/\d+\.(png|svg)|favicon\.ico|en\/cert\/\d+\.html|en\/about\.html)$/,
    );
  }
});
