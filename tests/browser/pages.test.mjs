// Browser tests of every kind of page of the demo site, on phones and for people who read with a
// large font or a screen reader: no page is wider than a 360 or 390 px screen, axe-core finds no
// violation, the star tier is an image named in words in a colour of at least 3:1, text follows
// the browser's font size, names in the other language carry their own lang, every page has a
// meta description and an icon; `starmark serve` answers /favicon.ico and serves the 404 page
// for a missing path; a label SVG draws in Chromium as its PNG.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, labels, launch } from './helpers.mjs';
import { startServer } from './server.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const WIDTHS = [360, 390];

let server;
let browser;

/** Every kind of page, in both languages: [{ name, path, lang }]. */
function pages() {
  const index = JSON.parse(readFileSync(join(env.site, 'api/v1/index.json'), 'utf8'));
  // The manufacturer with an English name (a foreign maker), its first certification, and the
  // category page with the most rows.
  const foreign = index.certificates.find((c) => {
    const cert = JSON.parse(readFileSync(join(env.site, `api/v1/certificates/${c.serial}.json`), 'utf8'));
    return JSON.stringify(cert).includes('manufacturer_en');
  });
  assert.ok(foreign, 'the demo has a certification with manufacturer_en');
  const category = readdirSync(join(env.site, 'category'))
    .map((f) => ({ f, size: statSync(join(env.site, 'category', f)).size }))
    .sort((a, b) => b.size - a.size)[0].f;
  const digits = labels()[0].digits;
  const kinds = [
    ['home', 'index.html'],
    ['category', `category/${category}`],
    ['maker', `maker/${foreign.maker_slug}.html`],
    ['certificate', `cert/${foreign.serial}.html`],
    ['revoked', 'revoked.html'],
    ['about', 'about.html'],
    ['verify', `verify/index.html#${digits}`],
    ['check listings', 'check/index.html'],
  ];
  const out = [];
  for (const [lang, prefix] of [['zh', ''], ['en', 'en/']]) {
    for (const [name, path] of kinds) out.push({ name, lang, path: prefix + path });
  }
  out.push({ name: '404', lang: 'zh', path: '404.html' });
  return out;
}

before(async () => {
  server = await startServer(env.site);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Opens a page at `width` px (CSP bypassed only so that axe-core can be injected; the site's own
 * scripts are what they are). Waits for the verify page's verdict and shows search results on
 * the home page, so that what is measured is what a user sees.
 */
async function open(p, width, { fontSize } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 800 }, bypassCSP: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (fontSize) {
    // The browser's own font-size setting, as a reader who needs large text sets it.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Page.setFontSizes', { fontSizes: { standard: fontSize } });
  }
  // The 404 page links from the site root, as hosts serve it at any depth.
  const url = p.name === '404' ? `${server.url}no/such/page/` : `${server.url}${p.path}`;
  if (p.name === '404') server.override('no/such/page/index.html', readFileSync(join(env.site, '404.html')));
  await page.goto(url);
  if (p.name === 'verify') {
    await page.waitForFunction(() => Number(document.getElementById('verdict')?.dataset.count || 0) >= 1, null, { timeout: 15000 });
  }
  if (p.name === 'home') {
    // The search results as a shopper sees them: every two-star certification.
    await page.selectOption('#f-tier', '2');
    await page.waitForSelector('#results tbody tr');
    // Every shard of the index loaded: the results are drawn again after each.
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(200);
  }
  if (p.name === 'check listings') {
    // With its options open and the results of a small file shown.
    await page.click('details.options summary');
    await page.setInputFiles('#file', {
      name: 'listings.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('certificate,manufacturer,model,tier\n00000001,深圳市星联科技有限公司,XL-AX3000,2\n99999999,Nobody Ltd,XX-1,3\n'),
    });
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('listings').dataset.state), null, { timeout: 30000 });
    assert.equal(await page.evaluate(() => document.getElementById('listings').dataset.state), 'done');
  }
  return { page, context, errors };
}

