// The verify page. Reads the label's digits from the URL fragment (which browsers never send to a
// server), verifies them in this browser with the WebAssembly verifier (starmark-core, the same
// code as `starmark verify`) against the pinned root key, the trust list and the revocation list,
// and shows the verdict. Fetches only the site's own static files; the digits never leave the page.
//
// Lists: each visit fetches the newest lists (through the service worker, which falls back to its
// cache offline). The newest verified lists and the highest revocation list sequence seen are
// remembered in three stores: localStorage, IndexedDB, and the service worker's cache (which
// holds the revocation list itself and never replaces it by an older one). The page takes the
// highest of the three, so clearing one or two does not lower it; a list older than that is
// refused and the kept one used; and a store found behind the others is brought up to date.

const page = document.getElementById('verifier');
const data = page.dataset;
const $ = (id) => document.getElementById(id);
const strings = JSON.parse(data.strings || '{}');
const t = (key, vars = {}) =>
  (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));

const siteRoot = new URL(data.siteRoot, location.href);
const LISTS = { trust: 'api/v1/trust-list.bin', revocation: 'api/v1/revocation-list.bin' };
// Which known witnesses cosigned the registry's log checkpoint, as the build verified it (cached
// by the service worker like the lists).
const WITNESSES = 'api/v1/witnesses.json';
// Which certifications a newer record supersedes (`{"superseded_by": {"<serial>": <serial>}}`),
// fetched whole so that the server never learns which label was scanned.
const SUPERSEDED = 'api/v1/superseded.json';
const STORE = `starmark-verify:${siteRoot.pathname}`;

// ---- Loading the verifier and the lists --------------------------------------------------------

/** The verify module, instantiated; its wasm is fetched under Subresource Integrity. */
async function loadModule(glue, wasm, sri) {
  const mod = await import(glue);
  await mod.default({ module_or_path: fetch(wasm, { integrity: sri }) });
  return mod;
}

