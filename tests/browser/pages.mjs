// Browser test: loads pages in Debian's Chromium (driven by playwright-core) and fails on any console
// error, uncaught exception, failed request, or request to a host other than 127.0.0.1. Keeps a
// screenshot of each page as an artifact. Run by tests/tests/browser.rs against a running platform:
//   BASE_URL=http://127.0.0.1:PORT STRIPE_URL=http://127.0.0.1:PORT2 GITHUB_URL=http://127.0.0.1:PORT3 \
//   ARTIFACT_DIR=target/artifacts \
//   node tests/browser/pages.mjs
import { launch } from './launch.mjs';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const base = process.env.BASE_URL;
const stripe = process.env.STRIPE_URL;
const github = process.env.GITHUB_URL;
const artifacts = process.env.ARTIFACT_DIR ?? 'target/artifacts';
const platformLog = process.env.PLATFORM_LOG;
if (!base || !stripe || !github || !platformLog) {
  throw new Error('BASE_URL, STRIPE_URL, GITHUB_URL (the fakes) and PLATFORM_LOG are required');
}

// The newest verification link the platform emailed to `address` (without an email provider it
// prints each email to its log, as make dev shows it to a developer).
async function verificationLink(address) {
  const marker = `to ${address}: Confirm your email address`;
  for (let i = 0; i < 200; i++) {
    const log = readFileSync(platformLog, 'utf8');
    const after = log.slice(log.lastIndexOf(marker) + 1);
    const link = log.includes(marker) ? after.match(/https?:\/\/\S+\/verify-email\?token=[0-9a-f]+/) : null;
    if (link) return link[0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no verification email to ${address} in ${platformLog}`);
}
mkdirSync(join(artifacts, 'gallery'), { recursive: true });
// Viewport-sized JPEGs of the tools at work: the source of the tools' screenshot galleries
// (site/img/tools/, copied from here when the pages change).
const gallery = (page, name) => page.screenshot({ path: join(artifacts, 'gallery', name), type: 'jpeg', quality: 80 });

const browser = await launch('chromium', ['--disable-quic', '--disable-component-update', '--disable-sync'],
  { viewport: { width: 1280, height: 800 } });

const problems = [];
try {
  const pages = [['/', 'home.png'], ['/pricing', 'pricing.png'], ['/status', 'status.png'], ['/fhir/R4/Patient', 'patient.png'],
    ['/search?q=observation+code', 'search.png'], ['/tools', 'tools.png'], ['/tools/builder', 'tool.png'],
    ['/courses', 'courses.png'], ['/courses/smart-on-fhir', 'course.png'], ['/courses/fhir-search-rest-api/search-parameters', 'lesson.png'],
    ['/blog', 'blog.png'], ['/blog/operationoutcome-errors-done-right', 'post.png']];
  for (const [path, shot] of pages) {
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
    if (path === '/fhir/R4/Patient') await gallery(page, 'resource-browser-patient.jpg');
    if (path.startsWith('/search')) await gallery(page, 'resource-browser-search.jpg');
    if (path === '/') {
      // Keyboard users reach the skip link first.
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
      if (focused !== 'Skip to content') problems.push(`/: first Tab focused ${JSON.stringify(focused)}, not the skip link`);
    }
    await page.close();
  }

  // An account, end to end: sign up, sign out, sign in, and the account page shows who you are.
  const page = await browser.newPage();
  // The deliberate wrong password below is answered 401, which Chromium logs; nothing else may be.
  let expect401 = false;
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (expect401 && msg.text().includes('status of 401')) return;
    problems.push(`account flow: console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`account flow: uncaught: ${err.message}`));
  page.on('request', (req) => {
    if (new URL(req.url()).hostname !== '127.0.0.1') problems.push(`account flow: request left 127.0.0.1: ${req.url()}`);
  });
  const email = `browser-${Date.now()}@example.org`;
  const password = 'violet otter reads FHIR bundles';
  await page.goto(base + '/signup');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(base + '/account');
  await page.waitForFunction((e) => document.getElementById('me-email')?.textContent === e, email);
  // A new account confirms its address: the account page says so, the emailed link confirms it.
  await page.waitForSelector('#account[data-loading=false]');
  if (!(await page.isVisible('#verify-banner'))) problems.push('verification: the account page does not ask to confirm the address');
  await page.goto(await verificationLink(email));
  await page.waitForSelector('#verify-email[data-state=verified]');
  if (new URL(page.url()).search) problems.push(`verification: the token stays in the address bar: ${page.url()}`);
  await page.screenshot({ path: join(artifacts, 'verified.png') });
  await page.goto(base + '/account');
  await page.waitForFunction((e) => document.getElementById('me-email')?.textContent === e, email);
  if (await page.isVisible('#verify-banner')) problems.push('verification: the banner stays once the address is confirmed');
  // Every request of the account page answered before signing out (one sent after it would be a 401).
  await page.waitForSelector('#account[data-loading=false]');
  await page.click('#signout');
  await page.waitForURL(base + '/');
  await page.waitForFunction(() => document.getElementById('nav-account')?.textContent === 'Sign in');
  await page.goto(base + '/signin');
  await page.fill('#email', email);
  await page.fill('#password', 'a wrong password entirely');
  expect401 = true;
  await page.click('button[type=submit]');
  await page.waitForSelector('.form-error:not([hidden])');
  expect401 = false;
  const refusal = await page.textContent('.form-error');
  if (!refusal.includes('incorrect')) problems.push(`account flow: wrong password showed ${JSON.stringify(refusal)}`);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(base + '/account');
  await page.waitForFunction((e) => document.getElementById('me-email')?.textContent === e, email);
  const role = await page.textContent('#me-role');
  if (role !== 'free') problems.push(`account flow: plan shows ${JSON.stringify(role)}`);
  const nav = await page.textContent('#nav-account');
  if (nav !== 'Account') problems.push(`account flow: navigation shows ${JSON.stringify(nav)} when signed in`);
  await page.screenshot({ path: join(artifacts, 'account.png'), fullPage: true });

  // The assistant widget: a question, a streamed answer, citations that link into the R4 specification.
  await page.goto(base + '/');
  await page.click('.chat-toggle');
  await page.waitForSelector('#chat-panel:not([hidden])');
  const focused = await page.evaluate(() => document.activeElement?.id);
  if (focused !== 'chat-input-widget') problems.push(`assistant: opening did not focus the question box (${focused})`);
  await page.fill('#chat-input-widget', "Which resource should I use to store a patient's allergies?");
  await page.keyboard.press('Enter');
  const citation = await page.waitForSelector('.chat-msg.assistant .chat-body a[href^="https://hl7.org/fhir/R4/"]', { timeout: 20000 });
  const cited = await citation.getAttribute('href');
  const answerText = await page.textContent('.chat-msg.assistant');
  if (!answerText.includes('AllergyIntolerance')) problems.push(`assistant: the answer does not name AllergyIntolerance: ${answerText.slice(0, 200)}`);
  await page.waitForSelector('.chat-msg.assistant .chat-sources li a');
  const rel = await citation.getAttribute('rel');
  if (!rel?.includes('noopener')) problems.push(`assistant: citation links lack rel=noopener (${rel})`);
  if (!cited.includes('allergyintolerance')) problems.push(`assistant: the first citation points at ${cited}`);
  await page.screenshot({ path: join(artifacts, 'assistant.png') });
  await gallery(page, 'assistant-answer.jpg');

  // Upgrading: Pricing, Stripe Checkout (the fake's hosted page), back to the success page with the
  // new plan, and the account page showing it.
  await page.goto(base + '/pricing');
  await page.click('label[for=interval-annual]');
  if (!(await page.isVisible('[data-plan=pro] .price-annual')) || (await page.isVisible('[data-plan=pro] .price-monthly'))) {
    problems.push('pricing: the annual toggle does not switch the prices');
  }
  await page.click('label[for=interval-monthly]');
  await page.click('[data-checkout=pro]');
  await page.waitForURL((url) => url.href.startsWith(`${stripe}/pay/`));
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.href.startsWith(`${base}/billing/success?session_id=`));
  const welcome = await page.textContent('h1');
  if (welcome !== 'Welcome to Pro') problems.push(`checkout: the success page says ${JSON.stringify(welcome)}`);
  await page.screenshot({ path: join(artifacts, 'checkout-success.png'), fullPage: true });
  await page.goto(base + '/account');
  await page.waitForFunction(() => document.getElementById('me-role')?.textContent === 'pro');
  await page.waitForSelector('#billing:not([hidden])');
  const billing = await page.textContent('#billing-status');
  if (!billing.startsWith('Pro, monthly: active')) problems.push(`checkout: the account shows ${JSON.stringify(billing)}`);
  if (!(await page.isVisible('#billing-portal'))) problems.push('checkout: no billing portal button on the account page');

  // The FHIR Builder (the account is Pro now): walk the wizard, reload from the URL, generate, read a
  // file, download the ZIP and push to the fake GitHub.
  await page.goto(base + '/tools/fhir-builder');
  await page.waitForSelector('#builder[data-loading=false]');
  await page.click('label[for=useCase-analytics-dashboard]');
  await page.click('#next');
  await page.fill('#resource-filter', 'medicationreq');
  await page.click('label[for=resource-MedicationRequest]');
  const chips = await page.textContent('#chosen');
  if (!chips.includes('MedicationRequest')) problems.push(`builder: the picker did not add MedicationRequest (${chips})`);
  await page.click('#next');
  await page.click('label[for=language-python]');
  await page.click('#next');
  await page.waitForSelector('#preview li');
  const shared = page.url();
  if (!shared.includes('useCase=analytics-dashboard') || !shared.includes('MedicationRequest') || !shared.includes('language=python')) {
    problems.push(`builder: the URL does not carry the configuration: ${shared}`);
  }
  await gallery(page, 'builder-preview.jpg');
  await page.goto(shared);
  await page.waitForSelector('#preview li');
  const previewed = await page.textContent('#preview');
  if (!previewed.includes('fhir_app/fhir.py')) problems.push('builder: a shared link does not restore the configuration');
  await page.click('#generate');
  await page.waitForSelector('#results:not([hidden])');
  await page.click('#file-tree button:text-is("fhir_app/app.py")');
  await page.locator('#code').scrollIntoViewIfNeeded();
  await gallery(page, 'builder-code.jpg');
  const code = await page.textContent('#code');
  if (!code.includes('MedicationRequest') || !code.includes('def totals')) problems.push('builder: the code viewer does not show app.py');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const zipPath = join(artifacts, 'fhir-builder.zip');
  await download.saveAs(zipPath);
  const listing = spawnSync('python3', ['-m', 'zipfile', '-l', zipPath], { encoding: 'utf8' }).stdout ?? '';
  for (const expected of ['fhir-analytics-dashboard/fhir_app/fhir.py', 'fhir-analytics-dashboard/tests/test_app.py', 'fhir-analytics-dashboard/README.md']) {
    if (!listing.includes(expected)) problems.push(`builder: the ZIP lacks ${expected}`);
  }
  await page.fill('#repo-name', 'browser-analytics');
  await page.click('#push-form button[type=submit]');
  await page.waitForSelector('#pushed:not([hidden])');
  const repoUrl = await page.getAttribute('#repo-link', 'href');
  if (repoUrl !== `${github}/fhiriq-apps/browser-analytics`) problems.push(`builder: pushed to ${repoUrl}`);
  await page.screenshot({ path: join(artifacts, 'builder.png'), fullPage: true });
  await page.close();

  // A student enrols, books (Calendly's page is faked: no internet here), reads a lesson, takes a quiz
  // and sees the score and the course progress.
  const learner = await browser.newPage();
  learner.on('console', (msg) => { if (msg.type() === 'error') problems.push(`quiz flow: console error: ${msg.text()}`); });
  learner.on('pageerror', (err) => problems.push(`quiz flow: uncaught: ${err.message}`));
  let calendlyFrame = null;
  await learner.route('https://calendly.com/**', (route) => {
    calendlyFrame = route.request().url();
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Calendly</title><p>Pick a time</p>' });
  });
  await learner.goto(base + '/signin?next=/courses/fhir-fundamentals');
  await learner.fill('#email', 'student@demo.fhiriq.test');
  await learner.fill('#password', 'fhiriq-demo-student');
  await learner.click('button[type=submit]');
  await learner.waitForURL(base + '/courses/fhir-fundamentals');
  await learner.waitForSelector('[data-enrol-box][data-ready=true]');
  await learner.click('[data-enroll]');
  await learner.waitForSelector('[data-progress]:not([hidden])');
  await learner.waitForSelector('[data-booking-frame] iframe');
  await learner.waitForFunction(() => document.querySelector('[data-booking-frame] iframe')?.src);
  const booking = new URL(await learner.getAttribute('[data-booking-frame] iframe', 'src'));
  if (booking.searchParams.get('email') !== 'student@demo.fhiriq.test' || booking.searchParams.get('utm_campaign') !== 'fhir-fundamentals') {
    problems.push(`quiz flow: the booking embed is not prefilled and tagged: ${booking}`);
  }
  await learner.goto(base + '/courses/fhir-fundamentals/what-is-fhir');
  await learner.click('[data-complete-lesson]');
  await learner.waitForFunction(() => document.querySelector('[data-lesson-message]')?.textContent.includes('Lesson complete'));
  await learner.goto(base + '/courses/fhir-fundamentals/quizzes/fundamentals-check');
  await learner.waitForSelector('[data-quiz-form]:not([hidden]) fieldset.question');
  for (const question of await learner.$$('fieldset.question')) {
    await (await question.$('input')).check();
  }
  await learner.click('[data-quiz-form] button[type=submit]');
  await learner.waitForSelector('[data-quiz-result]:not([hidden])');
  const score = await learner.textContent('[data-score]');
  const progress = await learner.textContent('[data-quiz-result] [data-progress-label]');
  if (!/^You scored \d+% \(\d+ of 5\)/.test(score)) problems.push(`quiz flow: no score shown: ${score}`);
  if (!/^\d+% complete|^Course complete/.test(progress)) problems.push(`quiz flow: no progress shown: ${progress}`);
  const feedback = await learner.$$eval('.feedback:not([hidden])', (els) => els.length);
  if (feedback !== 5) problems.push(`quiz flow: ${feedback} of 5 questions show feedback`);
  await learner.screenshot({ path: join(artifacts, 'quiz.png'), fullPage: true });
  await learner.goto(base + '/courses/fhir-fundamentals');
  await learner.waitForSelector('[data-lesson="what-is-fhir"] .done-mark:not([hidden])');
  await learner.close();

  // The enterprise owner opens the analytics dashboard: the beacons of the pages above, rolled up by
  // the cron, drawn as charts.
  const owner = await browser.newPage();
  owner.on('console', (msg) => { if (msg.type() === 'error') problems.push(`dashboard: console error: ${msg.text()}`); });
  owner.on('pageerror', (err) => problems.push(`dashboard: uncaught: ${err.message}`));
  await owner.goto(base + '/signin?next=/tools');
  await owner.fill('#email', 'enterprise@demo.fhiriq.test');
  await owner.fill('#password', 'fhiriq-demo-enterprise');
  await owner.click('button[type=submit]');
  await owner.waitForURL(base + '/tools');
  await owner.goto(base + '/courses');
  await owner.goto(base + '/pricing');   // leaving each page sends its beacon
  await owner.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  // The beacons go through the events queue, whose consumer writes them a moment later: roll up
  // and look again until the owner's /pricing view is counted (at most 20 s).
  for (let tries = 0; ; tries += 1) {
    await owner.waitForTimeout(500);
    await fetch(`${base}/__scheduled?cron=*/5+*+*+*+*`);
    await owner.goto(base + '/analytics');
    await owner.waitForSelector('[data-analytics][data-loaded=true]', { timeout: 20000 });
    const counted = (await owner.textContent('[data-chart="funnel"]')).includes('page.view /pricing: 1');
    if (counted || tries >= 40) break;
  }
  const lines = await owner.$$eval('[data-chart="engagement"] polyline', (els) => els.length);
  if (lines !== 3) problems.push(`dashboard: ${lines} activity lines, expected 3`);
  const bars = await owner.$$eval('[data-chart="features"] rect.chart-bar', (els) => els.length);
  if (bars < 1) problems.push('dashboard: no feature bars');
  const steps = await owner.$$eval('[data-chart="funnel"] rect.funnel-step', (els) => els.length);
  if (steps < 2) problems.push(`dashboard: the funnel has ${steps} steps`);
  // The owner's own /pricing view above starts the first funnel (pricing to a subscription).
  const funnel = await owner.textContent('[data-chart="funnel"]');
  if (!funnel.includes('page.view /pricing: 1')) problems.push(`dashboard: the funnel missed the owner's visit: ${funnel}`);
  const funnelCsv = await owner.getAttribute('[data-funnel-csv]', 'href');
  if (!funnelCsv?.includes('/api/analytics/funnels/pricing-to-subscription?') || !funnelCsv.includes('format=csv')) {
    problems.push(`dashboard: no funnel CSV link (${funnelCsv})`);
  }
  const features = await owner.textContent('[data-chart="features"]');
  if (!features.includes('page.view')) problems.push(`dashboard: page views did not arrive: ${features}`);
  const csv = await owner.getAttribute('[data-csv="feature-usage"]', 'href');
  if (!csv?.includes('format=csv')) problems.push(`dashboard: no CSV link (${csv})`);
  await owner.click('[data-days="7"]');
  await owner.waitForSelector('[data-analytics][data-loaded=true]');
  await owner.screenshot({ path: join(artifacts, 'analytics.png'), fullPage: true });
  await owner.close();
} finally {
  await browser.close();
}

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`browser: pages clean, account flow, assistant, builder, a quiz and the analytics dashboard work; screenshots in ${artifacts}`);
