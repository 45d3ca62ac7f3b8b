// The "check listings" page. A retailer picks or drops a listings file (CSV, XLSX, JSONL); it is
// read in this browser and checked by the WebAssembly build of `starmark check-listings` (the
// same Rust code), against the site's signed trust list, revocation list and claims. The file is
// never sent anywhere: the page fetches only the site's own static files. The checker's code is
// loaded only when a file is checked, so the rest of the site never pays for it.

const page = document.getElementById('listings');
const data = page.dataset;
const $ = (id) => document.getElementById(id);
const strings = JSON.parse(data.strings || '{}');
const t = (key, vars = {}) =>
  (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));

const siteRoot = new URL(data.siteRoot, location.href);
const DATA = {
  trust: 'api/v1/trust-list.bin',
  revocation: 'api/v1/revocation-list.bin',
  claims: 'api/v1/claims/',
};
// In order of precedence, as the checker ranks them.
const RESULTS = [
  'bad_row', 'counterfeit_label', 'not_found', 'ambiguous', 'revoked', 'maker_mismatch',
  'model_mismatch', 'tier_overclaimed', 'expired', 'not_yet_valid', 'stale_data', 'ok',
];
const PAGE_ROWS = 500;

let checker = null;
let current = null; // { file, report, csv, json, name }
let shown = 0;
let filtered = [];

// ---- Loading the checker (lazily) ---------------------------------------------------------------

/** The listings module: its glue preloaded under Subresource Integrity, then its wasm. */
function loadChecker() {
  if (!checker) {
    checker = (async () => {
      await new Promise((resolve, reject) => {
        const link = document.createElement('link');
        link.rel = 'modulepreload';
        link.href = data.glue;
        link.integrity = data.glueSri;
        link.onload = resolve;
        link.onerror = () => reject(new Error('checker'));
        document.head.append(link);
      });
      const mod = await import(data.glue);
      await mod.default({ module_or_path: fetch(data.wasm, { integrity: data.wasmSri }) });
      return mod;
    })();
    checker.catch(() => {
      checker = null;
    });
  }
  return checker;
}