/**
 * Elements whose text is squeezed into a column: three lines or more, fewer than three characters
 * a line on average (a maker's name one character per line).
 */
function squeezed(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('main td, main th, main dd, main dt, main p, main li, main h1, main h2, main a, main bdi, main label')) {
      const chars = [...el.textContent.replace(/\s+/g, '')].length;
      if (chars < 4 || el.offsetParent === null) continue;
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (tops.size >= 3 && chars / tops.size < 3) {
        out.push(`${el.tagName.toLowerCase()} ${JSON.stringify(el.textContent.trim().slice(0, 30))}: ${tops.size} lines of ${chars} characters`);
      }
    }
    return out;
  });
}

function widthOf(page) {
  return page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth }));
}

test('every page type fits a 360 and a 390 px screen, with nothing squeezed to a column of characters', async () => {
  const problems = [];
  for (const p of pages()) {
    for (const width of WIDTHS) {
      const { page, context, errors } = await open(p, width);
      const w = await widthOf(page);
      if (w.scroll > w.viewport) problems.push(`${p.path} (${p.name}, ${p.lang}) at ${width} px: ${w.scroll} px wide`);
      for (const s of await squeezed(page)) problems.push(`${p.path} at ${width} px: ${s}`);
      assert.deepEqual(errors, [], `${p.path}: script errors`);
      await context.close();
    }
  }
  assert.deepEqual(problems, []);
});

test('the search results are cards on a phone: the maker on its own line, not a column of characters', async () => {
  const { page, context } = await open({ name: 'home', path: 'en/index.html' }, 360);
  const cells = await page.$$eval('#results tbody tr:first-child td', (tds) => tds.map((td) => td.getBoundingClientRect().width));
  // The maker's cell (the second) is as wide as the text needs, up to the card's whole width.
  assert.ok(cells[1] > 100, `maker cell ${cells[1]} px wide: ${JSON.stringify(cells)}`);
  await context.close();
});

test('axe-core finds no violation on any page type', async () => {
  const found = [];
  for (const p of pages()) {
    const { page, context } = await open(p, 390);
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    });
    for (const v of violations) found.push(`${p.path}: ${v}`);
    await context.close();
  }
  assert.deepEqual(found, []);
});

