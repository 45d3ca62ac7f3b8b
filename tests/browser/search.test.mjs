// Browser tests of the home page's client-side search (templates/static/search.js) on the demo
// site: the index is loaded only when used, results come from the sharded index, filters work,
// and nothing from the records is inserted as HTML.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch } from './helpers.mjs';
import { startServer } from './server.mjs';

let server;
let browser;

before(async () => {
  server = await startServer(env.site);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function home(path = '') {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}${path}index.html`);
  return { page, errors };
}

async function rows(page) {
  await page.waitForFunction(() => /\d/.test(document.getElementById('search-status').textContent));
  return page.$$eval('#results tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
}

test('the index is loaded only when the search is used', async () => {
  const { page, errors } = await home();
  const before = server.log.filter((r) => r.url.includes('/search/')).length;
  await page.waitForTimeout(300);
  assert.equal(server.log.filter((r) => r.url.includes('/search/')).length, before, 'no index request before use');
  await page.fill('#q', 'XL-AX3000');
  const found = await rows(page);
  assert.ok(found.length >= 1, 'a result');
  assert.ok(found.every((r) => r.join(' ').includes('XL-AX3000')), JSON.stringify(found));
  assert.ok(server.log.some((r) => r.url.endsWith('/search/meta.json')));
  assert.deepEqual(errors, []);
  await page.close();
});

test('search by manufacturer, certificate number and filters', async () => {
  const { page } = await home('en/');
  await page.fill('#q', '00000009');
  let found = await rows(page);
  assert.equal(found.length, 1);
  assert.equal(found[0][0], '00000009');
  await page.fill('#q', '');
  await page.selectOption('#f-status', 'revoked');
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 4);
  found = await rows(page);
  assert.equal(found.length, 4, 'the four revoked demo certifications');
  assert.ok(found.every((r) => r[5] === 'Revoked'), JSON.stringify(found));
  await page.selectOption('#f-status', '');
  await page.selectOption('#f-tier', '3');
  await page.waitForFunction(() => {
    const trs = [...document.querySelectorAll('#results tbody tr')];
    return trs.length > 0 && trs.every((tr) => tr.cells[4].textContent === '★★★');
  });
  found = await rows(page);
  assert.ok(found.length >= 3 && found.every((r) => r[4] === '★★★'), JSON.stringify(found));
  await page.selectOption('#f-tier', '');
  await page.selectOption('#f-category', 'router');
  await page.fill('#f-maker', '星联');
  await page.waitForFunction(() => {
    const trs = [...document.querySelectorAll('#results tbody tr')];
    return trs.length >= 3 && trs.every((tr) => tr.cells[1].textContent.includes('星联'));
  });
  found = await rows(page);
  assert.ok(found.length >= 3 && found.every((r) => r[1].includes('星联')), JSON.stringify(found));
  const link = await page.$eval('#results tbody tr a', (a) => a.getAttribute('href'));
  assert.match(link, /^(\.\.\/en\/)?cert\/\d+\.html$/, 'relative link to the certification page');
  await page.close();
});
