// The verify page's service worker. The build puts two constants before this text: VERSION (the
// page's content key) and PRECACHE (paths relative to the site root, where this worker is). Each
// verify page registers it with its own directory as scope (verify/, en/verify/), so it serves the
// verify pages and nothing else of the site.
//
// Install: precache the page, its scripts, the wasm, the icons, the lists, the witnesses' count
// and the superseded certifications.
// Then:
// - pages, lists, the witnesses' count and the superseded certifications: network first (fresh when online), the cache offline;
// - assets (content-hashed names): the cache first, the network for what is not cached yet (the
//   camera's QR decoder, fetched only when the camera is used).
// The revocation list is never cached over a newer one: the worker reads the sequence of what it
// is served (it cannot check signatures; the page does, and refuses an older list as a rollback)
// and keeps the cached list when that is newer, also across a reinstall. The page reads the
// cached list too, as one of its three memories of the highest sequence seen.
// The worker never sees the label's digits: they are in the URL fragment, which is not requested.

/* global VERSION, PRECACHE */
const ROOT = new URL('./', self.location.href);
const SCOPE = new URL(self.registration.scope).pathname;
const PREFIX = 'starmark-verify';
const CACHE = `${PREFIX} ${SCOPE} ${VERSION}`;
const NETWORK_TIMEOUT_MS = 4000;
const absolute = (path) => new URL(path, ROOT).href;
const REVOCATION_LIST = absolute('api/v1/revocation-list.bin');
const LISTS = new Set([
  absolute('api/v1/trust-list.bin'),
  REVOCATION_LIST,
  absolute('api/v1/witnesses.json'),
  absolute('api/v1/superseded.json'),
]);
const ASSETS = absolute('assets/');

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // Content-hashed assets may come from the HTTP cache; pages and lists are revalidated.
      .then((cache) =>
        Promise.all([
          cache.addAll(
            PRECACHE.filter((p) => absolute(p) !== REVOCATION_LIST).map((p) => {
              const url = absolute(p);
              return new Request(url, { cache: url.startsWith(ASSETS) ? 'default' : 'no-cache' });
            }),
          ),
          precacheRevocationList(cache),
        ]),
      )
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith(`${PREFIX} ${SCOPE} `) && k !== CACHE)
            .map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

/** The cache key of a request: no query, no fragment; a directory means its index.html. */
function keyOf(url) {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  if (u.pathname.endsWith('/')) u.pathname += 'index.html';
  return u.href;
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * The sequence of a revocation list (docs/FORMAT.md, section 5: version 0x01, the 4-byte key id,
 * then the sequence as a big-endian u64), or null when the bytes cannot be one. Unverified: it
 * only keeps an older list from replacing a newer one in the cache.
 */
function sequenceOf(bytes) {
  const MIN_LENGTH = 1 + 4 + 8 + 8 + 8 + 4 + 64;
  if (bytes.length < MIN_LENGTH || bytes[0] !== 1) return null;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(5);
}

/** The cached revocation list with the highest sequence, of all this site's verify caches (this
 * worker's, the other scope's, and those of the version being replaced): { seq, bytes } or null. */
async function newestCachedRevocationList() {
  let newest = null;
  for (const name of await caches.keys()) {
    if (!name.startsWith(`${PREFIX} `)) continue;
    const hit = await (await caches.open(name)).match(REVOCATION_LIST);
    if (!hit) continue;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    const seq = sequenceOf(bytes);
    if (seq !== null && (newest === null || seq > newest.seq)) newest = { seq, bytes };
  }
  return newest;
}

const listResponse = (bytes) =>
  new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-cache' } });

/** Caches `bytes` as the revocation list unless a cached list has a higher sequence; true when
 * cached. */
async function cacheRevocationList(cache, bytes) {
  const seq = sequenceOf(bytes);
  if (seq === null) return false;
  const newest = await newestCachedRevocationList();
  if (newest !== null && newest.seq > seq) return false;
  await cache.put(REVOCATION_LIST, listResponse(bytes));
  return true;
}

/** Install: the served revocation list, or the newest one already cached when that is newer. */
async function precacheRevocationList(cache) {
  const response = await fetch(new Request(REVOCATION_LIST, { cache: 'no-cache' }));
  if (!response.ok) throw new Error(`${REVOCATION_LIST}: ${response.status}`);
  if (await cacheRevocationList(cache, new Uint8Array(await response.arrayBuffer()))) return;
  const newest = await newestCachedRevocationList();
  if (newest !== null) await cache.put(REVOCATION_LIST, listResponse(newest.bytes));
}

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok && response.type === 'basic') {
      if (key === REVOCATION_LIST) {
        // The page gets what was served (and refuses it when older); the cache keeps the newest.
        await cacheRevocationList(cache, new Uint8Array(await response.clone().arrayBuffer()));
      } else {
        await cache.put(key, response.clone());
      }
      return response;
    }
    return (await cache.match(key)) || response;
  } catch (e) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw e;
  }
}

async function cacheFirst(request, key) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') await cache.put(key, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || !request.url.startsWith(ROOT.origin)) return;
  const key = keyOf(request.url);
  if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request, key));
  } else if (LISTS.has(key)) {
    event.respondWith(networkFirst(request, key));
  } else if (key.startsWith(ASSETS) || PRECACHE.some((p) => absolute(p) === key)) {
    event.respondWith(cacheFirst(request, key));
  }
});