/** The contrast ratio of two `rgb()`/`rgba()` colours (WCAG 2 relative luminance). */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Every `.stars` on the page: its role, name, glyphs hidden or not, colour and background. */
function stars(page) {
  return page.evaluate(() => [...document.querySelectorAll('.stars')].map((el) => {
    let bg = 'rgba(0, 0, 0, 0)';
    for (let n = el; n && /rgba\(.*, 0\)$|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
    if (/rgba\(.*, 0\)$|transparent/.test(bg)) bg = 'rgb(255, 255, 255)';
    return {
      role: el.getAttribute('role'),
      name: el.getAttribute('aria-label'),
      glyphs: el.textContent,
      hidden: [...el.children].every((c) => c.getAttribute('aria-hidden') === 'true') && el.children.length > 0,
      color: getComputedStyle(el).color,
      bg,
    };
  }));
}

const NAMES = {
  zh: ['一星（共三星）', '二星（共三星）', '三星（共三星）'],
  en: ['1 of 3 stars', '2 of 3 stars', '3 of 3 stars'],
};

test('the stars are an image named in words, in a colour of at least 3:1 on their background', async () => {
  let seen = 0;
  // The verify page draws its own stars (templates/static/verify.js, tested in verify.test.mjs).
  for (const p of pages().filter((x) => x.name !== 'verify' && x.name !== '404')) {
    const { page, context } = await open(p, 390);
    for (const s of await stars(page)) {
      seen++;
      const tier = [...s.glyphs].filter((g) => g === '★').length;
      assert.equal(s.role, 'img', `${p.path}: ${JSON.stringify(s)}`);
      assert.equal(s.name, NAMES[p.lang][tier - 1], `${p.path}: ${JSON.stringify(s)}`);
      assert.ok(s.hidden, `${p.path}: the glyphs are aria-hidden: ${JSON.stringify(s)}`);
      assert.ok(contrast(s.color, s.bg) >= 3, `${p.path}: ${s.color} on ${s.bg} is ${contrast(s.color, s.bg).toFixed(2)}:1`);
    }
    // As the accessibility tree has it: an image with that name.
    if (p.name === 'certificate') {
      const cert = JSON.parse(readFileSync(join(env.site, `api/v1/certificates/${p.path.match(/(\d+)\.html/)[1]}.json`), 'utf8'));
      const tier = cert.tier ?? cert.claim?.tier;
      assert.ok(await page.getByRole('img', { name: NAMES[p.lang][tier - 1], exact: true }).count() >= 1, `${p.path}: tier ${tier}`);
    }
    if (p.name === 'home') {
      assert.ok(await page.locator('#results').getByRole('img', { name: NAMES[p.lang][1], exact: true }).count() >= 1, 'stars in the search results');
      const options = await page.$$eval('#f-tier option[value]:not([value=""])', (os) => os.map((o) => o.getAttribute('aria-label')));
      assert.deepEqual(options, NAMES[p.lang], 'the tier filter names its stars');
    }
    await context.close();
  }
  assert.ok(seen > 20, `stars checked: ${seen}`);
});

test('text follows the browser font size: at 32 px nothing is wider than the screen or squeezed', async () => {
  const problems = [];
  for (const p of pages()) {
    const { page, context } = await open(p, 390, { fontSize: 32 });
    const sizes = await page.evaluate(() => ({
      body: parseFloat(getComputedStyle(document.body).fontSize),
      h1: parseFloat(getComputedStyle(document.querySelector('main h1:not(:empty)') || document.body).fontSize),
    }));
    if (sizes.body !== 32) problems.push(`${p.path}: body text ${sizes.body} px, not the browser's 32 px`);
    if (sizes.h1 < 32) problems.push(`${p.path}: heading ${sizes.h1} px`);
    const w = await widthOf(page);
    if (w.scroll > w.viewport) problems.push(`${p.path} at 200%: ${w.scroll} px wide`);
    for (const s of await squeezed(page)) problems.push(`${p.path} at 200%: ${s}`);
    await context.close();
  }
  assert.deepEqual(problems, []);
});

test('Chinese names on English pages are tagged zh-Hans, English names on Chinese pages en', async () => {
  const han = /[\u3400-\u9fff]/;
  for (const p of pages().filter((x) => ['certificate', 'maker', 'category', 'revoked', 'home'].includes(x.name))) {
    const { page, context } = await open(p, 390);
    // Every bdi (a name) and every search result cell (or, in a cell with both names, each
    // name): its language as the page resolves it.
    const names = await page.$$eval('main bdi, #results td:not(:has(bdi))', (els) => els.map((el) => ({
      text: el.textContent.trim(),
      lang: el.closest('[lang]').getAttribute('lang'),
    })));
    assert.ok(names.length > 0, p.path);
    for (const n of names) {
      if (!n.text) continue;
      if (p.lang === 'en' && han.test(n.text)) assert.equal(n.lang, 'zh-Hans', `${p.path}: ${n.text}`);
      if (p.lang === 'zh' && !han.test(n.text) && /[A-Za-z]/.test(n.text)) assert.equal(n.lang, 'en', `${p.path}: ${n.text}`);
      if (!han.test(n.text) && p.lang === 'en') assert.equal(n.lang, 'en', `${p.path}: ${n.text}`);
    }
    if (p.lang === 'en' && p.name === 'certificate') {
      assert.ok(names.some((n) => n.lang === 'zh-Hans'), `${p.path}: a Chinese name is shown and tagged`);
    }
    await context.close();
  }
});

test('every page has a meta description and links its icon', async () => {
  for (const p of pages()) {
    const { page, context } = await open(p, 390);
    const head = await page.evaluate(() => ({
      description: document.querySelector('meta[name="description"]')?.content || '',
      icons: [...document.querySelectorAll('link[rel~="icon"]')].map((l) => l.href),
    }));
    assert.ok(head.description.length >= 20, `${p.path}: description ${JSON.stringify(head.description)}`);
    assert.ok(head.icons.length >= 1, `${p.path}: no icon link`);
    for (const href of head.icons) {
      const r = await page.request.get(href);
      assert.equal(r.status(), 200, `${p.path}: ${href}`);
    }
    await context.close();
  }
});

/** Runs `starmark serve` on the demo registry, built into a temporary directory. */
async function serve() {
  const out = mkdtempSync(join(tmpdir(), 'starmark-serve-'));
  const child = spawn(env.bin, ['serve', env.registry, '--out', join(out, 'site'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`starmark serve did not start: ${text}`)), 60000);
    const read = (d) => {
      text += d;
      const m = text.match(/at (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`starmark serve exited ${code}: ${text}`)));
  });
  return {
    url,
    close() {
      child.kill('SIGTERM');
      rmSync(out, { recursive: true, force: true });
    },
  };
}

