// Shared by the browser tests and the benchmark: the environment scripts/browser-test sets, the
// Chromium launch, the CLI, and reading a verdict off the verify page.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const env = {
  /** The built site (starmark build site --out DIR). */
  site: required('STARMARK_SITE'),
  /** The registry it was built from (for starmark verify --registry). */
  registry: required('STARMARK_REGISTRY'),
  /** The starmark binary. */
  bin: required('STARMARK_BIN'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests with scripts/browser-test`);
  return v;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch(extraArgs = []) {
  return chromium.launch({ executablePath: env.chromium, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Runs the starmark binary; returns { status, stdout, stderr }. */
export function starmark(args, options = {}) {
  const r = spawnSync(env.bin, args, { encoding: 'utf8', ...options });
  if (r.error) throw r.error;
  return r;
}

/** `starmark verify --json` at Unix time `at`, as an object (it exits 1 for any non-valid verdict). */
export function cliVerify(digits, at, registry = env.registry) {
  const r = starmark(['verify', '--json', '--registry', registry, '--at', String(at), digits]);
  if (r.status !== 0 && r.status !== 1) throw new Error(`starmark verify failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every demo label of the built site: [{ serial, digits }]. */
export function labels(site = env.site) {
  return readdirSync(join(site, 'records'))
    .filter((f) => f.endsWith('.sig'))
    .map((f) => ({ serial: Number(f.slice(0, -4)), digits: readFileSync(join(site, 'records', f), 'utf8').trim() }))
    .sort((a, b) => a.serial - b.serial);
}

/** The built site's revocation list (the JSON rendering). */
export function revocationList(site = env.site) {
  return JSON.parse(readFileSync(join(site, 'api/v1/revocation-list.json'), 'utf8'));
}

/**
 * Waits for the verify page's verdict number `count` (1 for the first after a navigation) and
 * reads it: the data attributes and the signed fields as shown.
 */
export async function readVerdict(page, count = 1) {
  await page.waitForFunction(
    (n) => Number(document.getElementById('verdict')?.dataset.count || 0) >= n,
    count,
    { timeout: 15000 },
  );
  return page.evaluate(() => {
    const v = document.getElementById('verdict');
    const field = (n) => document.querySelector(`[data-field="${n}"]`);
    const signed = !document.getElementById('signed').hidden;
    const revoked = v.querySelector('.verdict-revoked');
    return {
      verdict: v.dataset.verdict,
      state: v.dataset.state,
      stale: v.dataset.stale === 'true',
      rollback: v.dataset.rollback === 'true',
      title: v.querySelector('.verdict-title').textContent,
      revoked: revoked.hidden ? null : revoked.textContent,
      ms: Number(v.dataset.ms),
      verifyMs: Number(v.dataset.verifyMs),
      background: getComputedStyle(v).backgroundColor,
      fields: signed
        ? {
            manufacturer: field('manufacturer').textContent,
            model: field('model').textContent,
            tier: Number(field('stars').dataset.tier),
            stars: field('stars').textContent,
            valid_from: field('valid_from').textContent,
            valid_until: field('valid_until').textContent,
            serial: field('serial').textContent,
            issuer: field('issuer').textContent,
            cert: document.getElementById('cert-link').getAttribute('href'),
          }
        : null,
    };
  });
}
