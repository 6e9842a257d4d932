// The content admin page: lists every entry with its state, loads one into the editor, saves it
// (validated and sanitized on the server), publishes and unpublishes. Staff only: the server checks.
// Uses call(), messageOf() and show() from app.js (loaded first). Text is set as text.
'use strict';

const admin = { message: document.querySelector('[data-admin-message]') };

function entryRow(kind, entry) {
  const row = document.createElement('tr');
  const cell = (text) => { const td = document.createElement('td'); td.textContent = text; row.append(td); return td; };
  cell(entry.slug);
  cell(entry.title);
  cell(entry.published === null ? '' : entry.published ? 'published' : 'draft');
  cell(entry.source);
  const actions = cell('');
  const button = (label, action) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'button button-small';
    b.textContent = label;
    b.addEventListener('click', action);
    actions.append(b, ' ');
  };
  button('Edit', () => edit(kind, entry.slug));
  if (entry.published !== null) {
    const verb = entry.published ? 'unpublish' : 'publish';
    button(entry.published ? 'Unpublish' : 'Publish', async () => {
      const result = await call('POST', `/api/admin/content/${kind}/${encodeURIComponent(entry.slug)}/${verb}`);
      show(admin.message, result.ok ? `${entry.slug}: ${verb}ed.` : messageOf(result));
      loadLists();
    });
  }
  return row;
}

async function loadLists() {
  const holder = document.querySelector('[data-admin-lists]');
  const result = await call('GET', '/api/admin/content');
  if (!result.ok) { show(admin.message, messageOf(result)); return; }
  holder.replaceChildren();
  for (const kind of ['posts', 'tools', 'courses', 'authors']) {
    const heading = document.createElement('h3');
    heading.textContent = kind;
    const table = document.createElement('table');
    table.className = 'admin-table';
    table.dataset.kind = kind;
    for (const entry of result.data[kind]) table.append(entryRow(kind, entry));
    holder.append(heading, table);
  }
}

async function edit(kind, slug) {
  const result = await call('GET', `/api/admin/content/${kind}/${encodeURIComponent(slug)}`);
  if (!result.ok) { show(admin.message, messageOf(result)); return; }
  const form = document.querySelector('[data-admin-editor]');
  form.kind.value = kind;
  form.slug.value = slug;
  form.document.value = result.data.document;
  form.publish.checked = result.data.published === 1;
  form.document.focus();
}

function editor() {
  const form = document.querySelector('[data-admin-editor]');
  if (!form) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const path = `/api/admin/content/${form.kind.value}/${encodeURIComponent(form.slug.value.trim())}`;
    const result = await call('PUT', path, { document: form.document.value, publish: form.publish.checked });
    if (result.ok) {
      admin.message.textContent = `Saved ${result.data.slug} (${result.data.published ? 'published' : 'draft'}). `;
      const link = document.createElement('a');
      link.href = result.data.url;
      link.textContent = 'View it';
      admin.message.append(link);
      admin.message.hidden = false;
      loadLists();
    } else {
      show(admin.message, messageOf(result));
    }
  });
}

document.addEventListener('DOMContentLoaded', () => {
  if (!document.querySelector('[data-admin-content]')) return;
  editor();
  loadLists();
});
