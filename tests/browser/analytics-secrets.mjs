// Browser test of issue 15, item 8: with GA4 and PostHog configured and accepted, a page opened with a
// secret query parameter (/reset?token=...) and the page after it (whose referrer is that address)
// send the secret to nobody: not to GA4, not to PostHog, not to the first-party /api/events. Run by
// tests/tests/browser.rs:
//   BASE_URL=http://127.0.0.1:PORT node tests/browser/analytics-secrets.mjs
//
// There is no internet, so their scripts are stubs answered here that do what the real ones do with
// what the page gives them: gtag.js reports `page_location` and `page_referrer` from the `config`
// command, or else location.href and document.referrer; PostHog's array.js builds a $pageview from
// location.href and document.referrer, passes it through the `before_send` the page configured, if
// any, and posts it. Every request to their collection endpoints is recorded and searched.
import { finish, launch } from './launch.mjs';

const base = process.env.BASE_URL;
if (!base) throw new Error('BASE_URL is required');
const SECRET = '5ec2e7c0ffee6f1c5ec2e7c0ffee6f1c';

const GTAG = `(() => {
  const config = Array.from(window.dataLayer || [], (args) => Array.from(args)).find((args) => args[0] === 'config') || [];
  const params = config[2] || {};
  const dl = params.page_location ?? location.href;
  const dr = params.page_referrer ?? document.referrer;
  fetch('https://region1.google-analytics.com/g/collect?v=2&en=page_view&tid=' + config[1] + '&dl=' + encodeURIComponent(dl) + '&dr=' + encodeURIComponent(dr), { method: 'POST', mode: 'no-cors', keepalive: true });
})();`;

const POSTHOG = `(() => {
  const [, options = {}] = (window.posthog && window.posthog._i && window.posthog._i[0]) || [];
  let event = {
    event: '$pageview',
    properties: { $current_url: location.href, $pathname: location.pathname, $referrer: document.referrer, $host: location.host },
    $set_once: { $initial_current_url: location.href, $initial_referrer: document.referrer },
  };
  if (typeof options.before_send === 'function') event = options.before_send(event);
  if (event) fetch(options.api_host + '/e/', { method: 'POST', mode: 'no-cors', body: JSON.stringify(event), keepalive: true });
})();`;

const browser = await launch('secrets');
const problems = [];
const collected = []; // { to, url, body }
try {
  const page = await browser.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  await page.route('https://www.googletagmanager.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: GTAG }));
  await page.route('https://us-assets.i.posthog.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: POSTHOG }));
  for (const [to, pattern] of [['ga4', 'https://*.google-analytics.com/**'], ['posthog', 'https://us.i.posthog.com/**']]) {
    await page.route(pattern, (route) => {
      collected.push({ to, url: route.request().url(), body: route.request().postData() ?? '' });
      return route.fulfill({ status: 204, body: '' });
    });
  }
  page.on('request', (request) => {
    if (request.url().startsWith(base + '/api/events')) collected.push({ to: 'first-party', url: request.url(), body: request.postData() ?? '' });
  });

  // Consent once, on the home page.
  await page.goto(base + '/');
  await page.click('[data-consent=accept]');
  await page.waitForFunction(() => (window.dataLayer ?? []).length >= 2);
  await page.waitForTimeout(300);
  collected.length = 0;

  // The reset link as it arrives by email; then the next page, whose referrer is that link.
  const sentBy = (to, count) => collected.filter((c) => c.to === to).length >= count;
  const until = async (test, what) => {
    for (let i = 0; i < 100 && !test(); i++) await page.waitForTimeout(100);
    if (!test()) problems.push(`timed out waiting for ${what}: ${JSON.stringify(collected)}`);
  };
  await page.goto(`${base}/reset?token=${SECRET}`);
  await until(() => sentBy('ga4', 1) && sentBy('posthog', 1), 'GA4 and PostHog on /reset');
  if ((await page.inputValue('#reset-token')) !== SECRET) problems.push('the reset page no longer reads its token');
  await page.evaluate(() => location.assign('/pricing'));
  await page.waitForURL('**/pricing');
  if (!(await page.evaluate(() => document.referrer)).includes(SECRET)) problems.push('the test did not give /pricing the reset link as its referrer');
  await until(() => sentBy('ga4', 2) && sentBy('posthog', 2), 'GA4 and PostHog on /pricing');
  await page.evaluate(() => window.dispatchEvent(new Event('pagehide')));
  await until(() => sentBy('first-party', 1), 'the first-party page views');

  const decoded = (text) => { try { return decodeURIComponent(text); } catch { return text; } };
  for (const c of collected) {
    if ((c.url + c.body).includes(SECRET) || decoded(c.url + c.body).includes(SECRET)) {
      problems.push(`the secret reached ${c.to}: ${c.url} ${c.body}`);
    }
  }
  const ga4 = collected.filter((c) => c.to === 'ga4').map((c) => new URL(c.url).searchParams);
  if (!ga4.some((p) => p.get('dl')?.endsWith('/reset?token=removed'))) problems.push(`GA4 was not told the page: ${ga4.map((p) => p.get('dl'))}`);
  if (!ga4.some((p) => p.get('dr')?.endsWith('/reset?token=removed'))) problems.push(`GA4 was not told the referrer: ${ga4.map((p) => p.get('dr'))}`);
  const posthog = collected.filter((c) => c.to === 'posthog').map((c) => JSON.parse(c.body));
  if (!posthog.some((e) => e.properties.$current_url.endsWith('/reset?token=removed'))) problems.push(`PostHog events: ${JSON.stringify(posthog)}`);
  await page.close();
} finally {
  await browser.close();
}
finish(problems, `analytics secrets: ${collected.length} analytics requests, none with the token`);
