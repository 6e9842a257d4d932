// FHIR IQ in the browser: the signed-in state in the navigation, JSON forms, the account page, and
// checkout and billing-portal buttons.
// Served from our origin (the CSP allows no inline script). User data is only ever set as text.
'use strict';

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try { data = await response.json(); } catch { /* an empty body */ }
  return { ok: response.ok, status: response.status, data };
}

function messageOf(result) {
  return result.data?.error?.message ?? `Something went wrong (HTTP ${result.status}). Try again.`;
}


function show(element, text) {
  if (!element) return;
  element.textContent = text;
  element.hidden = !text;
}

// The server renders the signed-in visitor's account link into the page (and flags a failed payment
// on it), so the navigation is right before any script runs and no API call is made to learn it.
function navigationState() {
  const link = document.getElementById('nav-account');
  if (link && 'paymentNeeded' in link.dataset) paymentBanner();
}

// On every page while a subscription's payment is failing: what happened and where to fix it.
function paymentBanner() {
  const main = document.getElementById('main');
  if (!main || document.querySelector('.banner-warning')) return;
  const banner = document.createElement('p');
  banner.className = 'banner banner-warning container';
  banner.setAttribute('role', 'alert');
  banner.textContent = 'Your last payment did not go through, so paid features are paused. ';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button button-small';
  button.dataset.portal = '';
  button.textContent = 'Update payment method';
  button.addEventListener('click', () => openBilling(button, '/api/billing/portal'));
  banner.append(button);
  main.prepend(banner);
}

// Asks the server for a Stripe URL (checkout or portal) and goes there.
async function openBilling(button, path, body) {
  const error = document.getElementById('checkout-error') ?? document.getElementById('account-error');
  show(error, '');
  button.disabled = true;
  try {
    const result = await call('POST', path, body);
    if (result.ok && result.data?.url) {
      location.assign(result.data.url);
      return;
    }
    if (result.status === 401) {
      location.assign('/signin?next=' + encodeURIComponent(location.pathname));
      return;
    }
    show(error, messageOf(result));
  } finally {
    button.disabled = false;
  }
}

function billingButtons() {
  for (const button of document.querySelectorAll('[data-checkout]')) {
    button.addEventListener('click', () => {
      const interval = document.querySelector('input[name=interval]:checked')?.value ?? 'monthly';
      openBilling(button, '/api/billing/checkout', { plan: button.dataset.checkout, interval });
    });
  }
  for (const button of document.querySelectorAll('[data-portal]')) {
    button.addEventListener('click', () => openBilling(button, '/api/billing/portal'));
  }
}

// Form fields as JSON: numbers as numbers, data-type=boolean fields as booleans, empty optional
// fields left out.
function formBody(form) {
  const body = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    if (element.type === 'number') {
      if (element.value !== '') body[element.name] = Number(element.value);
    } else if (element.dataset.type === 'boolean') {
      body[element.name] = element.value === 'true';
    } else if (element.type !== 'submit' && element.type !== 'button') {
      body[element.name] = element.value;
    }
  }
  return body;
}

function wireForms() {
  for (const form of document.querySelectorAll('form.api-form')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = form.querySelector('.form-error');
      const done = form.querySelector('.form-done');
      show(error, '');
      show(done, '');
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      try {
        const body = formBody(form);
        // Where to go after signing in: the server answers `next` only if it is one of our own pages
        // (shared::web::routes::safe_next), so the browser never judges a URL itself.
        const wanted = new URLSearchParams(location.search).get('next');
        if ('followNext' in form.dataset && wanted) body.next = wanted;
        const result = await call('POST', form.dataset.api, body);
        if (!result.ok) {
          show(error, messageOf(result));
          return;
        }
        if (form.dataset.next) {
          location.assign(result.data?.next ?? form.dataset.next);
        } else {
          show(done, form.dataset.done ?? 'Done.');
          form.reset();
          document.dispatchEvent(new CustomEvent('fhiriq:changed'));
        }
      } finally {
        button.disabled = false;
      }
    });
  }
}

function resetPage() {
  const token = new URLSearchParams(location.search).get('token');
  const complete = document.getElementById('reset-complete');
  if (!token || !complete) return;
  document.getElementById('reset-request').hidden = true;
  document.getElementById('reset-token').value = token;
  complete.hidden = false;
}

