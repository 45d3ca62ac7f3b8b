// The verify page's service worker. The build puts two constants before this text: VERSION (the
// page's content key) and PRECACHE (paths relative to the site root, where this worker is). Each
// verify page registers it with its own directory as scope (verify/, en/verify/), so it serves the
// verify pages and nothing else of the site.
//
// Install: precache the page, its scripts, the wasm, the icons and the lists. Then:
// - pages and lists: network first (fresh lists when online), the cache when offline;
// - assets (content-hashed names): the cache first, the network for what is not cached yet (the
//   camera's QR decoder, fetched only when the camera is used).
// The worker never sees the label's digits: they are in the URL fragment, which is not requested.

/* global VERSION, PRECACHE */
const ROOT = new URL('./', self.location.href);
const SCOPE = new URL(self.registration.scope).pathname;
const PREFIX = 'starmark-verify';
const CACHE = `${PREFIX} ${SCOPE} ${VERSION}`;
const NETWORK_TIMEOUT_MS = 4000;
const absolute = (path) => new URL(path, ROOT).href;
const LISTS = new Set(['api/v1/trust-list.bin', 'api/v1/revocation-list.bin'].map(absolute));
const ASSETS = absolute('assets/');

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // Content-hashed assets may come from the HTTP cache; pages and lists are revalidated.
      .then((cache) =>
        cache.addAll(
          PRECACHE.map((p) => {
            const url = absolute(p);
            return new Request(url, { cache: url.startsWith(ASSETS) ? 'default' : 'no-cache' });
          }),
        ),
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

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok && response.type === 'basic') {
      await cache.put(key, response.clone());
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
