// Browser test: loads pages in Debian's Chromium (driven by playwright-core) and fails on any console
// error, uncaught exception, failed request, or request to a host other than 127.0.0.1. Keeps a
// screenshot of each page as an artifact. Run by tests/tests/browser.rs against a running platform:
//   BASE_URL=http://127.0.0.1:PORT ARTIFACT_DIR=target/artifacts node tests/browser/pages.mjs
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.BASE_URL;
const artifacts = process.env.ARTIFACT_DIR ?? 'target/artifacts';
if (!base) throw new Error('BASE_URL is required');
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'fhiriq-chromium-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
});

const problems = [];
try {
  for (const [path, shot] of [['/', 'home.png'], ['/pricing', 'pricing.png'], ['/status', 'status.png']]) {
    const page = await browser.newPage();
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`${path}: console error: ${msg.text()}`); });
    page.on('pageerror', (err) => problems.push(`${path}: uncaught: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`${path}: request failed: ${req.url()} ${req.failure()?.errorText}`));
    page.on('request', (req) => {
      const host = new URL(req.url()).hostname;
      if (host !== '127.0.0.1') problems.push(`${path}: request left 127.0.0.1: ${req.url()}`);
    });
    const response = await page.goto(base + path, { waitUntil: 'networkidle' });
    if (response.status() !== 200) problems.push(`${path}: status ${response.status()}`);
    // The self-hosted font must actually load (no fallback to a CDN, no silent failure).
    const interLoaded = await page.evaluate(async () => { await document.fonts.ready; return document.fonts.check('16px Inter'); });
    if (!interLoaded) problems.push(`${path}: the Inter font did not load`);
    await page.screenshot({ path: join(artifacts, shot), fullPage: true });
    if (path === '/') {
      // Keyboard users reach the skip link first.
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
      if (focused !== 'Skip to content') problems.push(`/: first Tab focused ${JSON.stringify(focused)}, not the skip link`);
    }
    await page.close();
  }
} finally {
  await browser.close();
}

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`browser: 3 pages clean; screenshots in ${artifacts}`);