// /verify-email?token=...: uses the emailed link once, then takes the token out of the address bar.
async function verifyPage() {
  const root = document.getElementById('verify-email');
  if (!root) return;
  const token = new URLSearchParams(location.search).get('token');
  if (!token) return;
  history.replaceState(null, '', '/verify-email');
  const status = document.getElementById('verify-status');
  status.textContent = 'Confirming your address…';
  const result = await call('POST', '/api/auth/verify-email', { token });
  root.dataset.state = result.ok ? 'verified' : 'failed';
  status.textContent = result.ok
    ? `${result.data.email} is confirmed. Plans, courses, GitHub and teams are open to you.`
    : '';
  show(document.getElementById('verify-error'), result.ok ? '' : messageOf(result));
}

function listItem(text, button) {
  const li = document.createElement('li');
  li.textContent = text;
  if (button) {
    li.append(' ');
    li.append(button);
  }
  return li;
}

async function accountPage() {
  const root = document.getElementById('account');
  if (!root) return;
  const params = new URLSearchParams(location.search);
  const invite = params.get('invite');
  if (invite) {
    const accepted = await call('POST', '/api/org/invitations/accept', { token: invite });
    show(document.getElementById('account-error'), accepted.ok ? '' : messageOf(accepted));
    // An unverified account keeps the invitation in the address bar: reload once verified.
    if (accepted.data?.error?.code !== 'email_unverified') history.replaceState(null, '', '/account');
  }
  const me = await call('GET', '/api/auth/me');
  if (me.status === 401) {
    location.assign('/signin?next=/account');
    return;
  }
  if (!me.ok) {
    show(document.getElementById('account-error'), messageOf(me));
    return;
  }
  document.getElementById('me-email').textContent = me.data.email;
  document.getElementById('me-role').textContent = me.data.role;
  document.getElementById('me-admin').hidden = !me.data.admin;
  document.getElementById('verify-address').textContent = me.data.email;
  document.getElementById('verify-banner').hidden = me.data.emailVerified;
  const permissions = document.getElementById('me-permissions');
  permissions.replaceChildren(...me.data.permissions.map((p) => listItem(p.replaceAll('_', ' '))));

  const sessions = await call('GET', '/api/auth/sessions');
  if (sessions.ok) {
    document.getElementById('sessions').replaceChildren(...sessions.data.map((s) =>
      listItem(`${s.current ? 'This device' : (s.userAgent ?? 'Another device')} · last active ${s.lastSeenAt}`)));
  }

  await Promise.all([loadBilling(), loadPayments()]);

  const canManage = me.data.permissions.includes('bulk_user_management') && (me.data.orgOwner || !me.data.orgId);
  const orgCard = document.getElementById('org');
  orgCard.hidden = !canManage;
  if (canManage) await loadOrganisation();
  root.dataset.loading = 'false';
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' });

async function loadBilling() {
  const billing = await call('GET', '/api/billing');
  if (!billing.ok) return;
  const card = document.getElementById('billing');
  const subscription = billing.data.subscription;
  const status = document.getElementById('billing-status');
  const renewal = document.getElementById('billing-renewal');
  if (subscription) {
    const plan = subscription.plan[0].toUpperCase() + subscription.plan.slice(1);
    status.textContent = `${plan}, ${subscription.interval === 'year' ? 'annual' : 'monthly'}: ${subscription.status.replaceAll('_', ' ')}`;
    const when = subscription.renewsAt ? DATE.format(new Date(subscription.renewsAt)) : null;
    renewal.textContent = !when ? '' : subscription.cancelAtPeriodEnd ? `Ends on ${when}` :
      subscription.status === 'canceled' ? '' : `Renews on ${when}`;
    document.getElementById('billing-payment-needed').hidden = !subscription.paymentNeeded;
  } else {
    status.textContent = 'No paid subscription';
    renewal.textContent = '';
  }
  document.getElementById('billing-portal').hidden = !billing.data.hasBillingAccount;
  card.hidden = false;
}

// An amount in its currency's minor unit (Stripe's), shown in the reader's locale.
function money(amount, currency) {
  try {
    const format = new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency}`;
  }
}

const PAYMENT_STATUS = { paid: 'Paid', partially_refunded: 'Partly refunded', refunded: 'Refunded', disputed: 'Disputed' };

// Plan periods and purchases, newest first, with Stripe's receipt pages. Text only, never HTML.
async function loadPayments() {
  const result = await call('GET', '/api/billing/payments');
  if (!result.ok || !result.data.payments.length) return;
  const cell = (text) => {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  };
  document.getElementById('payments-rows').replaceChildren(...result.data.payments.map((p) => {
    const row = document.createElement('tr');
    const plan = p.product[0].toUpperCase() + p.product.slice(1);
    const what = p.kind === 'subscription'
      ? `${plan} plan` + (p.periodStart && p.periodEnd ? `, ${DATE.format(new Date(p.periodStart))} to ${DATE.format(new Date(p.periodEnd))}` : '')
      : p.product.replaceAll('-', ' ');
    let status = PAYMENT_STATUS[p.status] ?? p.status;
    if (p.status === 'partially_refunded') status += ` (${money(p.refundedAmount, p.currency)})`;
    const receipt = document.createElement('td');
    if (/^https?:\/\//.test(p.receiptUrl ?? '')) {
      const link = document.createElement('a');
      link.href = p.receiptUrl;
      link.rel = 'noopener noreferrer';
      link.target = '_blank';
      link.textContent = p.kind === 'subscription' ? 'Invoice' : 'Receipt';
      receipt.append(link);
    }
    row.append(cell(DATE.format(new Date(p.createdAt))), cell(what), cell(money(p.amount, p.currency)), cell(status), receipt);
    return row;
  }));
  document.getElementById('payments').hidden = false;
}

async function loadOrganisation() {
  const org = await call('GET', '/api/org');
  if (!org.ok) return;
  const members = document.getElementById('org-members');
  members.replaceChildren(...org.data.members.map((m) => {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'button button-small button-secondary';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${m.email}`);
    remove.addEventListener('click', async () => {
      const result = await call('DELETE', `/api/org/members/${encodeURIComponent(m.userId)}`);
      if (result.ok) loadOrganisation();
    });
    return listItem(m.email, remove);
  }));
  if (!org.data.members.length) members.replaceChildren(listItem('No members yet.'));
  const invitations = document.getElementById('org-invitations');
  invitations.replaceChildren(...org.data.invitations.map((i) => listItem(i.email)));
  if (!org.data.invitations.length) invitations.replaceChildren(listItem('None.'));
}

