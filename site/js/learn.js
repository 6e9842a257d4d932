// Courses in the browser: enrolment, progress, lesson completion, quizzes and booking a live session.
// Pages are the same for everyone (cached); what is yours comes from the API. Scoring happens on the
// server: the right answers arrive only in the answer to a submitted attempt. Text is set as text.
// Uses call(), messageOf() and show() from app.js (loaded first).
'use strict';

const learn = {
  root: document.querySelector('[data-course]'),
  get course() { return this.root?.dataset.course; },
  api(path) { return `/api/courses/${encodeURIComponent(this.course)}${path}`; },
};

// Visitors are not asked for their progress (a 401 would only clutter the console). The server
// renders a signed-in visitor's navigation with their account link.
async function signedIn() {
  return document.getElementById('nav-account')?.getAttribute('href') === '/account';
}

function setProgress(progress) {
  const percent = progress?.percent ?? 0;
  for (const bar of document.querySelectorAll('[data-progress-bar]')) bar.value = percent;
  const label = progress?.complete ? `Course complete · ${percent}%` : `${percent}% complete`;
  for (const el of document.querySelectorAll('[data-progress-label]')) el.textContent = label;
  for (const item of document.querySelectorAll('[data-lesson]')) {
    const done = progress?.lessonsCompleted?.includes(item.dataset.lesson);
    const mark = item.querySelector('.done-mark');
    if (mark) mark.hidden = !done;
  }
  for (const item of document.querySelectorAll('[data-quiz]')) {
    const quiz = progress?.quizzes?.find((q) => q.slug === item.dataset.quiz);
    const mark = item.querySelector('.done-mark');
    if (mark) mark.hidden = !quiz?.passed;
  }
}

// The course page: what the enrol button should say, progress, bookings.
async function coursePage() {
  const button = document.querySelector('[data-enroll]');
  if (!button) return;
  const message = document.querySelector('[data-enrol-message]');
  const state = await signedIn() ? await call('GET', learn.api('/progress')) : { ok: false, status: 401 };
  if (state.status === 401) {
    button.addEventListener('click', () => { location.href = `/signin?next=${encodeURIComponent(location.pathname)}`; });
    booking(null);
    document.querySelector('[data-enrol-box]').dataset.ready = 'true';
    return;
  }
  const enrolled = state.ok && state.data.enrollment === 'active';
  if (enrolled) {
    button.hidden = true;
    show(message, 'You are enrolled.');
    document.querySelector('[data-progress]').hidden = false;
    setProgress(state.data.progress);
  } else if (state.ok && state.data.enrollment === 'waitlisted') {
    button.hidden = true;
    show(message, 'Your payment arrived after the last seat was taken: you are on the waitlist and we will be in touch.');
  }
  booking(state.ok ? state.data : null, enrolled);
  button.addEventListener('click', async () => {
    button.disabled = true;
    show(message, 'Enrolling…');
    const result = await call('POST', learn.api('/enroll'));
    if (result.ok && result.data.status === 'checkout') {
      show(message, 'Your seat is held while you pay. Taking you to checkout…');
      location.assign(result.data.checkoutUrl);
      return;
    }
    if (result.ok) {
      button.hidden = true;
      show(message, 'You are enrolled.');
      document.querySelector('[data-progress]').hidden = false;
      const seats = document.querySelector('[data-seats]');
      if (seats) seats.textContent = `${result.data.seatsLeft} left`;
      const again = await call('GET', learn.api('/progress'));
      if (again.ok) { setProgress(again.data.progress); booking(again.data, true); }
      return;
    }
    button.disabled = false;
    if (result.status === 403) {
      message.textContent = `${messageOf(result)} `;
      const link = document.createElement('a');
      link.href = '/pricing';
      link.textContent = 'See plans';
      message.append(link);
      message.hidden = false;
    } else {
      show(message, messageOf(result));
    }
  });
  // Wired: tests (and people with fast fingers) may click now.
  document.querySelector('[data-enrol-box]').dataset.ready = 'true';
}

// Calendly's booking page in a frame, prefilled with the student's name and email and tagged with the
// course (utm_campaign), which the webhook uses to link the booking back.
function booking(state, enrolled) {
  const box = document.querySelector('[data-booking]');
  if (!box) return;
  const note = box.querySelector('[data-booking-note]');
  const list = box.querySelector('[data-bookings]');
  list.replaceChildren();
  for (const b of state?.bookings ?? []) {
    const item = document.createElement('li');
    const when = b.startTime ? new Date(b.startTime).toLocaleString() : 'a session';
    item.textContent = b.status === 'canceled' ? `Canceled: ${when}` : `Booked: ${when}`;
    list.append(item);
  }
  if (!enrolled) {
    note.textContent = state ? 'Enrol to book the live sessions.' : 'Sign in and enrol to book the live sessions.';
    return;
  }
  if (!state.liveSessions) return;
  note.textContent = 'Pick a time for a live session:';
  const url = new URL(state.liveSessions);
  if (url.origin !== 'https://calendly.com') return;
  url.searchParams.set('embed_domain', location.hostname);
  url.searchParams.set('embed_type', 'Inline');
  if (state.name) url.searchParams.set('name', state.name);
  if (state.email) url.searchParams.set('email', state.email);
  url.searchParams.set('utm_source', 'fhiriq');
  url.searchParams.set('utm_campaign', learn.course);
  const frame = document.createElement('iframe');
  frame.src = url.toString();
  frame.title = 'Book a live session on Calendly';
  frame.loading = 'lazy';
  box.querySelector('[data-booking-frame]').replaceChildren(frame);
}

