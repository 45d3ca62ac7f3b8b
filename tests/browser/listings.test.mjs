// Browser tests of the "check listings" page (templates/listings.html, static/listings.js) on the
// demo site: the sample listings (docs/samples/, every result class planted) in UTF-8, GB18030
// and XLSX give, in the browser, the very bytes `starmark check-listings` writes; the checker's
// code is loaded only when a file is checked; the file never leaves the computer; filters work;
// markup in every cell stays text; bad files get a clear message; 100,000 rows in under 10 s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, launch, starmark } from './helpers.mjs';
import { startServer } from './server.mjs';

const AT = '2026-12-01';
const samples = join(env.registry, '..', 'docs', 'samples');
const SAMPLES = ['listings.csv', 'listings-gb18030.csv', 'listings.xlsx'];

let server;
let browser;
const work = mkdtempSync(join(tmpdir(), 'starmark-listings-'));
const listingIds = [];

before(async () => {
  server = await startServer(env.site);
  browser = await launch();
  const text = readFileSync(join(samples, 'listings.csv'), 'utf8');
  for (const line of text.split('\r\n').slice(1)) {
    const id = line.split(',')[0];
    if (id) listingIds.push(id);
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The page (Chinese at the root, English under en/), with the check date set. */
async function open(path = 'en/') {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  const dialogs = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss();
  });
  await page.goto(`${server.url}${path}check/index.html`);
  await page.click('details.options summary');
  await page.fill('#at', AT);
  return { page, context, errors, dialogs };
}

/** Chooses a file and waits for the check to end; returns the page's state. */
async function checkFile(page, file) {
  await page.evaluate(() => {
    document.getElementById('listings').dataset.state = 'waiting';
  });
  await page.setInputFiles('#file', file);
  await page.waitForFunction(
    () => ['done', 'error'].includes(document.getElementById('listings').dataset.state),
    null,
    { timeout: 30000 },
  );
  return page.evaluate(() => {
    const d = document.getElementById('listings').dataset;
    return {
      state: d.state,
      rows: Number(d.rows || 0),
      ms: Number(d.ms || 0),
      checkMs: Number(d.checkMs || 0),
      status: document.getElementById('status').textContent,
    };
  });
}

async function downloaded(page, button) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

/** What `starmark check-listings` writes for the same file and day. */
function cli(file, format) {
  const r = starmark(
    ['check-listings', file, '--registry', env.registry, '--at', AT, '--format', format, '--quiet'],
    { encoding: 'buffer', maxBuffer: 1 << 28 },
  );
  assert.ok(r.status === 0 || r.status === 1, `starmark check-listings: ${r.stderr}`);
  return r.stdout;
}

test('the checker is loaded only when a file is checked', async () => {
  const { page, context, errors } = await open();
  await page.waitForTimeout(300);
  assert.ok(!server.log.some((r) => r.url.includes('starmark_listings')), 'no checker before a file');
  assert.ok(!server.log.some((r) => r.url.includes('api/v1/claims/')), 'no data before a file');
  await checkFile(page, join(samples, 'listings.csv'));
  assert.ok(server.log.some((r) => /^\/assets\/starmark_listings\.\w+\.wasm$/.test(r.url)));
  assert.deepEqual(errors, []);
  await context.close();
});

for (const name of SAMPLES) {
  test(`${name}: the page's reports are the CLI's, byte for byte`, async () => {
    const { page, context, errors } = await open();
    const file = join(samples, name);
    const state = await checkFile(page, file);
    assert.equal(state.state, 'done', state.status);
    assert.equal(state.rows, 21);
    const csv = await downloaded(page, '#download-csv');
    assert.equal(csv.name, `${name.replace(/\.[^.]*$/, '')}-report.csv`);
    assert.ok(csv.bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'UTF-8 BOM');
    assert.ok(csv.bytes.equals(cli(file, 'csv')), 'CSV report identical to the CLI');
    const json = await downloaded(page, '#download-json');
    assert.ok(json.bytes.equals(cli(file, 'json')), 'JSON report identical to the CLI');
    const report = JSON.parse(json.bytes.toString('utf8'));
    const results = report.rows.map((r) => r.result);
    for (const r of ['ok', 'not_found', 'revoked', 'expired', 'not_yet_valid', 'tier_overclaimed',
      'model_mismatch', 'maker_mismatch', 'counterfeit_label', 'ambiguous', 'bad_row']) {
      assert.ok(results.includes(r), `${r} in ${results}`);
    }
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('stale revocation data: the page says so, as the CLI does', async () => {
  const { page, context } = await open();
  await page.fill('#at', '2028-06-01');
  const file = join(samples, 'listings.csv');
  await checkFile(page, file);
  const json = await downloaded(page, '#download-json');
  const r = starmark(['check-listings', file, '--registry', env.registry, '--at', '2028-06-01', '--format', 'json', '--quiet'],
    { encoding: 'buffer' });
  assert.ok(json.bytes.equals(r.stdout));
  assert.equal(JSON.parse(json.bytes).rows[0].result, 'stale_data');
  await context.close();
});

test('filters by result, problems only, and search', async () => {
  const { page, context } = await open();
  await checkFile(page, join(samples, 'listings.csv'));
  const visible = () => page.$$eval('#table tbody tr', (trs) => trs.map((tr) => tr.dataset.result));
  assert.equal((await visible()).length, 21);
  await page.selectOption('#filter', 'revoked');
  assert.deepEqual(await visible(), ['revoked']);
  const cells = await page.$$eval('#table tbody tr td', (tds) => tds.map((td) => td.textContent));
  assert.ok(cells.includes('L007') && cells.includes('00000020'), JSON.stringify(cells));
  await page.selectOption('#filter', 'problems');
  assert.equal((await visible()).length, 16);
  assert.ok(!(await visible()).includes('ok'));
  await page.selectOption('#filter', '');
  await page.click('#summary button[data-result="counterfeit_label"]');
  assert.deepEqual(await visible(), ['counterfeit_label', 'counterfeit_label']);
  await page.click('#summary button[data-result="counterfeit_label"]');
  await page.fill('#search', 'l01');
  assert.equal((await visible()).length, 10, 'L010..L019');
  await context.close();
});

test('markup in every cell stays text', async () => {
  const { page, context, errors, dialogs } = await open();
  await checkFile(page, join(samples, 'listings.csv'));
  const row = await page.$eval('#table tbody tr[data-row="22"]', (tr) => ({
    cells: [...tr.cells].map((c) => c.textContent),
    elements: tr.querySelectorAll('script, img, svg, a, b, i').length,
  }));
  assert.equal(row.elements, 0, 'no element from a cell');
  assert.equal(row.cells[1], '<b>L020</b>');
  assert.equal(row.cells[2], "<script>alert('店铺')</script>");
  assert.equal(await page.$$eval('#table script, #table img, #table svg', (e) => e.length), 0);
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no script ran');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the Chinese page names results in Chinese', async () => {
  const { page, context } = await open('');
  await checkFile(page, join(samples, 'listings-gb18030.csv'));
  const tags = await page.$$eval('#summary .tag', (ts) => ts.map((t) => t.textContent));
  assert.ok(tags.includes('已撤销') && tags.includes('伪造标签') && tags.includes('正常'), tags.join());
  assert.match(await page.textContent('#status'), /已核查 21 个商品/);
  await context.close();
});

test('bad files get a clear message', async () => {
  const { page, context, errors } = await open();
  const cases = [
    ['empty.csv', Buffer.alloc(0), 'empty.csv: the file is empty'],
    ['photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'not a text file'],
    ['headers.csv', Buffer.from('商品编号,证书编号\r\n'), 'no listings: the file has a header row (1)'],
    ['prices.csv', Buffer.from('商品编号,价格\r\nP1,9\r\n'), 'headers found: A "商品编号", B "价格"'],
  ];
  for (const [name, bytes, message] of cases) {
    const path = join(work, name);
    writeFileSync(path, bytes);
    const state = await checkFile(page, path);
    assert.equal(state.state, 'error', name);
    assert.ok(state.status.includes(message), `${name}: ${state.status}`);
    assert.ok(await page.locator('#results').isHidden());
  }
  // Chosen columns: the price list's columns named by hand.
  await page.fill('#columns', 'certificate=价格');
  await page.click('#again');
  await page.waitForFunction(() => document.getElementById('listings').dataset.state === 'done');
  assert.deepEqual(errors, []);
  await context.close();
});

test('100,000 rows in under 10 seconds', async () => {
  const base = readFileSync(join(samples, 'listings.csv'), 'utf8').split('\r\n');
  const body = base.slice(1, 19).filter(Boolean);
  const lines = [base[0]];
  for (let i = 0; lines.length <= 100000; i++) {
    const row = body[i % body.length].split(',');
    row[0] = `B${String(i).padStart(6, '0')}`;
    lines.push(row.join(','));
  }
  const path = join(work, 'big.csv');
  writeFileSync(path, lines.join('\r\n') + '\r\n');
  const { page, context, errors } = await open();
  const started = Date.now();
  const state = await checkFile(page, path);
  const wall = Date.now() - started;
  assert.equal(state.state, 'done', state.status);
  assert.equal(state.rows, 100000);
  console.log(`  100,000 rows: ${state.ms} ms in the page (checker, data, check, table; the check itself ${state.checkMs} ms), ${wall} ms wall`);
  assert.ok(state.ms < 10000, `${state.ms} ms`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the file never leaves the computer: no request carries it', () => {
  assert.ok(server.log.length > 20, 'the tests made requests');
  for (const e of server.log) {
    assert.equal(e.method, 'GET', `${e.method} ${e.url}`);
    assert.ok(!e.url.includes('?'), `no query string: ${e.url}`);
    for (const id of listingIds) {
      assert.ok(!decodeURIComponent(e.url).includes(id), `request ${e.url} carries listing ${id}`);
    }
    // Only the page, its assets and the site's signed data.
    assert.match(
      e.url,
      /^\/((en\/)?check\/index\.html|assets\/[\w.-]+|api\/v1\/((trust-list|revocation-list)\.bin|claims\/(index\.json|\d+\.bin))|favicon\.ico)$/,
    );
  }
});