test('starmark serve: /favicon.ico is an icon, a missing path is the 404 page with status 404', async () => {
  const s = await serve();
  try {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    const icon = await page.request.get(`${s.url}favicon.ico`);
    assert.equal(icon.status(), 200);
    assert.match(icon.headers()['content-type'], /^image\//);
    assert.deepEqual([...(await icon.body()).subarray(0, 4)], [0, 0, 1, 0], 'an ICO file');
    const missing = await page.goto(`${s.url}cert/no-such-page.html`);
    assert.equal(missing.status(), 404);
    assert.equal(await page.locator('h1').first().textContent(), '未找到该页面');
    assert.equal(await page.locator('section[lang="en"] h2').textContent(), 'Page not found');
    // Its stylesheet loads (links from the site root, whatever the depth of the missing path).
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).margin), '0px');
    const w = await widthOf(page);
    assert.ok(w.scroll <= w.viewport, `404 page ${w.scroll} px wide`);
    await page.click('section[lang="en"] a[href$="index.html"]');
    await page.waitForURL(`${s.url}en/index.html`);
    await context.close();
  } finally {
    s.close();
  }
});

test('a label SVG draws in the browser as its PNG: every glyph, also those defined once and used again', async () => {
  const { serial } = labels()[0];
  const svg = readFileSync(join(env.site, `labels/${serial}.svg`), 'utf8');
  assert.match(svg, /<use xlink:href="#[a-zA-Z]+"/, 'recurring glyphs are <use>s of one definition');
  const { page, context } = await open({ name: 'certificate', path: `cert/${serial}.html` }, 390);
  const found = await page.evaluate(async (serial) => {
    const load = (src) => new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`cannot load ${src}`));
      img.src = src;
    });
    const png = await load(`../labels/${serial}.png`);
    const svg = await load(`../labels/${serial}.svg`);
    const grey = (img) => {
      const canvas = document.createElement('canvas');
      canvas.width = png.naturalWidth;
      canvas.height = png.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      return Array.from({ length: rgba.length / 4 }, (_, i) => rgba[i * 4]);
    };
    const [a, b] = [grey(png), grey(svg)];
    const dark = (g) => g.filter((v) => v < 128).length;
    const differ = a.filter((v, i) => Math.abs(v - b[i]) > 128).length;
    return { pixels: a.length, darkPng: dark(a), darkSvg: dark(b), differ };
  }, serial);
  await context.close();
  // Chromium and resvg anti-alias alike to within a few edge pixels; a glyph left undrawn would
  // take away hundreds of dark pixels.
  assert.ok(Math.abs(found.darkSvg - found.darkPng) < found.darkPng * 0.02, JSON.stringify(found));
  assert.ok(found.differ < found.pixels * 0.005, JSON.stringify(found));
});
