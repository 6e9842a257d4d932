// The analytics dashboard: reports and funnels from the API, drawn as SVG (lines for activity, bars
// for features, courses and tools, a funnel), a date range, and CSV links. Values are set as text or
// SVG attributes, never as HTML. Uses call(), messageOf() and show() from app.js (loaded first).
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#1E40AF', '#C2410C', '#15803D', '#7C3AED', '#B45309'];

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function canvas(holder, height) {
  const width = Math.max(holder.clientWidth || 480, 320);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', height, class: 'chart-svg' });
  holder.replaceChildren(root);
  return { root, width, height };
}

function empty(holder, text) {
  const p = document.createElement('p');
  p.className = 'note';
  p.textContent = text;
  holder.replaceChildren(p);
}

function legend(root, series, x, y) {
  series.forEach((s, i) => {
    root.append(svg('rect', { x: x + i * 130, y: y - 9, width: 10, height: 10, fill: s.color }));
    root.append(svg('text', { x: x + i * 130 + 14, y, class: 'chart-label' }, s.name));
  });
}

// Lines over days: series = [{name, color, values}], labels = days.
function lineChart(holder, labels, series) {
  const { root, width, height } = canvas(holder, 220);
  const pad = { l: 40, r: 10, t: 24, b: 26 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => pad.l + (labels.length < 2 ? 0 : (i * (width - pad.l - pad.r)) / (labels.length - 1));
  const y = (v) => height - pad.b - (v * (height - pad.t - pad.b)) / max;
  for (const tick of [0, Math.round(max / 2), max]) {
    root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: y(tick), y2: y(tick), class: 'chart-grid' }));
    root.append(svg('text', { x: pad.l - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'chart-label' }, tick));
  }
  [0, Math.floor((labels.length - 1) / 2), labels.length - 1].forEach((i) => {
    if (labels[i]) root.append(svg('text', { x: x(i), y: height - 6, 'text-anchor': 'middle', class: 'chart-label' }, labels[i].slice(5)));
  });
  for (const s of series) {
    const points = s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ');
    root.append(svg('polyline', { points, fill: 'none', stroke: s.color, 'stroke-width': 2.5, class: 'chart-line' }));
    s.values.forEach((v, i) => {
      const dot = svg('circle', { cx: x(i), cy: y(v), r: 2.5, fill: s.color });
      dot.append(svg('title', {}, `${labels[i]}: ${v} ${s.name}`));
      root.append(dot);
    });
  }
  legend(root, series, pad.l, 14);
}

// Horizontal bars: items = [{label, value}].
function barChart(holder, items, color) {
  if (!items.length) { empty(holder, 'Nothing recorded in this range.'); return; }
  const row = 24;
  const { root, width } = canvas(holder, items.length * row + 8);
  const labelWidth = Math.min(200, width * 0.4);
  const max = Math.max(1, ...items.map((i) => i.value));
  items.forEach((item, i) => {
    const y = 4 + i * row;
    const w = ((width - labelWidth - 60) * item.value) / max;
    root.append(svg('text', { x: labelWidth - 6, y: y + 15, 'text-anchor': 'end', class: 'chart-label' }, item.label));
    const bar = svg('rect', { x: labelWidth, y, width: Math.max(w, 1), height: row - 6, rx: 3, fill: color, class: 'chart-bar' });
    bar.append(svg('title', {}, `${item.label}: ${item.value}`));
    root.append(bar);
    root.append(svg('text', { x: labelWidth + w + 6, y: y + 15, class: 'chart-label' }, item.value));
  });
}

// A funnel: centred bars narrowing step by step, with each step's conversion.
function funnelChart(holder, steps) {
  const row = 44;
  const { root, width } = canvas(holder, steps.length * row + 8);
  const first = Math.max(1, steps[0]?.count ?? 0);
  steps.forEach((s, i) => {
    const w = Math.max(2, ((width - 20) * s.count) / first);
    const y = 4 + i * row;
    const bar = svg('rect', { x: (width - w) / 2, y, width: w, height: row - 20, rx: 4, fill: COLORS[i % COLORS.length], class: 'funnel-step' });
    bar.append(svg('title', {}, `${s.event}${s.page ? ` ${s.page}` : ''}: ${s.count}`));
    root.append(bar);
    const pct = i === 0 ? '' : ` · ${Math.round(s.conversionFromPrevious * 100)}% of the step before`;
    root.append(svg('text', { x: width / 2, y: y + row - 6, 'text-anchor': 'middle', class: 'chart-label' },
      `${s.event}${s.page ? ` ${s.page}` : ''}: ${s.count}${pct}`));
  });
}