async function fetchBytes(path) {
  try {
    const response = await fetch(new URL(path, siteRoot), { cache: 'no-cache' });
    return response.ok ? new Uint8Array(await response.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

/** `api/v1/witnesses.json`, or null when it cannot be had (no log, offline and not cached). */
async function fetchWitnesses() {
  const bytes = await fetchBytes(WITNESSES);
  if (!bytes) return null;
  try {
    const w = JSON.parse(new TextDecoder().decode(bytes));
    return Number.isInteger(w.known) && Number.isInteger(w.cosigned) && Array.isArray(w.witnesses) ? w : null;
  } catch {
    return null;
  }
}

/**
 * The `old, new` serial pairs of `api/v1/superseded.json` for the verifier: 16 bytes a pair, two
 * little-endian u64 (empty when the file is absent or damaged).
 */
async function fetchSupersessions() {
  const bytes = await fetchBytes(SUPERSEDED);
  try {
    const pairs = Object.entries((bytes && JSON.parse(new TextDecoder().decode(bytes)).superseded_by) || {});
    const out = new DataView(new ArrayBuffer(pairs.length * 16));
    pairs.forEach(([old, neu], i) => {
      out.setBigUint64(i * 16, BigInt(old), true);
      out.setBigUint64(i * 16 + 8, BigInt(neu), true);
    });
    return new Uint8Array(out.buffer);
  } catch {
    return new Uint8Array(0);
  }
}

/** Shows how many of the registry's known witnesses cosigned its log checkpoint. */
function showWitnesses(w) {
  const node = $('witnesses');
  node.hidden = !w || w.known === 0;
  if (node.hidden) return;
  node.dataset.cosigned = String(w.cosigned);
  node.dataset.known = String(w.known);
  const names = w.witnesses.filter((x) => x.cosigned).map((x) => x.name).join(', ');
  node.textContent =
    w.cosigned > 0
      ? t('verify_witnesses', { size: w.size, count: w.cosigned, known: w.known, names })
      : t('verify_witnesses_none', { size: w.size, known: w.known });
}

function readLocal() {
  try {
    return JSON.parse(localStorage.getItem(STORE)) || {};
  } catch {
    return {};
  }
}

function writeLocal(value) {
  try {
    localStorage.setItem(STORE, JSON.stringify(value));
  } catch {
    // Private mode or full storage: the other stores still remember.
  }
}

// IndexedDB: database `starmark-verify`, object store `lists`, the same value as in
// localStorage under the same key. Every failure reads as empty: the other stores still remember.
const DB_NAME = 'starmark-verify';
const DB_STORE = 'lists';

function openDb() {
  return new Promise((resolve) => {
    try {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
}

async function readDb() {
  const db = await openDb();
  if (!db) return {};
  return new Promise((resolve) => {
    try {
      const request = db.transaction(DB_STORE).objectStore(DB_STORE).get(STORE);
      request.onsuccess = () => resolve(request.result || {});
      request.onerror = () => resolve({});
    } catch {
      resolve({});
    }
  }).finally(() => db.close());
}

async function writeDb(value) {
  const db = await openDb();
  if (!db) return;
  await new Promise((resolve) => {
    try {
      const tx = db.transaction(DB_STORE, 'readwrite');
      tx.objectStore(DB_STORE).put(value, STORE);
      tx.oncomplete = resolve;
      tx.onerror = resolve;
      tx.onabort = resolve;
    } catch {
      resolve();
    }
  }).finally(() => db.close());
}

// The service worker's caches (named `starmark-verify <scope> <version>`): the revocation lists
// they hold, and where to put a newer one.
const CACHE_PREFIX = 'starmark-verify ';
const revocationUrl = () => new URL(LISTS.revocation, siteRoot).href;

async function verifyCaches() {
  try {
    return (await caches.keys()).filter((name) => name.startsWith(CACHE_PREFIX));
  } catch {
    return []; // no Cache Storage here (e.g. not a secure context)
  }
}

async function readCachedRevocationLists() {
  const lists = [];
  for (const name of await verifyCaches()) {
    try {
      const hit = await (await caches.open(name)).match(revocationUrl());
      if (hit) lists.push(new Uint8Array(await hit.arrayBuffer()));
    } catch {
      // Skip an unreadable cache.
    }
  }
  return lists;
}

async function writeCachedRevocationList(bytes) {
  for (const name of await verifyCaches()) {
    try {
      const response = new Response(bytes, {
        headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-cache' },
      });
      await (await caches.open(name)).put(revocationUrl(), response);
    } catch {
      // The next visit tries again.
    }
  }
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(s) {
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const big = (x) => (x === undefined || x === null ? null : BigInt(x));
const newestFirst = (a, b) => (a.seq < b.seq ? 1 : a.seq > b.seq ? -1 : 0);
const max = (a, b) => (a === null ? b : b === null ? a : a > b ? a : b);

/**
 * Picks the lists to verify with: of those fetched now and those remembered (`stores`: local,
 * db, cache), the verified trust list and revocation list with the highest sequences. Signatures
 * are checked by the wasm (`inspect`); a list that does not verify is never used nor kept.
 * `seen` is the highest revocation sequence any store remembers: a sequence kept, or a kept list
 * that verifies. `remembered` is that per store, to find the stores left behind.
 */
function chooseLists(mod, fetched, stores) {
  const root = data.rootKey;
  const trusts = [];
  const trustBytes = [['network', fetched.trust]];
  for (const store of stores) trustBytes.push([store.from, fromBase64(store.kept.trust || '')]);
  for (const [from, bytes] of trustBytes) {
    if (!bytes || !bytes.length) continue;
    const info = JSON.parse(mod.inspect(root, bytes, undefined));
    if (info.trust_sequence !== undefined) trusts.push({ from, bytes, seq: big(info.trust_sequence) });
  }
  trusts.sort(newestFirst);
  const trust = trusts[0] || null;
  const remembered = {};
  for (const store of stores) remembered[store.from] = big(store.kept.highest);
  const revocations = [];
  if (trust) {
    const revocationBytes = [['network', fetched.revocation]];
    for (const store of stores) {
      revocationBytes.push([store.from, fromBase64(store.kept.revocation || '')]);
      for (const bytes of store.lists || []) revocationBytes.push([store.from, bytes]);
    }
    for (const [from, bytes] of revocationBytes) {
      if (!bytes || !bytes.length) continue;
      const info = JSON.parse(mod.inspect(root, trust.bytes, bytes));
      if (info.revocation_sequence === undefined) continue;
      const seq = big(info.revocation_sequence);
      revocations.push({ from, bytes, seq });
      if (from !== 'network') remembered[from] = max(remembered[from], seq);
    }
  }
  revocations.sort(newestFirst);
  const revocation = revocations[0] || null;
  const seen = Object.values(remembered).reduce(max, null);
  const refused = revocations.some(
    (r) => r.from === 'network' && ((seen !== null && r.seq < seen) || r.seq < revocation.seq),
  );
  return { trust, revocation, seen, remembered, refused };
}

/**
 * Brings every store up to the chosen lists and the highest revocation sequence (a store that
 * was cleared, or left behind, is restored); the cache gets the revocation list when it holds an
 * older one. Resolves when written; sets `data-lists-kept` then.
 */
async function keep(lists, stores) {
  const highest = max(lists.seen, lists.revocation ? lists.revocation.seq : null);
  const writes = [];
  for (const store of stores) {
    if (store.from === 'cache') {
      const r = lists.revocation;
      if (r && (lists.remembered.cache === null || lists.remembered.cache < r.seq)) {
        writes.push(writeCachedRevocationList(r.bytes));
      }
      continue;
    }
    const next = { ...store.kept };
    if (lists.trust) next.trust = toBase64(lists.trust.bytes);
    if (lists.revocation) next.revocation = toBase64(lists.revocation.bytes);
    if (highest !== null) next.highest = highest.toString();
    if (JSON.stringify(next) !== JSON.stringify(store.kept)) {
      writes.push(store.from === 'local' ? Promise.resolve(writeLocal(next)) : writeDb(next));
    }
  }
  await Promise.all(writes);
  data.listsKept = 'true';
}

// The fragment, percent-decoded and otherwise as it is: which white space around it is ignored
// is decided by the verifier (starmark-core's qr::digits_of), the same rule as `starmark verify`.
const fragmentNow = () => {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return location.hash.slice(1);
  }
};

const ready = (async () => {
  const [mod, trust, revocation, db, cached, witnesses, supersessions] = await Promise.all([
    loadModule(data.glue, data.wasm, data.wasmSri),
    fetchBytes(LISTS.trust),
    fetchBytes(LISTS.revocation),
    readDb(),
    readCachedRevocationLists(),
    fetchWitnesses(),
    fetchSupersessions(),
  ]);
  showWitnesses(witnesses);
  const stores = [
    { from: 'local', kept: readLocal() },
    { from: 'db', kept: db },
    { from: 'cache', kept: {}, lists: cached },
  ];
  const lists = chooseLists(mod, { trust, revocation }, stores);
  keep(lists, stores).catch(() => {});
  return { mod, lists, supersessions };
})();
ready.catch(() => {}); // shown as 'cannot check' when a label is verified

// ---- Showing a verdict -------------------------------------------------------------------------

const TITLE = {
  checking: 'verify_checking',
  error: 'verify_error',
  stale: 'verify_stale',
  superseded: 'verify_superseded',
  valid: 'verify_valid',
  expired: 'verify_expired',
  not_yet_valid: 'verify_not_yet_valid',
  revoked: 'verify_revoked',
  counterfeit: 'verdict_counterfeit',
  unknown_issuer: 'verify_unknown_issuer',
  issuer_compromised: 'verify_issuer_compromised',
  malformed: 'verify_malformed',
};
const TEXT = {
  checking: '',
  error: 'verify_error_text',
  stale: 'verify_stale_text',
  superseded: 'verdict_valid_text',
  valid: 'verdict_valid_text',
  expired: 'verdict_expired_text',
  not_yet_valid: 'verify_not_yet_valid_text',
  revoked: 'verdict_revoked_text',
  counterfeit: 'verdict_counterfeit_text',
  unknown_issuer: 'verify_unknown_issuer_text',
  issuer_compromised: 'verify_issuer_compromised_text',
  malformed: 'verify_malformed_text',
};

const verdictBox = $('verdict');
/** The certificate number as printed on the label: the serial in at least eight digits. */
const number = (serial) => String(serial).padStart(8, '0');
const day = (unix) => new Date(Number(unix) * 1000).toISOString().slice(0, 10);

function setField(name, value) {
  const node = page.querySelector(`[data-field="${name}"]`);
  if (node) node.textContent = value ?? '';
}

/** Shows `outcome` (from the wasm `verify`), or the checking state when it is null. */
function show(outcome, notes = []) {
  $('result').hidden = false;
  $('intro').hidden = true;
  $('another-title').hidden = false;
  // Below the verdict, shown with it (not with the checking state): what is shown grows
  // downwards and nothing moves.
  if (outcome) $('another').hidden = false;
  const verdict = outcome ? outcome.verdict || '' : '';
  const stale = Boolean(outcome && outcome.stale);
  const newer = outcome && outcome.superseded_by != null ? String(outcome.superseded_by) : null;
  const state = !outcome
    ? 'checking'
    : !verdict
      ? 'error'
      : verdict === 'valid' && stale
        ? 'stale'
        : verdict === 'valid' && newer !== null
          ? 'superseded'
          : verdict;
  verdictBox.dataset.verdict = verdict;
  verdictBox.dataset.state = state;
  verdictBox.dataset.stale = String(stale);
  verdictBox.dataset.rollback = String(Boolean(outcome && (outcome.rollback || outcome.refused)));
  const title = t(TITLE[state]);
  const text = t(TEXT[state]);
  verdictBox.querySelector('.verdict-title').textContent = title;
  verdictBox.querySelector('.verdict-text').textContent = text;
  const revoked = verdictBox.querySelector('.verdict-revoked');
  revoked.hidden = !(outcome && outcome.revocation);
  if (outcome && outcome.revocation) {
    const r = outcome.revocation;
    revoked.textContent = t('verify_revoked_detail', { date: r.date, reason: t(`reason_${r.reason}`) });
  }
  const superseded = verdictBox.querySelector('.verdict-superseded');
  superseded.hidden = newer === null;
  superseded.textContent = newer === null ? '' : t('verify_superseded_text', { number: number(newer) });

  // The signed fields, to compare with the box; never for a key known to be compromised.
  const signed = Boolean(outcome && outcome.manufacturer != null && verdict !== 'issuer_compromised');
  $('signed').hidden = !signed;
  if (signed) {
    for (const f of ['manufacturer', 'model', 'valid_from', 'valid_until', 'issuer']) {
      setField(f, outcome[f]);
    }
    setField('serial', number(outcome.serial));
    const n = outcome.tier;
    const stars = page.querySelector('[data-field="stars"]');
    stars.textContent = '★'.repeat(n) + '☆'.repeat(3 - n);
    stars.setAttribute('aria-label', t(`verify_stars_${n}`));
    stars.dataset.tier = String(n);
    $('cert-link').href = `${data.certBase}${outcome.serial}.html`;
  }

  const all = [...notes];
  if (outcome && outcome.stale && verdict !== 'valid') all.push(t('verify_stale_text'));
  if (outcome && (outcome.rollback || outcome.refused)) all.push(t('verify_rollback'));
  const lists = outcome && outcome.lists;
  if (lists && lists.revocation_issued_at !== undefined) {
    all.push(t('verify_lists_as_of', { issued: day(lists.revocation_issued_at), next: day(lists.revocation_next_update) }));
  }
  $('notes').textContent = all.join(' ');
  document.title = `${title} · ${document.title.split(' · ').pop()}`;
  if (state !== 'checking') announce([title, text, revoked.hidden ? '' : revoked.textContent, superseded.textContent]);
}

/**
 * Says the verdict to screen readers through the status region (present, and empty, since the
 * page loaded), and moves the focus to the verdict's heading so that it is read next and, on a
 * small screen, is in view.
 */
function announce(parts) {
  const status = $('status');
  status.textContent = '';
  // A new text in a later task: read even when it is the same verdict as before.
  setTimeout(() => {
    status.textContent = parts.filter(Boolean).join(' ');
  }, 50);
  verdictBox.querySelector('.verdict-title').focus();
}

/** Verifies the label in the fragment, or shows how to scan when there is none. */
async function route() {
  updateLanguageLink();
  const fragment = fragmentNow();
  if (!fragment) {
    $('another').hidden = false;
    $('result').hidden = true;
    $('intro').hidden = false;
    $('another-title').hidden = true;
    return;
  }
  // The checking state only when the verifier is slow to come: a verdict ready at once replaces
  // the page in one frame, so nothing shown moves.
  const slow = setTimeout(() => show(null), 400);
  let outcome;
  try {
    const { mod, lists, supersessions } = await ready;
    if (!lists.trust) {
      outcome = { verdict: null, stale: false, rollback: false, error: 'no trust list', lists: {} };
    } else {
      const t0 = performance.now();
      const { report, error, lists: info } = JSON.parse(
        mod.verify(
          fragment,
          data.rootKey,
          lists.trust.bytes,
          lists.revocation ? lists.revocation.bytes : undefined,
          Math.floor(Date.now() / 1000),
          lists.seen === null ? undefined : Number(lists.seen),
          supersessions,
        ),
      );
      // The verdict report (as `starmark verify --json`), and what the page adds.
      outcome = { ...(report || { verdict: null, stale: false, rollback: false }), error, lists: info };
      verdictBox.dataset.verifyMs = (performance.now() - t0).toFixed(3);
      outcome.refused = lists.refused;
    }
  } catch (e) {
    outcome = { verdict: null, stale: false, rollback: false, error: String(e), lists: {} };
  }
  clearTimeout(slow);
  if (fragment !== fragmentNow()) return; // a newer scan won
  show(outcome);
  verdictBox.dataset.ms = performance.now().toFixed(1);
  verdictBox.dataset.count = String(Number(verdictBox.dataset.count || 0) + 1);
  performance.mark('starmark-verdict');
}

// The language link keeps the label: the other language's page verifies the same fragment.
const languageLink = document.querySelector('a.lang');
const languageBase = languageLink ? languageLink.getAttribute('href') : null;
function updateLanguageLink() {
  if (languageLink) languageLink.setAttribute('href', languageBase + location.hash);
}

// ---- Another label: paste or camera ------------------------------------------------------------

/**
 * The label digits when a pasted or scanned text is exactly digits (after at most one '#') or a
 * verify URL whose fragment is exactly digits (then the verifier reads the same digits from
 * either), else null. Nothing is
 * trimmed here: any other text goes to the verifier as it is.
 */
function labelDigits(text) {
  const s = String(text);
  if (/^#?[0-9]+$/.test(s)) return s.replace('#', '');
  const i = s.indexOf('#');
  const fragment = i >= 0 ? s.slice(i + 1) : '';
  return s.includes('://') && /^[0-9]+$/.test(fragment) ? fragment : null;
}

/** Verifies a text: its digits in the fragment, or the whole text, percent-encoded. */
function go(text) {
  const digits = labelDigits(text);
  let code;
  try {
    code = digits !== null ? digits : encodeURIComponent(text);
  } catch {
    code = encodeURIComponent(String(text).replace(/[\uD800-\uDFFF]/g, '\uFFFD')); // a lone surrogate
  }
  if (`#${code}` === location.hash) route();
  else location.hash = `#${code}`;
  window.scrollTo(0, 0);
}

const message = (text) => {
  $('scan-message').textContent = text;
};

$('paste').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('code').value;
  if (text !== '') go(text);
});

const cameraButton = $('camera');
const video = $('video');
let stream = null;
let timer = 0;
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) cameraButton.hidden = false;

function stopCamera() {
  clearTimeout(timer);
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  video.srcObject = null;
  $('scanner').hidden = true;
  cameraButton.textContent = t('verify_camera');
}

/** Appends an integrity-checked modulepreload and waits for it, so the import() that follows
 * uses the checked module. */
function preload(href, integrity) {
  return new Promise((resolve, reject) => {
    const link = document.createElement('link');
    link.rel = 'modulepreload';
    link.href = href;
    link.integrity = integrity;
    link.onload = resolve;
    link.onerror = reject;
    document.head.append(link);
  });
}

/** A function from a video frame to the text of a QR code in it (or null): the browser's
 * BarcodeDetector where it reads QR codes, else the wasm decoder, loaded now. */
async function qrReader() {
  if ('BarcodeDetector' in window) {
    try {
      if ((await BarcodeDetector.getSupportedFormats()).includes('qr_code')) {
        const detector = new BarcodeDetector({ formats: ['qr_code'] });
        return async (frame) => ((await detector.detect(frame))[0] || {}).rawValue ?? null;
      }
    } catch {
      // Fall back to the wasm decoder.
    }
  }
  await preload(data.scanGlue, data.scanGlueSri);
  const scan = await loadModule(data.scanGlue, data.scanWasm, data.scanWasmSri);
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return async (frame) => {
    const w = frame.videoWidth;
    const h = frame.videoHeight;
    if (!w || !h) return null;
    const scale = Math.min(1, 960 / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    ctx.drawImage(frame, 0, 0, canvas.width, canvas.height);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return scan.decode_qr(image.data, image.width, image.height) ?? null;
  };
}

async function startCamera() {
  message('');
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch {
    message(t('verify_camera_failed'));
    return;
  }
  video.srcObject = stream;
  $('scanner').hidden = false;
  cameraButton.textContent = t('verify_camera_stop');
  await video.play().catch(() => {});
  let read;
  try {
    read = await qrReader();
  } catch {
    stopCamera();
    message(t('verify_camera_failed'));
    return;
  }
  const tick = async () => {
    if (!stream) return;
    let text = null;
    try {
      text = await read(video);
    } catch {
      text = null;
    }
    if (text !== null) {
      if (labelDigits(text) !== null) {
        stopCamera();
        go(text);
        return;
      }
      message(t('verify_not_a_label'));
    }
    timer = setTimeout(tick, 120);
  };
  tick();
}

cameraButton.addEventListener('click', () => (stream ? stopCamera() : startCamera()));

// ---- Offline: the service worker ---------------------------------------------------------------

if ('serviceWorker' in navigator && data.serviceWorker) {
  navigator.serviceWorker
    .register(data.serviceWorker, { scope: './' })
    .then(() => navigator.serviceWorker.ready)
    .then(() => {
      data.offlineReady = 'true';
      $('offline-note').hidden = false;
    })
    .catch(() => {
      // No offline support here (for example a file:// page); verifying online still works.
    });
}

window.addEventListener('hashchange', route);
route();
