// The FHIR assistant in the browser: the widget on every page and the /chat page. Answers stream in
// as server-sent events and are rendered from Markdown with marked, then sanitized with DOMPurify
// before they touch the page (model output is untrusted). Both libraries are self-hosted and loaded
// only when the assistant is first used.
'use strict';

const loaded = {};
function loadScript(src) {
  loaded[src] ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
  return loaded[src];
}

async function renderer() {
  await Promise.all([loadScript('/vendor/marked.js'), loadScript('/vendor/purify.js')]);
  if (!renderer.ready) {
    // Links in answers open the specification in a new tab, without giving it this page.
    window.DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A') {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
    renderer.ready = true;
  }
  return (markdown) => window.DOMPurify.sanitize(window.marked.parse(markdown), { USE_PROFILES: { html: true } });
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// [n] in the answer becomes a link to the n-th source.
function withCitations(text, sources) {
  return text.replace(/\[(\d+)\](?!\()/g, (match, n) => {
    const source = sources[Number(n) - 1];
    return source && /^https:\/\/hl7\.org\//.test(source.url) ? `[[${n}]](${source.url})` : match;
  });
}

class Chat {
  constructor(root) {
    this.root = root;
    this.log = root.querySelector('.chat-log');
    this.input = root.querySelector('.chat-input');
    this.history = [];
    root.querySelector('.chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.send();
      }
    });
  }

  send() {
    const question = this.input.value.trim();
    if (!question || this.busy) return;
    this.input.value = '';
    this.ask(question);
  }

  async ask(question) {
    this.busy = true;
    this.log.append(element('div', 'chat-msg user', question));
    const bubble = element('div', 'chat-msg assistant');
    const typing = element('span', 'typing', 'Thinking');
    typing.setAttribute('aria-label', 'The assistant is writing');
    bubble.append(typing);
    this.log.append(bubble);
    bubble.scrollIntoView({ block: 'end' });
    try {
      const render = await renderer();
      window.fhiriqTrack?.('assistant.asked', { where: location.pathname === '/chat' ? 'page' : 'widget' });
      const response = await fetch('/_functions/processAIQuery', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ message: question, conversationHistory: this.history, context: document.title }),
      });
      if (response.status === 401) {
        bubble.replaceChildren(element('span', '', 'Sign in to ask the assistant: '), Object.assign(element('a', '', 'sign in'), { href: `/signin?next=${encodeURIComponent(location.pathname)}` }));
        return;
      }
      if (!response.ok) {
        let message = `The assistant is unavailable (HTTP ${response.status}).`;
        try { message = (await response.json()).error.message; } catch { /* keep the generic message */ }
        this.failed(bubble, message, question);
        return;
      }
      const answer = await this.read(response, bubble, render);
      this.history.push({ role: 'user', content: question }, { role: 'assistant', content: answer });
      this.history = this.history.slice(-20);
    } catch (error) {
      this.failed(bubble, 'The connection was interrupted.', question);
    } finally {
      this.busy = false;
    }
  }

  async read(response, bubble, render) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let text = '';
    let sources = [];
    const body = element('div', 'chat-body');
    const draw = () => {
      body.innerHTML = render(withCitations(text, sources));
      for (const pre of body.querySelectorAll('pre')) {
        const copy = element('button', 'copy', 'Copy');
        copy.type = 'button';
        copy.addEventListener('click', async () => {
          await navigator.clipboard.writeText(pre.textContent.replace(/Copy(ied)?$/, ''));
          copy.textContent = 'Copied';
        });
        pre.append(copy);
      }
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
        if (name === 'sources') {
          sources = data.sources;
          bubble.replaceChildren(body);
          if (data.redacted.length) {
            bubble.prepend(element('p', 'chat-note', `Removed from your question before it was sent: ${data.redacted.join(', ').toLowerCase()}.`));
          }
        } else if (name === 'delta') {
          text += data.text;
          draw();
        } else if (name === 'error') {
          bubble.append(element('p', 'form-error', data.message));
        } else if (name === 'done') {
          bubble.append(this.sourceList(sources), element('p', 'chat-meta', `${data.provider}${data.model ? ` · ${data.model}` : ''}`));
        }
      }
    }
    return text;
  }

  sourceList(sources) {
    const list = element('ol', 'chat-sources');
    for (const source of sources) {
      const link = element('a', '', source.title);
      link.href = source.url;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      const item = element('li');
      item.append(link);
      list.append(item);
    }
    return list;
  }

  failed(bubble, message, question) {
    const retry = element('button', 'button button-small button-secondary', 'Try again');
    retry.type = 'button';
    retry.addEventListener('click', () => {
      bubble.remove();
      this.log.lastElementChild?.remove();
      this.ask(question);
    });
    bubble.replaceChildren(element('p', 'form-error', message), retry);
  }
}

function widget() {
  const toggle = document.querySelector('.chat-toggle');
  const panel = document.getElementById('chat-panel');
  if (!toggle || !panel) return;
  const setOpen = (open) => {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) {
      panel.querySelector('.chat-input').focus();
      renderer().catch(() => {});
    } else {
      toggle.focus();
    }
  };
  toggle.addEventListener('click', () => setOpen(panel.hidden));
  panel.querySelector('.chat-close').addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (event) => { if (event.key === 'Escape') setOpen(false); });
}

document.addEventListener('DOMContentLoaded', () => {
  for (const root of document.querySelectorAll('[data-chat]')) new Chat(root);
  widget();
});
