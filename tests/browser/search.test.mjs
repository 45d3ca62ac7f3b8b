// Browser tests of the home page's client-side search (templates/static/search.js) on the demo
// site: the index is loaded only when used, results come from the sharded index, filters work,
// and nothing from the records is inserted as HTML; both languages find makers by either name,
// categories and numbers, and every example of the placeholder finds something.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

// What the search should find, from the API (api/v1/index.json): the certifications in which
// every word of the query is in the number, a manufacturer's name (Chinese or English), the
// model, the product or the category (code, Chinese or English name), in any case; a number
// also finds its certificate without the leading zeros. In serial order.
const index = JSON.parse(readFileSync(join(env.site, 'api/v1/index.json'), 'utf8'));
const catalogue = Object.fromEntries(index.categories.map((c) => [c.code, c]));
function expected(query) {
  const words = query.normalize('NFKC').toLowerCase().split(/\s+/).filter(Boolean);
  return index.certificates
    .filter((c) => {
      const cat = catalogue[c.category];
      const hay = [c.number, c.manufacturer, c.manufacturer_en || '', c.model, c.product, c.category, cat.zh, cat.en]
        .join(' ')
        .toLowerCase();
      return words.every((w) => hay.includes(w) || (/^[0-9]+$/.test(w) && Number(w) === c.serial));
    })
    .map((c) => c.serial);
}

/** Searches for `query` on a home page; returns the results as { serial, maker, zh } rows. */
async function search(page, query) {
  await page.fill('#q', query);
  await page.waitForFunction(
    (q) =>
      document.getElementById('results').getAttribute('data-query') === q &&
      /\d/.test(document.getElementById('search-status').textContent),
    query,
  );
  return page.$$eval('#results tbody tr', (trs) =>
    trs.map((tr) => ({
      serial: Number(tr.querySelector('a').getAttribute('href').match(/cert\/(\d+)\.html$/)[1]),
      number: tr.cells[0].textContent,
      maker: tr.cells[1].textContent,
      zh: [...tr.cells[1].querySelectorAll('[lang="zh-Hans"]')].map((e) => e.textContent),
    })),
  );
}

const sorted = (serials) => [...serials].sort((a, b) => a - b);

for (const [lang, path] of [['zh', ''], ['en', 'en/']]) {
  test(`${lang}: search finds makers by either name, categories, and numbers with or without zeros`, async () => {
    const { page, errors } = await home(path);
    for (const query of ['Xinglian', 'Shenzhen', 'Rheinfeld', 'router', '路由器', '星联', 'rheinfeld automation', 'PLC']) {
      const want = expected(query);
      assert.ok(want.length > 0, `the demo has a certification for ${query}`);
      const found = await search(page, query);
      assert.deepEqual(sorted(found.map((r) => r.serial)), want, `${lang}: ${query}`);
    }
    assert.deepEqual(sorted((await search(page, 'Rheinfeld')).map((r) => r.serial)), [15, 25]);
    assert.ok(expected('router').length >= 3, 'several routers');
    assert.ok(expected('Shenzhen').length >= 3, 'several makers in Shenzhen');

    // A number, with or without its leading zeros: its certification first.
    for (const query of ['1', '00000001', '0001']) {
      const found = await search(page, query);
      assert.equal(found[0].number, '00000001', `${lang}: ${query} -> ${JSON.stringify(found.slice(0, 3))}`);
      assert.deepEqual(sorted(found.map((r) => r.serial)), expected(query), `${lang}: ${query}`);
    }
    assert.deepEqual((await search(page, '00000001')).map((r) => r.number), ['00000001']);
    const one = await page.textContent('#search-status');
    assert.equal(one, lang === 'en' ? '1 result' : '1 条结果', 'one result, in the singular');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test(`${lang}: every example of the placeholder finds something`, async () => {
    const { page } = await home(path);
    const placeholder = await page.getAttribute('#q', 'placeholder');
    const examples = placeholder.replace(/^(e\.g\. |例如：)/, '').split(/, |、/);
    assert.equal(examples.length, 3, placeholder);
    for (const example of examples) {
      const found = await search(page, example);
      assert.ok(found.length >= 1, `${lang}: placeholder example ${example} finds nothing`);
      assert.ok(found.some((r) => r.number === '00000001'), `${lang}: ${example} finds certification 1`);
    }
    await page.close();
  });
}

test('English results name the maker in English with the Chinese beside, tagged zh-Hans', async () => {
  const { page } = await home('en/');
  for (const r of await search(page, 'Rheinfeld')) {
    assert.equal(r.maker, 'Rheinfeld Automation GmbH (莱茵费尔德自动化有限公司)');
    assert.deepEqual(r.zh, ['莱茵费尔德自动化有限公司']);
  }
  await page.close();
  const zh = await home('');
  for (const r of await search(zh.page, 'Rheinfeld')) {
    assert.equal(r.maker, '莱茵费尔德自动化有限公司', 'Chinese pages show the Chinese name');
  }
  // The manufacturer filter matches either name too.
  await zh.page.fill('#q', '');
  await zh.page.fill('#f-maker', 'rheinfeld');
  await zh.page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 2);
  await zh.page.close();
});
