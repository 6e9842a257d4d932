// Browser test of the redirect after signing in (issue 15, open redirect): real Chromium signs in at
// /signin?next=<value> and must land on one of our own pages whatever the value, because the browser
// follows only the `next` the server answers (shared::web::routes::safe_next). Run by
// tests/tests/browser.rs:  BASE_URL=http://127.0.0.1:PORT EMAIL=... PASSWORD=... node tests/browser/redirect.mjs
import { finish, launch } from './launch.mjs';

const { BASE_URL: base, EMAIL: email, PASSWORD: password } = process.env;
if (!base || !email || !password) throw new Error('BASE_URL, EMAIL and PASSWORD are required');
const origin = new URL(base).origin;
// Raw query strings, as an attacker writes them in a link.
const hostile = ['/\\evil.example', '/%09/evil.example', '//evil.example', '/%5Cevil.example', 'https://evil.example/',
  '/%0d%0a/evil.example', 'javascript:alert(1)', '/\\/evil.example'];
const wanted = [['/courses/smart-on-fhir', '/courses/smart-on-fhir'], ['/pricing', '/pricing']];

const browser = await launch('redirect');
const problems = [];
const left = [];
try {
  // Any request that leaves our origin is recorded and answered here (there is no internet).
  await browser.route((url) => url.origin !== origin, (route) => {
    left.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<title>evil</title>' });
  });
  const signIn = async (next) => {
    const page = await browser.newPage();
    await browser.clearCookies();
    await page.goto(`${base}/signin?next=${next}`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 15000 }),
      page.click('button[type=submit]')]);
    await page.waitForLoadState('domcontentloaded');
    const landed = new URL(page.url());
    await page.close();
    return landed;
  };
  for (const next of hostile) {
    const landed = await signIn(next);
    if (landed.origin !== origin) problems.push(`next=${next} left the site for ${landed.href}`);
    else if (landed.pathname !== '/account') problems.push(`next=${next} went to ${landed.pathname}, not the default /account`);
  }
  for (const [next, path] of wanted) {
    const landed = await signIn(encodeURIComponent(next));
    if (landed.origin !== origin || landed.pathname !== path) problems.push(`next=${next} went to ${landed.href}, not ${path}`);
  }
  if (left.length) problems.push(`requests left the site: ${left.join(', ')}`);
} finally {
  await browser.close();
}
finish(problems, `redirect: ${hostile.length} hostile next values stayed on /account; ${wanted.length} of our pages were followed`);
