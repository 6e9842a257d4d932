// FHIR IQ in the browser: the signed-in state in the navigation, JSON forms, and the account page.
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

// Only same-site paths: never send a user to another origin after signing in.
function safeNext(fallback) {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : fallback;
}

function show(element, text) {
  if (!element) return;
  element.textContent = text;
  element.hidden = !text;
}

async function navigationState() {
  const link = document.getElementById('nav-account');
  if (!link) return;
  const result = await call('GET', '/api/auth/state');
  if (result.ok && result.data?.signedIn) {
    link.textContent = 'Account';
    link.href = '/account';
    link.title = result.data.email;
  }
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
        const body = Object.fromEntries(new FormData(form).entries());
        const result = await call('POST', form.dataset.api, body);
        if (!result.ok) {
          show(error, messageOf(result));
          return;
        }
        if (form.dataset.next) {
          location.assign(safeNext(form.dataset.next));
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
    history.replaceState(null, '', '/account');
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
  const permissions = document.getElementById('me-permissions');
  permissions.replaceChildren(...me.data.permissions.map((p) => listItem(p.replaceAll('_', ' '))));

  const sessions = await call('GET', '/api/auth/sessions');
  if (sessions.ok) {
    document.getElementById('sessions').replaceChildren(...sessions.data.map((s) =>
      listItem(`${s.current ? 'This device' : (s.userAgent ?? 'Another device')} · last active ${s.lastSeenAt}`)));
  }

  const canManage = me.data.permissions.includes('bulk_user_management') && (me.data.orgOwner || !me.data.orgId);
  const orgCard = document.getElementById('org');
  orgCard.hidden = !canManage;
  if (canManage) await loadOrganisation();
  root.dataset.loading = 'false';
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

document.addEventListener('DOMContentLoaded', () => {
  wireForms();
  resetPage();
  accountButtons();
  navigationState();
  accountPage();
});
