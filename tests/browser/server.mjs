// A tiny static file server for the browser tests and the benchmark: serves a built site on
// 127.0.0.1, logs every request (method, URL, Referer), and can serve other bytes in place of a
// file (to offer an older revocation list) or refuse every connection (to be "offline").
//
//   node server.mjs DIR [PORT]      serve DIR until interrupted, logging requests to stderr
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.xml': 'application/xml',
  '.webmanifest': 'application/manifest+json',
  '.bin': 'application/octet-stream',
  '.md': 'text/markdown; charset=utf-8',
  '.sig': 'text/plain; charset=utf-8',
};

/**
 * Starts serving `root`. Returns { url, log, override(path, bytes|null), setDown(bool), close() }.
 * `log` holds every request as { method, url, referer, status }.
 */
export async function startServer(root, port = 0) {
  const log = [];
  const overrides = new Map();
  let down = false;
  const sockets = new Set();
  const server = createServer(async (req, res) => {
    const entry = { method: req.method, url: req.url, referer: req.headers.referer || null, status: 0 };
    log.push(entry);
    if (process.env.SERVER_VERBOSE) console.error(`${req.method} ${req.url}`);
    if (down) {
      req.socket.destroy();
      return;
    }
    const send = (status, body, type) => {
      entry.status = status;
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let rel = normalize(path).replace(/^[/\\]+/, '');
    if (rel.split(sep).includes('..')) return send(400, 'bad path', 'text/plain');
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    if (overrides.has(rel)) return send(200, overrides.get(rel), TYPES[extname(rel)] || 'application/octet-stream');
    let file = join(root, rel);
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      send(200, await readFile(file), TYPES[extname(file)] || 'application/octet-stream');
    } catch {
      send(404, 'not found', 'text/plain');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    if (down) s.destroy();
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    log,
    override(path, bytes) {
      if (bytes === null) overrides.delete(path);
      else overrides.set(path, bytes);
    },
    setDown(value) {
      down = value;
      if (down) for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, port] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node server.mjs DIR [PORT]');
    process.exit(2);
  }
  process.env.SERVER_VERBOSE = '1';
  const s = await startServer(dir, Number(port || 0));
  console.log(s.url);
}