function accountButtons() {
  document.getElementById('signout')?.addEventListener('click', async () => {
    await call('POST', '/api/auth/signout');
    location.assign('/');
  });
  document.getElementById('signout-everywhere')?.addEventListener('click', async () => {
    await call('POST', '/api/auth/signout-everywhere');
    location.assign('/signin');
  });
  document.addEventListener('fhiriq:changed', () => { if (!document.getElementById('org').hidden) loadOrganisation(); });
}

// A tool page's Builder demo: the files a patient-portal app would have, from the preview API.
function builderDemo() {
  const form = document.querySelector('[data-builder-demo]');
  if (!form) return;
  const list = document.querySelector('[data-builder-files]');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { useCase: 'patient-portal', implementation: { language: form.language.value } };
    const result = await call('POST', '/api/builder/preview', body);
    list.replaceChildren();
    for (const file of result.ok ? result.data.files : [messageOf(result)]) {
      const item = document.createElement('li');
      item.textContent = file;
      list.append(item);
    }
  });
}

// First-party analytics: a page view now, anything else through fhiriqTrack(type, properties), sent in
// a beacon when the page is hidden (or every 20 events). Nothing at all when the browser asks not to
// be tracked.
const analytics = (() => {
  const optedOut = navigator.doNotTrack === '1' || window.doNotTrack === '1' || navigator.globalPrivacyControl === true;
  const queue = [];
  let session = '';
  try {
    session = sessionStorage.getItem('fhiriq-session') ?? '';
    if (!session) { session = crypto.randomUUID(); sessionStorage.setItem('fhiriq-session', session); }
  } catch { session = crypto.randomUUID(); }
  const flush = () => {
    if (optedOut || !queue.length) return;
    const body = JSON.stringify({ events: queue.splice(0, 50) });
    const blob = new Blob([body], { type: 'application/json' });
    if (!navigator.sendBeacon?.('/api/events', blob)) {
      fetch('/api/events', { method: 'POST', body, headers: { 'content-type': 'application/json' }, keepalive: true, credentials: 'same-origin' }).catch(() => {});
    }
  };
  const track = (type, properties) => {
    if (optedOut) return;
    queue.push({ type, properties: properties ?? {}, page: location.pathname, referrer: withoutSecrets(document.referrer) || undefined, sessionId: session, at: Date.now() });
    if (queue.length >= 20) flush();
  };
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });
  window.addEventListener('pagehide', flush);
  return { track, flush };
})();
window.fhiriqTrack = analytics.track;

