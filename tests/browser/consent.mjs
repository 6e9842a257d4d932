// Browser test of the optional third-party analytics (GA4 and PostHog configured): a consent banner
// appears, nothing of theirs loads before consent or after a refusal, and accepting loads them (their
// origins answered here by stubs: there is no internet). Run by tests/tests/browser.rs:
//   BASE_URL=http://127.0.0.1:PORT node tests/browser/consent.mjs
import { finish, launch } from './launch.mjs';

const base = process.env.BASE_URL;
if (!base) throw new Error('BASE_URL is required');
const browser = await launch('consent');
const problems = [];
const loaded = [];
try {
  const page = await browser.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  for (const origin of ['https://www.googletagmanager.com/**', 'https://us-assets.i.posthog.com/**']) {
    await page.route(origin, (route) => {
      loaded.push(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: 'window.__thirdPartyLoaded = (window.__thirdPartyLoaded || 0) + 1;' });
    });
  }
  const first = await page.goto(base + '/');
  const csp = (await first.allHeaders())['content-security-policy'] ?? '';
  if (!csp.includes('https://www.googletagmanager.com') || !csp.includes('https://us.i.posthog.com')) problems.push(`CSP not widened: ${csp}`);
  await page.waitForSelector('.consent-banner');
  await page.waitForTimeout(300);
  if (loaded.length) problems.push(`loaded before consent: ${loaded}`);
  await page.click('[data-consent=decline]');
  await page.reload();
  await page.waitForTimeout(500);
  if (await page.$('.consent-banner')) problems.push('the banner came back after a refusal');
  if (loaded.length) problems.push(`loaded after a refusal: ${loaded}`);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.click('[data-consent=accept]');
  await page.waitForFunction(() => (window.__thirdPartyLoaded ?? 0) >= 2);
  if (!loaded.some((u) => u.startsWith('https://www.googletagmanager.com/gtag/js?id=G-CONSENT1'))) problems.push(`GA4 not loaded: ${loaded}`);
  if (!loaded.some((u) => u.startsWith('https://us-assets.i.posthog.com/static/array.js'))) problems.push(`PostHog not loaded: ${loaded}`);
  const queued = await page.evaluate(() => (window.dataLayer ?? []).length);
  if (queued < 2) problems.push('gtag was not configured');
  await page.close();
} finally {
  await browser.close();
}
finish(problems, 'consent: nothing before consent or after a refusal; both load after accepting');