const state = { start: '', end: '' };

function iso(date) { return date.toISOString().slice(0, 10); }

function setDays(days) {
  const end = new Date();
  const start = new Date(end.getTime() - (days - 1) * 86400000);
  state.start = iso(start);
  state.end = iso(end);
  const form = document.querySelector('[data-range]');
  form.start.value = state.start;
  form.end.value = state.end;
}

async function load(name) {
  const result = await call('GET', `/api/analytics/reports/${name}?start=${state.start}&end=${state.end}`);
  if (!result.ok) throw new Error(messageOf(result));
  return result.data;
}

async function loadFunnel() {
  const pick = document.querySelector('[data-funnel-pick]');
  const holder = document.querySelector('[data-chart="funnel"]');
  if (!pick.value) { empty(holder, 'No funnels are configured.'); return; }
  const path = `/api/analytics/funnels/${encodeURIComponent(pick.value)}?start=${state.start}&end=${state.end}`;
  const csv = document.querySelector('[data-funnel-csv]');
  csv.href = `${path}&format=csv`;
  csv.setAttribute('download', '');
  const result = await call('GET', path);
  if (!result.ok) { empty(holder, messageOf(result)); return; }
  funnelChart(holder, result.data.steps);
}

async function render() {
  const message = document.querySelector('[data-analytics-message]');
  show(message, '');
  for (const link of document.querySelectorAll('[data-csv]')) {
    link.href = `/api/analytics/reports/${link.dataset.csv}?start=${state.start}&end=${state.end}&format=csv`;
    link.setAttribute('download', '');
  }
  try {
    const [engagement, features, ai, courses, tools] = await Promise.all(
      ['user-engagement', 'feature-usage', 'ai-usage', 'course-progress', 'tool-usage'].map(load));
    const days = engagement.days.map((d) => d.day);
    const t = engagement.totals;
    document.querySelector('[data-kpis]').textContent =
      `${t.events} events · ${t.activeUserDays} active user-days · ${t.sessions} sessions · ${t.avgSessionSeconds} s average session`;
    lineChart(document.querySelector('[data-chart="engagement"]'), days, [
      { name: 'active users', color: COLORS[0], values: engagement.days.map((d) => d.activeUsers) },
      { name: 'visitors', color: COLORS[2], values: engagement.days.map((d) => d.visitors) },
      { name: 'events', color: COLORS[1], values: engagement.days.map((d) => d.events) },
    ]);
    barChart(document.querySelector('[data-chart="features"]'),
      features.features.slice(0, 12).map((f) => ({ label: f.type, value: f.events })), COLORS[0]);
    lineChart(document.querySelector('[data-chart="ai"]'), ai.days.map((d) => d.day), [
      { name: 'questions', color: COLORS[3], values: ai.days.map((d) => d.questions) },
    ]);
    const body = document.querySelector('[data-ai-providers] tbody');
    body.replaceChildren();
    for (const p of ai.providers) {
      const tr = document.createElement('tr');
      for (const v of [p.provider, p.questions, p.inputTokens + p.outputTokens, `${p.avgLatencyMs} ms`]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.append(td);
      }
      body.append(tr);
    }
    barChart(document.querySelector('[data-chart="courses"]'),
      courses.totals.map((c) => ({ label: c.type, value: c.events })), COLORS[2]);
    const toolItems = (tools.pages ?? []).slice(0, 8).map((p) => ({ label: p.page, value: p.views }))
      .concat(tools.totals.filter((t) => t.events > 0).map((t) => ({ label: t.type, value: t.events })));
    barChart(document.querySelector('[data-chart="tools"]'), toolItems, COLORS[1]);
    await loadFunnel();
    document.querySelector('[data-analytics]').dataset.loaded = 'true';
  } catch (error) {
    show(message, error.message);
  }
}

async function dashboard() {
  if (!document.querySelector('[data-analytics]')) return;
  setDays(30);
  const form = document.querySelector('[data-range]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    state.start = form.start.value;
    state.end = form.end.value;
    render();
  });
  for (const button of form.querySelectorAll('[data-days]')) {
    button.addEventListener('click', () => { setDays(Number(button.dataset.days)); render(); });
  }
  const funnels = await call('GET', '/api/analytics/funnels');
  const pick = document.querySelector('[data-funnel-pick]');
  for (const f of funnels.ok ? funnels.data : []) {
    const option = document.createElement('option');
    option.value = f.id;
    option.textContent = f.name;
    pick.append(option);
  }
  pick.addEventListener('change', loadFunnel);
  render();
}

document.addEventListener('DOMContentLoaded', dashboard);