// Query parameters that carry secrets: reset and verification tokens, invitations, OAuth codes and
// state. Their values never reach GA4 or PostHog: withoutSecrets replaces them in any URL or text,
// raw or percent-encoded inside another parameter (/signin?next=%2Faccount%3Finvite%3D...). The
// server applies the same pattern to first-party events (shared/src/analytics/secrets.rs).
const SECRET_PARAM = /((?:[?&#;]|%3f|%26|%23|%3b)(?:token|invite|code|state)(?:=|%3d))(?:[^&#;%\s"'<>]|%(?:[0-13-9a-f][0-9a-f]|2[0-24-57-9a-f]|3[0-9ac-f]))*/gi;
const withoutSecrets = (text) => (typeof text === 'string' ? text.replace(SECRET_PARAM, '$1removed') : text);

// Every string in a PostHog event (its properties, $set and $set_once: current URL, referrer, initial
// URL, clicked links), at any depth, through withoutSecrets.
function scrubEvent(value) {
  if (typeof value === 'string') return withoutSecrets(value);
  if (Array.isArray(value)) return value.map(scrubEvent);
  if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) value[key] = scrubEvent(value[key]);
  }
  return value;
}

// Optional GA4 and PostHog (only when the operator configured them): a consent banner first, and their
// scripts only after the visitor accepts. Never for Do Not Track or Global Privacy Control. Neither
// ever sees a secret query parameter (withoutSecrets above).
async function thirdPartyAnalytics() {
  if (navigator.doNotTrack === '1' || navigator.globalPrivacyControl === true) return;
  // The operator's configuration, rendered into the page by the server only when there is one.
  const meta = document.querySelector('meta[name="fhiriq-analytics"]');
  if (!meta) return;
  let config = {};
  try { config = JSON.parse(meta.content); } catch { return; }
  const ga4 = config.ga4 ?? null;
  const posthog = config.posthog ?? null;
  if (!ga4 && !posthog) return;
  const load = () => {
    if (ga4) {
      window.dataLayer = window.dataLayer || [];
      window.gtag = function gtag() { window.dataLayer.push(arguments); };
      window.gtag('js', new Date());
      // GA4 reads the address itself unless told: give it the page and referrer without their secrets.
      window.gtag('config', ga4, {
        anonymize_ip: true,
        page_location: withoutSecrets(location.href),
        page_referrer: withoutSecrets(document.referrer),
      });
      const script = document.createElement('script');
      script.async = true;
      script.src = `https://www.googletagmanager.com/gtag/js?id=${encodeURIComponent(ga4)}`;
      document.head.append(script);
    }
    if (posthog) {
      // The queue PostHog's script drains when it loads.
      const ph = window.posthog = window.posthog || [];
      ph._i = ph._i || [];
      ph.init = (key, options, name) => ph._i.push([key, options, name]);
      // before_send sees every event before it leaves the browser. Session recording stays off: it
      // would record the address bar and the assistant's conversations.
      ph.init(posthog.key, {
        api_host: posthog.host,
        persistence: 'localStorage',
        before_send: (event) => (event ? scrubEvent(event) : event),
        disable_session_recording: true,
      });
      const script = document.createElement('script');
      script.async = true;
      script.src = `${posthog.assets}/static/array.js`;
      document.head.append(script);
    }
  };
  const decided = localStorage.getItem('fhiriq-consent');
  if (decided === 'granted') { load(); return; }
  if (decided === 'denied') return;
  const banner = document.createElement('section');
  banner.className = 'consent-banner';
  banner.setAttribute('role', 'dialog');
  banner.setAttribute('aria-label', 'Analytics consent');
  const text = document.createElement('p');
  text.textContent = `May we measure how the site is used with ${[ga4 && 'Google Analytics', posthog && 'PostHog'].filter(Boolean).join(' and ')}? Nothing loads unless you accept.`;
  const accept = document.createElement('button');
  accept.type = 'button';
  accept.className = 'button button-primary button-small';
  accept.dataset.consent = 'accept';
  accept.textContent = 'Accept';
  const decline = document.createElement('button');
  decline.type = 'button';
  decline.className = 'button button-secondary button-small';
  decline.dataset.consent = 'decline';
  decline.textContent = 'Decline';
  accept.addEventListener('click', () => { localStorage.setItem('fhiriq-consent', 'granted'); banner.remove(); load(); });
  decline.addEventListener('click', () => { localStorage.setItem('fhiriq-consent', 'denied'); banner.remove(); });
  banner.append(text, accept, ' ', decline);
  document.body.append(banner);
}

document.addEventListener('DOMContentLoaded', () => {
  // The page view goes at once (a beacon sent while a page unloads can be lost); later events are
  // batched until the page is hidden.
  analytics.track('page.view');
  analytics.flush();
  thirdPartyAnalytics();
  builderDemo();
  wireForms();
  resetPage();
  verifyPage();
  accountButtons();
  billingButtons();
  navigationState();
  accountPage();
});
