// The FHIR Builder wizard. Its whole state lives in the URL query, so a configuration can be shared
// as a link and the back button works. Everything the user or the server supplies is set as text.
'use strict';

(() => {
  const root = document.getElementById('builder');
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  let options;
  let generation;

  // --- state in the URL -------------------------------------------------------------------------
  function readState() {
    const q = new URLSearchParams(location.search);
    const list = (name) => (q.get(name) ?? '').split(',').filter(Boolean);
    return {
      step: Math.min(4, Math.max(1, Number(q.get('step') ?? 1) || 1)),
      useCase: q.get('useCase') ?? 'patient-portal',
      resources: q.has('resources') ? list('resources') : null,
      language: q.get('language') ?? 'typescript',
      auth: q.get('auth') ?? null,
      fhirBaseUrl: q.get('fhirBaseUrl') ?? '',
      extras: q.has('extras') ? list('extras') : ['dockerfile', 'ci', 'tests'],
    };
  }
  let state = readState();

  function writeState() {
    const q = new URLSearchParams({
      step: String(state.step),
      useCase: state.useCase,
      resources: state.resources.join(','),
      language: state.language,
      auth: state.auth,
      extras: state.extras.join(','),
    });
    if (state.fhirBaseUrl) q.set('fhirBaseUrl', state.fhirBaseUrl);
    history.replaceState(null, '', `${location.pathname}?${q}`);
  }

  function useCaseOf(id) {
    return options.useCases.find((u) => u.id === id) ?? options.useCases[0];
  }

  function request() {
    const implementation = { language: state.language, auth: state.auth, extras: state.extras };
    if (state.fhirBaseUrl) implementation.fhirBaseUrl = state.fhirBaseUrl;
    return { useCase: state.useCase, resources: state.resources, implementation };
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch { /* empty */ }
    return { ok: response.ok, status: response.status, data };
  }

  function error(text) {
    const box = $('builder-error');
    box.textContent = text ?? '';
    box.hidden = !text;
  }

  // --- rendering --------------------------------------------------------------------------------
  function radios(container, name, items, current, onChange) {
    container.querySelectorAll('.choice').forEach((n) => n.remove());
    for (const item of items) {
      const id = `${name}-${item.id}`;
      const input = el('input', { type: 'radio', name, id, value: item.id, checked: item.id === current });
      input.addEventListener('change', () => onChange(item.id));
      container.append(el('div', { className: 'choice' }, input, el('label', { htmlFor: id, textContent: item.title })));
    }
  }

  function renderResources() {
    const chosen = $('chosen');
    chosen.replaceChildren(...state.resources.map((r) => {
      const remove = el('button', { type: 'button', className: 'chip', textContent: `${r} ×` });
      remove.setAttribute('aria-label', `Remove ${r}`);
      remove.addEventListener('click', () => { state.resources = state.resources.filter((x) => x !== r); update(); });
      return remove;
    }));
    const filter = $('resource-filter').value.trim().toLowerCase();
    const matches = options.resources.filter((r) => !filter || r.toLowerCase().includes(filter)).slice(0, 40);
    $('resource-list').replaceChildren(...matches.map((r) => {
      const id = `resource-${r}`;
      const box = el('input', { type: 'checkbox', id, checked: state.resources.includes(r) });
      box.addEventListener('change', () => {
        state.resources = box.checked ? [...state.resources, r] : state.resources.filter((x) => x !== r);
        update();
      });
      return el('li', {}, box, el('label', { htmlFor: id, textContent: r }));
    }));
  }

  async function renderSummary() {
    const useCase = useCaseOf(state.useCase);
    const auth = options.auth.find((a) => a.id === state.auth);
    const rows = [['Use case', useCase.title], ['Language', state.language === 'python' ? 'Python' : 'TypeScript'],
      ['Authorization', auth?.title ?? state.auth], ['FHIR server', state.fhirBaseUrl || options.defaultFhirBaseUrl],
      ['Resources', state.resources.join(', ')]];
    $('summary').replaceChildren(...rows.map(([k, v]) => el('div', {}, el('dt', { textContent: k }), el('dd', { textContent: v }))));
    window.fhiriqTrack?.('builder.previewed', { useCase: state.useCase, language: state.language });
    const preview = await post('/api/builder/preview', request());
    if (!preview.ok) {
      error(preview.data?.error?.message ?? `The configuration was refused (HTTP ${preview.status}).`);
      $('preview').replaceChildren();
      return;
    }
    error('');
    $('preview').replaceChildren(...preview.data.files.map((f) => el('li', { textContent: f })));
  }

  function update() {
    writeState();
    root.querySelectorAll('.step').forEach((section) => { section.hidden = Number(section.dataset.step) !== state.step; });
    root.querySelectorAll('.steps a').forEach((link) => {
      if (Number(link.dataset.goto) === state.step) link.setAttribute('aria-current', 'step');
      else link.removeAttribute('aria-current');
    });
    $('back').disabled = state.step === 1;
    $('next').hidden = state.step === 4;
    if (state.step === 2) renderResources();
    if (state.step === 4) renderSummary();
  }

  function showFile(file, button) {
    $('code-path').textContent = file.path;
    $('code').textContent = file.content;
    $('file-tree').querySelectorAll('button').forEach((b) => b.removeAttribute('aria-current'));
    button.setAttribute('aria-current', 'true');
  }

  function showResults(data) {
    generation = data;
    $('results').hidden = false;
    $('results-overview').textContent =
      `${data.files.length} files. ${useCaseOf(data.applicationType).title} on FHIR R4 (${data.fhirVersion}) ` +
      `in ${data.language === 'python' ? 'Python' : 'TypeScript'}, for ${data.resources.join(', ')}.`;
    const buttons = data.files.map((file) => {
      const button = el('button', { type: 'button', className: 'file', textContent: file.path });
      button.addEventListener('click', () => showFile(file, button));
      return el('li', {}, button);
    });
    $('file-tree').replaceChildren(...buttons);
    const readme = data.files.findIndex((f) => f.path === 'README.md');
    showFile(data.files[Math.max(0, readme)], buttons[Math.max(0, readme)].firstChild);
    $('instructions').textContent = data.deploymentInstructions;
    $('download').href = `/api/builder/generations/${encodeURIComponent(data.generationId)}.zip`;
    $('repo-name').value = `fhir-${data.applicationType}`;
    githubAccount();
    $('results').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  // The user's own GitHub account, when connected, is offered as the repository's owner.
  async function githubAccount() {
    const response = await fetch('/api/github/account', { credentials: 'same-origin' });
    if (!response.ok) return;
    const account = await response.json();
    $('owner-user').disabled = !account.connected;
    $('github-connect-note').hidden = account.connected;
    if (account.connected) $('owner-user-label').textContent = `Your account (@${account.login})`;
  }

  // --- events -----------------------------------------------------------------------------------
  $('github-connect').addEventListener('click', () => sessionStorage.setItem('fhiriq-builder', location.search));
  $('next').addEventListener('click', () => { state.step = Math.min(4, state.step + 1); update(); });
  $('back').addEventListener('click', () => { state.step = Math.max(1, state.step - 1); update(); });
  root.querySelectorAll('.steps a').forEach((link) => link.addEventListener('click', (event) => {
    event.preventDefault();
    state.step = Number(link.dataset.goto);
    update();
  }));
  $('resource-filter').addEventListener('input', renderResources);
  $('fhir-base-url').addEventListener('change', (event) => { state.fhirBaseUrl = event.target.value.trim(); update(); });
  $('share').addEventListener('click', async (event) => {
    event.preventDefault();
    try { await navigator.clipboard.writeText(location.href); event.target.textContent = 'Link copied'; } catch { event.target.textContent = location.href; }
  });
  $('generate').addEventListener('click', async () => {
    const button = $('generate');
    button.disabled = true;
    $('upgrade').hidden = true;
    try {
      const result = await post('/api/builder/generate', request());
      if (result.status === 401) { location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`); return; }
      if (result.status === 403) { $('upgrade').hidden = false; error(result.data?.error?.message); return; }
      if (!result.ok) { error(result.data?.error?.message ?? `Generation failed (HTTP ${result.status}).`); return; }
      error('');
      showResults(result.data);
    } finally {
      button.disabled = false;
    }
  });
  $('push-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const problem = form.querySelector('.form-error');
    problem.hidden = true;
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const result = await post('/_functions/createGitHubRepo', {
        repoName: $('repo-name').value.trim(), description: $('repo-description').value.trim(),
        private: $('repo-private').checked, generationId: generation.generationId,
        owner: document.querySelector('input[name=owner]:checked')?.value ?? 'organisation',
      });
      if (!result.ok) {
        problem.textContent = result.data?.error?.message ?? `The push failed (HTTP ${result.status}).`;
        problem.hidden = false;
        return;
      }
      const link = $('repo-link');
      link.href = result.data.repoUrl;
      link.textContent = result.data.repoUrl;
      $('deployment-guide').textContent = result.data.deploymentGuide;
      $('deploy-vercel').href = `https://vercel.com/new/clone?repository-url=${encodeURIComponent(result.data.repoUrl)}`;
      $('deploy-cloudflare').href = `https://deploy.workers.cloudflare.com/?url=${encodeURIComponent(result.data.repoUrl)}`;
      $('pushed').hidden = false;
    } finally {
      submit.disabled = false;
    }
  });

  // --- start ------------------------------------------------------------------------------------
  async function start() {
    // Back from connecting GitHub: restore the configuration the user had.
    if (new URLSearchParams(location.search).get('github') === 'connected') {
      const saved = sessionStorage.getItem('fhiriq-builder');
      sessionStorage.removeItem('fhiriq-builder');
      history.replaceState(null, '', `${location.pathname}${saved ?? ''}`);
      state = readState();
      const status = $('builder-status');
      status.textContent = 'GitHub account connected. Generate again to push to your own account.';
      status.hidden = false;
    }
    const response = await fetch('/api/builder/options');
    options = await response.json();
    if (!options.useCases.some((u) => u.id === state.useCase)) state.useCase = options.useCases[0].id;
    const useCase = useCaseOf(state.useCase);
    state.resources ??= [...useCase.defaultResources];
    state.auth ??= useCase.defaultAuth;
    radios($('use-cases'), 'useCase', options.useCases, state.useCase, (id) => {
      state.useCase = id;
      const chosen = useCaseOf(id);
      state.resources = [...chosen.defaultResources];
      state.auth = chosen.defaultAuth;
      radios($('auths'), 'auth', options.auth, state.auth, (a) => { state.auth = a; update(); });
      update();
    });
    radios($('languages'), 'language', options.languages.map((l) => ({ id: l, title: l === 'python' ? 'Python' : 'TypeScript (Node)' })),
      state.language, (l) => { state.language = l; update(); });
    radios($('auths'), 'auth', options.auth, state.auth, (a) => { state.auth = a; update(); });
    const extras = $('extras');
    for (const extra of options.extras) {
      const id = `extra-${extra}`;
      const box = el('input', { type: 'checkbox', id, checked: state.extras.includes(extra) });
      box.addEventListener('change', () => {
        state.extras = box.checked ? [...state.extras, extra] : state.extras.filter((x) => x !== extra);
        update();
      });
      const label = { dockerfile: 'Dockerfile', ci: 'GitHub Actions CI workflow', tests: 'Tests (against a fake FHIR server)' }[extra] ?? extra;
      extras.append(el('div', { className: 'choice' }, box, el('label', { htmlFor: id, textContent: label })));
    }
    $('fhir-base-url').value = state.fhirBaseUrl;
    $('fhir-base-url').placeholder = options.defaultFhirBaseUrl;
    root.dataset.loading = 'false';
    update();
  }
  start().catch((e) => error(`The builder could not start: ${e.message}`));
})();
