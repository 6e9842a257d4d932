// The support page: open a request and read each thread, replying in turn. Everything a user or
// staff wrote is set as text, never HTML. Loaded only on /support, after app.js, whose `call`,
// `messageOf` and `show` it uses.
'use strict';

(() => {
  const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const STATUS = { open: 'Waiting for FHIR IQ', answered: 'Answered', closed: 'Closed' };

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function thread(request) {
    const article = element('article', undefined, 'card support-request');
    article.id = `request-${request.id}`;
    const heading = element('h3', request.subject);
    const meta = element('p', `${request.category} · ${STATUS[request.status] ?? request.status} · opened ${DATE.format(new Date(request.createdAt))}`, 'note');
    article.append(heading, meta);
    if (request.priority === 'priority') {
      const due = request.firstResponseDue ? ` First answer by ${DATE.format(new Date(request.firstResponseDue))}.` : '';
      article.append(element('p', `Priority support.${due}`, 'pill pill-up'));
    }
    const list = element('ol', undefined, 'support-thread');
    for (const message of request.messages) {
      const item = element('li', undefined, `support-message support-${message.author}`);
      item.append(element('p', `${message.author === 'staff' ? 'FHIR IQ support' : 'You'} · ${DATE.format(new Date(message.createdAt))}`, 'note'));
      item.append(element('p', message.body, 'support-body'));
      list.append(item);
    }
    article.append(list);
    if (request.status !== 'closed') {
      const form = element('form', undefined, 'support-reply');
      const label = element('label', 'Reply');
      const area = element('textarea');
      area.name = 'message';
      area.required = true;
      area.rows = 3;
      area.maxLength = 5000;
      label.append(area);
      const error = element('p', '', 'form-error');
      error.setAttribute('role', 'alert');
      error.hidden = true;
      const button = element('button', 'Send reply', 'button button-secondary button-small');
      button.type = 'submit';
      form.append(label, error, button);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        button.disabled = true;
        const result = await call('POST', `/api/support/requests/${encodeURIComponent(request.id)}/messages`, { message: area.value });
        button.disabled = false;
        if (!result.ok) return show(error, messageOf(result));
        load();
      });
      article.append(form);
    }
    return article;
  }

  async function load() {
    const result = await call('GET', '/api/support/requests');
    const list = document.getElementById('support-requests');
    if (!result.ok) return show(document.getElementById('support-error'), messageOf(result));
    list.replaceChildren(...result.data.requests.map(thread));
    if (!result.data.requests.length) list.replaceChildren(element('p', 'No requests yet.', 'note'));
    const wanted = location.hash && document.getElementById(location.hash.slice(1));
    if (wanted) wanted.scrollIntoView();
  }

  document.addEventListener('DOMContentLoaded', () => {
    const form = document.getElementById('support-form');
    if (!form) return;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = form.querySelector('.form-error');
      const done = form.querySelector('.form-done');
      show(error, '');
      show(done, '');
      const body = {
        subject: form.elements.subject.value,
        category: form.elements.category.value,
        message: form.elements.message.value,
      };
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      const result = await call('POST', '/api/support/requests', body);
      button.disabled = false;
      if (!result.ok) return show(error, messageOf(result));
      const target = result.data.firstResponseTarget;
      show(done, target ? `Request sent with priority: you will have a first answer within ${target}.` : 'Request sent. We answer by email and here.');
      form.reset();
      load();
    });
    load();
  });
})();