async function lessonPage() {
  const page = document.querySelector('[data-lesson-page]');
  if (!page) return;
  const button = document.querySelector('[data-complete-lesson]');
  const message = document.querySelector('[data-lesson-message]');
  if (!await signedIn()) return;
  const state = await call('GET', learn.api('/progress'));
  if (!state.ok || state.data.enrollment !== 'active') return;
  const lesson = page.dataset.lessonPage;
  const done = () => { button.hidden = true; show(message, `Lesson complete · course ${state.data.progress.percent}%`); };
  if (state.data.progress.lessonsCompleted.includes(lesson)) { done(); return; }
  button.hidden = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    const result = await call('POST', learn.api(`/lessons/${encodeURIComponent(lesson)}/complete`));
    if (result.ok) { state.data.progress = result.data; done(); } else { button.disabled = false; show(message, messageOf(result)); }
  });
}

async function quizPage() {
  const page = document.querySelector('[data-quiz-page]');
  if (!page) return;
  const quiz = page.dataset.quizPage;
  const form = document.querySelector('[data-quiz-form]');
  const message = document.querySelector('[data-quiz-message]');
  const resultBox = document.querySelector('[data-quiz-result]');
  if (!await signedIn()) { show(message, 'Sign in and enrol in the course to take this quiz.'); return; }
  const loaded = await call('GET', learn.api(`/quizzes/${encodeURIComponent(quiz)}`));
  if (!loaded.ok) { show(message, messageOf(loaded)); return; }
  const view = loaded.data;
  const best = view.attempts.reduce((m, a) => Math.max(m, a.percent), -1);
  show(message, best >= 0 ? `Your best so far: ${best}% (pass mark ${view.passMark}%).` : `Pass mark: ${view.passMark}%.`);
  const holder = form.querySelector('[data-questions]');
  holder.replaceChildren();
  view.questions.forEach((q, n) => {
    const set = document.createElement('fieldset');
    set.className = 'question';
    set.dataset.question = q.id;
    const legend = document.createElement('legend');
    legend.textContent = `${n + 1}. ${q.prompt}`;
    set.append(legend);
    if (q.kind === 'multiple') {
      const hint = document.createElement('p');
      hint.className = 'note';
      hint.textContent = 'Choose every answer that applies.';
      set.append(hint);
    }
    q.choices.forEach((choice, i) => {
      const label = document.createElement('label');
      label.className = 'choice';
      const input = document.createElement('input');
      input.type = q.kind === 'multiple' ? 'checkbox' : 'radio';
      input.name = `q-${q.id}`;
      input.value = String(i);
      label.append(input, document.createTextNode(` ${choice}`));
      set.append(label);
    });
    const feedback = document.createElement('p');
    feedback.className = 'feedback';
    feedback.hidden = true;
    set.append(feedback);
    holder.append(set);
  });
  form.hidden = false;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const answers = {};
    for (const q of view.questions) {
      answers[q.id] = [...form.querySelectorAll(`input[name="q-${CSS.escape(q.id)}"]:checked`)].map((i) => Number(i.value));
    }
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    const result = await call('POST', learn.api(`/quizzes/${encodeURIComponent(quiz)}/attempts`), { answers });
    submit.disabled = false;
    if (!result.ok) { show(message, messageOf(result)); return; }
    const scored = result.data;
    for (const r of scored.results) {
      const set = form.querySelector(`[data-question="${CSS.escape(r.id)}"]`);
      const feedback = set.querySelector('.feedback');
      const q = view.questions.find((x) => x.id === r.id);
      const right = r.answer.map((i) => q.choices[i]).join('; ');
      feedback.textContent = r.correct ? `Correct. ${r.explanation}` : `Not quite: the answer is ${right}. ${r.explanation}`;
      feedback.className = r.correct ? 'feedback feedback-right' : 'feedback feedback-wrong';
      feedback.hidden = false;
      for (const input of set.querySelectorAll('input')) input.disabled = true;
    }
    submit.hidden = true;
    resultBox.querySelector('[data-score]').textContent =
      `You scored ${scored.percent}% (${scored.correct} of ${scored.total}): ${scored.passed ? 'passed' : `the pass mark is ${scored.passMark}%`}.`;
    setProgress(scored.progress);
    resultBox.hidden = false;
    resultBox.scrollIntoView({ block: 'nearest' });
  };
  resultBox.querySelector('[data-retake]').onclick = () => {
    resultBox.hidden = true;
    form.querySelector('button[type="submit"]').hidden = false;
    quizPage();
  };
}

document.addEventListener('DOMContentLoaded', () => {
  coursePage();
  lessonPage();
  quizPage();
});
