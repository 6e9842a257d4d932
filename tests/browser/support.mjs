// Browser test of the support desk (issue 19): in real Chromium a Pro member opens a request from
// /support and is promised a first answer; staff find it at the top of /admin/support and answer it;
// the member reads the answer in their thread and replies. What users wrote appears as text (the
// request carries markup that must not run). No console error, no request leaves 127.0.0.1.
// Run by tests/tests/browser.rs:
//   BASE_URL=... PRO_EMAIL=... PRO_PASSWORD=... ADMIN_EMAIL=... ADMIN_PASSWORD=... node tests/browser/support.mjs
import { finish, launch } from './launch.mjs';

const env = process.env;
const base = env.BASE_URL;
if (!base || !env.PRO_EMAIL || !env.ADMIN_EMAIL) throw new Error('BASE_URL, PRO_* and ADMIN_* are required');
const origin = new URL(base).origin;
const subject = `Push to GitHub fails ${Date.now()}`;
const answer = 'Reinstall the GitHub App on your organisation, then push again.';

const browser = await launch('support');
const problems = [];
const left = [];
try {
  await browser.route((url) => url.origin !== origin, (route) => {
    left.push(route.request().url());
    return route.abort();
  });
  const page = await browser.newPage();
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => { problems.push(`a dialog opened: ${dialog.message()}`); dialog.dismiss(); });
  const signIn = async (email, password, next) => {
    await browser.clearCookies();
    await page.goto(`${base}/signin?next=${encodeURIComponent(next)}`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL((url) => url.pathname === next, { timeout: 15000 }), page.click('button[type=submit]')]);
  };

  // The member opens a request.
  await signIn(env.PRO_EMAIL, env.PRO_PASSWORD, '/support');
  await page.fill('#support-form [name=subject]', subject);
  await page.selectOption('#support-form [name=category]', 'builder');
  await page.fill('#support-form [name=message]', 'Every push answers 403. <img src=x onerror=alert(1)>');
  await page.click('#support-form button[type=submit]');
  const done = page.locator('#support-form .form-done');
  await done.waitFor({ state: 'visible', timeout: 10000 });
  if (!(await done.textContent()).includes('one business day')) problems.push(`no first-response promise: ${await done.textContent()}`);
  const thread = page.locator('.support-request', { hasText: subject });
  await thread.waitFor({ timeout: 10000 });
  if (!(await thread.textContent()).includes('<img src=x onerror=alert(1)>')) problems.push('the message is not shown as written');
  if (await page.locator('#support-requests img').count()) problems.push('user markup became an element');

  // Staff answer from the inbox, where it comes first.
  await signIn(env.ADMIN_EMAIL, env.ADMIN_PASSWORD, '/admin/support');
  const first = await page.locator('article.support-request h2').first().textContent();
  if (first !== subject) problems.push(`the inbox does not start with the priority request: ${first}`);
  const card = page.locator('article.support-request', { hasText: subject });
  await card.locator('textarea[name=message]').fill(answer);
  await Promise.all([page.waitForURL((url) => url.pathname === '/admin/support', { timeout: 15000 }),
    card.locator('button[type=submit]').click()]);
  await page.locator('.support-staff', { hasText: answer }).first().waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${env.ARTIFACT_DIR ?? '/tmp'}/admin-support.png`, fullPage: true });

  // The member reads the answer and replies.
  await signIn(env.PRO_EMAIL, env.PRO_PASSWORD, '/support');
  const answered = page.locator('.support-request', { hasText: subject });
  await answered.locator('.support-staff', { hasText: answer }).waitFor({ timeout: 10000 });
  await answered.locator('textarea[name=message]').fill('That fixed it, thank you.');
  await answered.locator('button[type=submit]').click();
  await page.locator('.support-request', { hasText: subject }).locator('.support-user', { hasText: 'That fixed it' }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${env.ARTIFACT_DIR ?? '/tmp'}/support.png`, fullPage: true });
  if (left.length) problems.push(`requests left the site: ${left.join(', ')}`);
} catch (error) {
  problems.push(`${error.message}`);
} finally {
  await browser.close();
}
finish(problems, 'support: a Pro request was answered by staff from the inbox, read and replied to in the thread');