async function fetchBytes(path) {
  try {
    const response = await fetch(new URL(path, siteRoot), { cache: 'no-cache' });
    return response.ok ? new Uint8Array(await response.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

// Every claims shard that api/v1/claims/index.json names, fetched side by side and joined in
// order (the checker reads them one after the other); null when any is missing.
async function fetchClaims() {
  const index = await fetchBytes(DATA.claims + 'index.json');
  if (!index) return null;
  let shards;
  try {
    shards = JSON.parse(new TextDecoder().decode(index)).shards;
  } catch {
    return null;
  }
  if (!Array.isArray(shards) || !shards.every((s) => /^\d+\.bin$/.test(s))) return null;
  const parts = await Promise.all(shards.map((s) => fetchBytes(DATA.claims + s)));
  if (parts.some((p) => !p)) return null;
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

// ---- The check -----------------------------------------------------------------------------------

function setStatus(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

/** 00:00 UTC of the chosen day (as `--at YYYY-MM-DD`), or of today. */
function checkTime() {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec($('at').value);
  const day = m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : Date.now();
  return Math.floor(day / 86400000) * 86400;
}

async function check(file) {
  page.dataset.state = 'checking';
  $('results').hidden = true;
  $('problems').hidden = true;
  setStatus(t('listings_checking', { name: file.name }));
  const started = performance.now();
  let mod;
  let parts;
  try {
    [mod, ...parts] = await Promise.all([
      loadChecker(),
      file.arrayBuffer().then((b) => new Uint8Array(b)),
      fetchBytes(DATA.trust),
      fetchBytes(DATA.revocation),
      fetchClaims(),
    ]);
  } catch {
    page.dataset.state = 'error';
    setStatus(t('listings_no_checker'), true);
    return;
  }
  const [bytes, trust, revocation, claims] = parts;
  if (!trust || !claims) {
    page.dataset.state = 'error';
    setStatus(t('listings_no_data'), true);
    return;
  }
  const checking = performance.now();
  const out = mod.check_listings(
    bytes, file.name, $('sheet').value.trim(), $('columns').value, data.rootKey, trust,
    revocation ?? undefined, claims, checkTime(), data.baseUrl,
  );
  showProblems(out.problems || []);
  if (!out || out.error) {
    page.dataset.state = 'error';
    setStatus(t('listings_error', { error: out ? out.error : '' }), true);
    return;
  }
  page.dataset.checkMs = String(Math.round(performance.now() - checking));
  const report = JSON.parse(out.json);
  current = { file, report, csv: out.csv, json: out.json, readAs: out.read_as };
  const ms = Math.round(performance.now() - started);
  page.dataset.ms = String(ms);
  page.dataset.rows = String(report.rows.length);
  setStatus(t('listings_done', { rows: report.rows.length, seconds: (ms / 1000).toFixed(1) }));
  render(report);
  page.dataset.state = 'done';
}

function showProblems(problems) {
  const list = $('problems');
  list.replaceChildren(
    ...problems.slice(0, 20).map((p) => {
      const li = document.createElement('li');
      li.textContent = p;
      return li;
    }),
  );
  if (problems.length > 20) {
    const li = document.createElement('li');
    li.textContent = t('listings_more_problems', { n: problems.length - 20 });
    list.append(li);
  }
  list.hidden = problems.length === 0;
}

// ---- Results ------------------------------------------------------------------------------------

const resultName = (r) => t(`listings_result_${r}`);

function render(report) {
  $('meta').textContent = t('listings_meta', {
    at: report.at,
    certifications: report.certifications,
    sequence: report.revocation_sequence ?? '—',
  });
  const summary = $('summary');
  const filter = $('filter');
  summary.replaceChildren();
  filter.replaceChildren(new Option(t('listings_filter_all', { n: report.summary.rows }), ''));
  const problems = report.summary.rows - report.summary.ok;
  filter.append(new Option(t('listings_filter_problems', { n: problems }), 'problems'));
  for (const r of [...RESULTS].reverse()) {
    const n = report.summary[r] || 0;
    if (n === 0) continue;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'result';
    b.dataset.result = r;
    b.setAttribute('aria-pressed', 'false');
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.dataset.result = r;
    tag.textContent = resultName(r);
    b.append(tag, ` ${n}`);
    b.addEventListener('click', () => {
      filter.value = filter.value === r ? '' : r;
      applyFilter();
    });
    summary.append(b);
    filter.append(new Option(`${resultName(r)} (${n})`, r));
  }
  $('results').hidden = false;
  applyFilter();
}

function applyFilter() {
  if (!current) return;
  const want = $('filter').value;
  const needle = $('search').value.trim().toLowerCase();
  for (const b of $('summary').querySelectorAll('button.result')) {
    b.setAttribute('aria-pressed', String(b.dataset.result === want));
  }
  filtered = current.report.rows.filter((r) => {
    if (want === 'problems' && r.result === 'ok') return false;
    if (want && want !== 'problems' && r.result !== want) return false;
    if (!needle) return true;
    return [r.listing_id, r.shop, r.reason, r.listing.manufacturer, r.listing.model,
      r.listing.certificate].some((v) => String(v).toLowerCase().includes(needle));
  });
  $('table').tBodies[0].replaceChildren();
  shown = 0;
  showMore();
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function showMore() {
  const body = $('table').tBodies[0];
  const next = filtered.slice(shown, shown + PAGE_ROWS);
  const rows = next.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.result = r.result;
    tr.dataset.row = String(r.row);
    const result = cell('');
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.dataset.result = r.result;
    tag.textContent = resultName(r.result);
    result.append(tag);
    const reg = r.registry;
    const maker = reg ? [reg.manufacturer, reg.manufacturer_en].filter(Boolean).join(' / ') : '';
    tr.append(
      cell(r.row), cell(r.listing_id), cell(r.shop), result, cell(r.reason, 'reason'),
      cell(reg ? reg.certificate : r.listing.certificate), cell(maker || r.listing.manufacturer),
      cell(reg ? reg.model : r.listing.model), cell(reg ? reg.tier : r.listing.tier),
      cell(reg ? reg.valid_until : ''),
    );
    return tr;
  });
  body.append(...rows);
  shown += next.length;
  $('shown').textContent = t('listings_shown', { shown, total: filtered.length });
  $('more').hidden = shown >= filtered.length;
}

function download(text, type, ext) {
  if (!current) return;
  const stem = current.file.name.replace(/\.[^.]*$/, '') || 'listings';
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${stem}-report.${ext}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ---- Wiring -------------------------------------------------------------------------------------

const today = new Date();
$('at').value = today.toISOString().slice(0, 10);
page.dataset.state = 'idle';

$('file').addEventListener('change', () => {
  const file = $('file').files[0];
  if (file) check(file);
});
$('listings-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const file = current ? current.file : $('file').files[0];
  if (file) check(file);
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer.files[0];
  if (file) check(file);
});
$('filter').addEventListener('change', applyFilter);
$('search').addEventListener('input', applyFilter);
$('more').addEventListener('click', showMore);
$('download-csv').addEventListener('click', () => download(current.csv, 'text/csv;charset=utf-8', 'csv'));
$('download-json').addEventListener('click', () => download(current.json, 'application/json', 'json'));
