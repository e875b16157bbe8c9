// Switchboard operator console: plain JavaScript, no framework, no build.
//
// Every call goes to this origin's /v1 routes with the operator key as a
// bearer token. The key lives in sessionStorage (this tab only). Live
// timelines are read with fetch() streaming of text/event-stream, since
// EventSource cannot send an Authorization header; after a disconnect the
// stream resumes with Last-Event-ID, so nothing is missed or repeated.
'use strict';

const KEY_ITEM = 'switchboard.key';
const TENANT_ITEM = 'switchboard.tenant';
const AGENT_ITEM = 'switchboard.agent';
const REFRESH_MS = 3000;
const ANALYTICS_MS = 6000;

const state = {
  key: null,
  tenant: 'brewvi',
  selected: null, // conversation shown in the timeline
  handling: null, // escalated conversation being answered
  chatId: null,
  timelineStream: null,
  chatStream: null,
  timers: [],
};

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function time(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleTimeString();
}

function dateTime(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

function showError(id, error) {
  $(id).textContent = error ? (error.detail || error.message || String(error)) : '';
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- the API

/** A problem detail from the gateway (or a network failure). */
class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

/** The problem detail of a failed response: its `detail`, else what we have. */
async function problem(response) {
  let title = response.statusText || `HTTP ${response.status}`;
  let detail = `${response.status} ${title}`;
  try {
    const type = response.headers.get('content-type') || '';
    if (type.includes('json')) {
      const body = await response.json();
      title = body.title || title;
      detail = body.detail || body.title || detail;
    } else {
      const text = (await response.text()).trim();
      if (text) detail = `${response.status}: ${text.slice(0, 300)}`;
    }
  } catch (_) {
    // keep the status line
  }
  return new ApiError(response.status, title, detail);
}

function tenantPath(path) {
  return `/v1/tenants/${encodeURIComponent(state.tenant)}${path}`;
}

function conversationPath(id, rest = '') {
  return tenantPath(`/conversations/${encodeURIComponent(id)}${rest}`);
}

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${state.key}`, ...extra };
}

/** One JSON call; throws ApiError with the problem's detail. */
async function api(path, { method = 'GET', body, query } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== '' && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  const headers = authHeaders();
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    // A retry of the same click is stored once.
    headers['Idempotency-Key'] = crypto.randomUUID();
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `the gateway did not answer: ${e.message}`);
  }
  if (!response.ok) {
    const error = await problem(response);
    if (error.status === 401 && state.key) signOut(`Signed out: ${error.detail}`);
    throw error;
  }
  return response.json();
}

// ------------------------------------------------------- the live stream

/**
 * A conversation's events as they are stored, over fetch() streaming.
 * Reconnects after a failure with Last-Event-ID set to the last event
 * received, with a growing pause; stops for good on a 4xx answer.
 */
class LiveStream {
  constructor(conversation, onEvent, onState) {
    this.conversation = conversation;
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastId = null;
    this.closed = false;
    this.controller = null;
    this.pause = 500;
    this.run();
  }

  async run() {
    while (!this.closed) {
      this.controller = new AbortController();
      try {
        const headers = authHeaders({ Accept: 'text/event-stream' });
        if (this.lastId !== null) headers['Last-Event-ID'] = this.lastId;
        const response = await fetch(conversationPath(this.conversation, '/events/stream'), {
          headers,
          cache: 'no-store',
          signal: this.controller.signal,
        });
        if (!response.ok) {
          const error = await problem(response);
          if (error.status >= 400 && error.status < 500 && error.status !== 429) {
            this.closed = true;
            this.onState('error', error.detail);
            return;
          }
          throw error;
        }
        this.onState('live', this.lastId === null ? 'live' : `live, resumed after #${this.lastId}`);
        this.pause = 500;
        await this.read(response.body);
        throw new Error('the stream ended');
      } catch (e) {
        if (this.closed) return;
        this.onState('reconnecting', `reconnecting after #${this.lastId ?? '–'}: ${e.detail || e.message}`);
        await delay(this.pause);
        this.pause = Math.min(this.pause * 2, 10000);
      }
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      // Normalise line ends, keeping a trailing \r that may pair with a \n to come.
      const held = buffer.endsWith('\r') ? '\r' : '';
      buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, '\n') + held;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.dispatch(block);
      }
    }
  }

  /** One SSE event block: `id`, `event` and `data` fields; comments skipped. */
  dispatch(block) {
    let id = null;
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (id !== null) this.lastId = id;
    if (data.length === 0) return;
    let entry;
    try {
      entry = JSON.parse(data.join('\n'));
    } catch (_) {
      entry = { type: 'undecodable', decision: data.join('\n'), reasons: [], data: {} };
    }
    this.onEvent(event, entry, id);
  }

  /** Drops the connection; the stream reconnects, resuming after the last event. */
  reconnect() {
    if (!this.closed && this.controller) this.controller.abort(new Error('reconnect asked'));
  }

  close() {
    this.closed = true;
    if (this.controller) this.controller.abort();
  }
}

function setStreamState(id, kind, text) {
  const node = $(id);
  node.className = `state ${kind}`;
  node.textContent = text || kind;
}

// ------------------------------------------------------------- sign-in

async function signIn(key, tenant) {
  state.key = key;
  state.tenant = tenant;
  // A cheap call that needs an operator's (or auditor's) key of this tenant.
  await api(tenantPath('/conversations'), { query: { limit: 1 } });
  sessionStorage.setItem(KEY_ITEM, key);
  sessionStorage.setItem(TENANT_ITEM, tenant);
  $('signin').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-tenant').textContent = tenant;
  $('agent-id').value = sessionStorage.getItem(AGENT_ITEM) || $('agent-id').value;
  newChat();
  refreshLists();
  refreshAnalytics();
  state.timers.push(setInterval(refreshLists, REFRESH_MS));
  state.timers.push(setInterval(refreshAnalytics, ANALYTICS_MS));
}

function signOut(message = '') {
  state.key = null;
  sessionStorage.removeItem(KEY_ITEM);
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
  for (const stream of [state.timelineStream, state.chatStream]) if (stream) stream.close();
  state.timelineStream = null;
  state.chatStream = null;
  state.selected = null;
  state.handling = null;
  $('app').hidden = true;
  $('who').hidden = true;
  $('signin').hidden = false;
  $('signin-key').value = '';
  $('signin-error').textContent = message;
}

async function onSignIn(event) {
  event.preventDefault();
  const key = $('signin-key').value.trim();
  const tenant = $('signin-tenant').value.trim() || 'brewvi';
  $('signin-error').textContent = '';
  try {
    await signIn(key, tenant);
  } catch (e) {
    state.key = null;
    showError('signin-error', e);
  }
}

// ------------------------------------------------------- conversations

let listing = false;

async function refreshLists() {
  if (listing || !state.key) return;
  listing = true;
  try {
    await Promise.all([refreshConversations(), refreshEscalations()]);
  } finally {
    listing = false;
  }
}

async function refreshConversations() {
  try {
    const answer = await api(tenantPath('/conversations'), {
      query: { status: $('status-filter').value, search: $('search').value.trim(), limit: 100 },
    });
    renderConversations(answer.data || []);
    showError('conversations-error', null);
  } catch (e) {
    showError('conversations-error', e);
  }
}

function renderConversations(docs) {
  const items = docs.map((doc) => {
    const id = doc.conversationId;
    return el('li', { 'data-id': id, class: id === state.selected ? 'selected' : null, onclick: () => select(id) },
      el('div', {}, el('span', { class: 'id' }, id), ' ', el('span', { class: `badge ${doc.status}` }, doc.status)),
      el('div', { class: 'meta' }, [doc.intent || 'no intent yet', doc.channel, doc.customerId, time(doc.updatedAt)].filter(Boolean).join(' · ')),
      doc.lastResponse ? el('div', { class: 'last' }, doc.lastResponse) : null);
  });
  $('conversation-list').replaceChildren(...(items.length ? items : [el('li', { class: 'meta' }, 'no conversations')]));
}

/** Shows `id`'s timeline, live. */
function select(id) {
  if (state.selected === id && state.timelineStream) return;
  if (state.timelineStream) state.timelineStream.close();
  state.selected = id;
  $('timeline-id').textContent = id;
  $('timeline-steps').replaceChildren();
  showError('timeline-error', null);
  for (const li of $('conversation-list').children) li.classList.toggle('selected', li.dataset.id === id);
  $('timeline-reconnect').disabled = false;
  state.timelineStream = new LiveStream(id, addStep, (kind, text) => {
    setStreamState('timeline-state', kind, text);
    if (kind === 'error') $('timeline-error').textContent = text;
  });
}

function addStep(event, entry, id) {
  const reasons = Array.isArray(entry.reasons) ? entry.reasons.join('; ') : '';
  const row = el('tr', { class: 'step', 'data-type': entry.type || event, 'data-seq': entry.seq ?? id },
    el('td', {}, entry.seq ?? id),
    el('td', { title: entry.stored_at }, time(entry.stored_at)),
    el('td', { class: 'type' }, entry.type || event),
    el('td', {}, entry.actor || ''),
    el('td', { class: 'decision' }, entry.decision || entry.error || ''),
    el('td', { class: 'reasons' }, reasons),
    el('td', {}, entry.model || ''),
    el('td', {}, entry.duration_ms ?? ''));
  $('timeline-steps').append(row);
  row.scrollIntoView({ block: 'nearest' });
}

// -------------------------------------------------------- escalations

async function refreshEscalations() {
  try {
    const answer = await api(tenantPath('/escalations'), { query: { limit: 100 } });
    renderEscalations(answer.data || []);
    showError('escalations-error', null);
  } catch (e) {
    showError('escalations-error', e);
  }
}

function renderEscalations(docs) {
  const rows = docs.map((doc) => {
    const id = doc.conversationId;
    return el('tr', { 'data-id': id, class: id === state.handling ? 'selected' : null },
      el('td', { class: 'id' }, id),
      el('td', {}, el('span', { class: `badge ${doc.priority}` }, doc.priority)),
      el('td', {}, doc.reason),
      el('td', {}, doc.queue),
      el('td', {}, doc.intent || ''),
      el('td', { title: doc.since }, dateTime(doc.since)),
      el('td', {}, el('button', { type: 'button', class: 'handle', onclick: () => handle(id) }, 'Handle')));
  });
  $('escalation-list').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 7, class: 'muted' }, 'nobody is waiting'))]));
}

/** Opens the reply and close forms for `id`, and its timeline. */
function handle(id) {
  state.handling = id;
  $('handle').hidden = false;
  $('handle-id').textContent = id;
  $('handle-status').textContent = '';
  showError('handle-error', null);
  select(id);
  $('reply-text').focus();
}

function agentId() {
  const agent = $('agent-id').value.trim();
  sessionStorage.setItem(AGENT_ITEM, agent);
  return agent;
}

async function onReply(event) {
  event.preventDefault();
  const id = state.handling;
  showError('handle-error', null);
  $('handle-status').textContent = '';
  try {
    const stored = await api(conversationPath(id, '/replies'), {
      method: 'POST',
      body: { agent_id: agentId(), text: $('reply-text').value },
    });
    $('reply-text').value = '';
    $('handle-status').textContent = `Reply stored as #${stored.seq}.`;
  } catch (e) {
    showError('handle-error', e);
  }
}

async function onClose(event) {
  event.preventDefault();
  const id = state.handling;
  showError('handle-error', null);
  $('handle-status').textContent = '';
  const body = { agent_id: agentId(), resolution: $('resolution').value };
  if ($('satisfaction').value) body.satisfaction = Number($('satisfaction').value);
  try {
    const stored = await api(conversationPath(id, '/close'), { method: 'POST', body });
    $('handle-status').textContent = `Closed as ${body.resolution} (#${stored.seq}).`;
    refreshLists();
  } catch (e) {
    showError('handle-error', e);
  }
}

// ---------------------------------------------------------------- chat

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A fresh conversation for the customer chat, followed live. */
function newChat() {
  if (state.chatStream) state.chatStream.close();
  state.chatId = `web-${Date.now().toString(36)}-${randomId()}`;
  $('chat-id').textContent = state.chatId;
  $('chat-log').replaceChildren();
  showError('chat-error', null);
  state.chatStream = new LiveStream(state.chatId, addChatLine, (kind, text) => {
    setStreamState('chat-state', kind, text);
    if (kind === 'error') $('chat-error').textContent = text;
  });
}

const CHAT_LINES = {
  received: (d) => ['customer', 'You', d.text],
  responded: (d) => ['agent', 'BrewVi assistant', d.text],
  human_replied: (d) => ['human', `${d.agent_id || 'agent'} (BrewVi team)`, d.text],
  escalated: (d) => ['system', '', `Handed to a person (${d.reason || 'escalated'}, queue ${d.queue || '?'}).`],
  closed: (d) => ['system', '', `Conversation closed: ${d.resolution || 'closed'}.`],
  failed: (d) => ['system', '', `Something failed at ${d.step || 'a step'}; a person will follow up.`],
};

function addChatLine(event, entry) {
  const line = CHAT_LINES[entry.type || event];
  if (!line) return;
  const [kind, who, text] = line(entry.data || {});
  $('chat-log').append(el('li', { class: `msg ${kind}`, 'data-seq': entry.seq },
    who ? el('span', { class: 'who' }, who) : null, text));
  $('chat-log').lastElementChild.scrollIntoView({ block: 'nearest' });
}

async function onChat(event) {
  event.preventDefault();
  const text = $('chat-text').value.trim();
  if (!text) return;
  showError('chat-error', null);
  try {
    await api(conversationPath(state.chatId, '/messages'), {
      method: 'POST',
      body: { text, customer: 'persona_001', channel: 'web' },
    });
    $('chat-text').value = '';
  } catch (e) {
    showError('chat-error', e);
  }
}

// ----------------------------------------------------------- analytics

let analysing = false;

async function refreshAnalytics() {
  if (analysing || !state.key) return;
  analysing = true;
  const query = { from: $('analytics-from').value, to: $('analytics-to').value };
  const ask = (name) => api(tenantPath(`/analytics/${name}`), { query }).then((a) => a.data);
  try {
    const [intents, escalation, automation, frt, volume, spend] = await Promise.all([
      ask('intent-distribution'), ask('escalation-rate'), ask('automation-rate'),
      ask('first-response-time'), ask('volume-per-day'), ask('model-usage'),
    ]);
    $('chart-intents').replaceChildren(barChart(intents.map((s) => [s.key, s.count])));
    $('chart-volume').replaceChildren(columnChart(volume.map((s) => [s.key, s.count])));
    $('chart-rates').replaceChildren(rateChart([['escalated', escalation], ['automated', automation]]));
    $('chart-frt').replaceChildren(barChart([['p50 ms', frt.p50_ms ?? 0], ['p95 ms', frt.p95_ms ?? 0]],
      `${frt.responded} answered`));
    const tokens = spend.reduce((n, d) => n + d.prompt_tokens + d.completion_tokens, 0);
    const cost = spend.reduce((n, d) => n + d.cost_usd, 0);
    $('chart-spend').replaceChildren(columnChart(spend.map((d) => [d.day, d.prompt_tokens + d.completion_tokens]),
      spend.length ? `${tokens} tokens, $${cost.toFixed(4)}` : 'all local: no remote model calls'));
    showError('analytics-error', null);
  } catch (e) {
    showError('analytics-error', e);
  } finally {
    analysing = false;
  }
}

/** Horizontal bars, one per [label, value]. */
function barChart(rows, note) {
  const width = 300;
  const labelWidth = 110;
  const height = 20 * rows.length + (note ? 18 : 4);
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${Math.max(height, 24)}`, width: '100%', role: 'img', 'data-rows': rows.length });
  if (rows.length === 0) chart.append(svg('text', { x: 0, y: 16 }, 'no data yet'));
  rows.forEach(([label, value], i) => {
    const y = i * 20;
    const w = Math.max(1, ((width - labelWidth - 50) * value) / max);
    const group = svg('g', { class: 'row', 'data-label': label, 'data-value': value });
    group.append(
      svg('text', { x: 0, y: y + 14 }, String(label).slice(0, 18)),
      svg('rect', { class: 'bar', x: labelWidth, y: y + 3, width: w, height: 14, rx: 2 }),
      svg('text', { x: labelWidth + w + 4, y: y + 14 }, value));
    chart.append(group);
  });
  if (note) chart.append(svg('text', { x: 0, y: height - 4 }, note));
  return chart;
}

/** Vertical columns, one per [day, count]. */
function columnChart(rows, note) {
  const width = 300;
  const height = 120;
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'data-rows': rows.length });
  if (rows.length === 0) chart.append(svg('text', { x: 0, y: 16 }, note ?? 'no data yet'));
  else if (note) chart.append(svg('text', { class: 'note', x: width - 4, y: 12, 'text-anchor': 'end' }, note));
  const step = rows.length ? Math.min(40, width / rows.length) : 0;
  rows.forEach(([day, count], i) => {
    const h = ((height - 34) * count) / max;
    const x = i * step;
    const group = svg('g', { class: 'row', 'data-label': day, 'data-value': count });
    group.append(
      svg('rect', { class: 'bar', x: x + 4, y: height - 20 - h, width: step - 8, height: Math.max(h, 1), rx: 2 }),
      svg('text', { x: x + 4, y: height - 24 - h }, count),
      svg('text', { x: x + 2, y: height - 6 }, String(day).slice(5)));
    chart.append(group);
  });
  return chart;
}

/** One 0–100 % track per [label, {count,total,rate}]. */
function rateChart(rows) {
  const width = 300;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${rows.length * 24}`, width: '100%', role: 'img', 'data-rows': rows.length });
  rows.forEach(([label, r], i) => {
    const y = i * 24;
    const share = r.rate ?? 0;
    const text = r.rate === null || r.rate === undefined ? 'no conversations' : `${(share * 100).toFixed(0)} % (${r.count}/${r.total})`;
    const group = svg('g', { class: 'row', 'data-label': label, 'data-value': r.count });
    group.append(
      svg('text', { x: 0, y: y + 15 }, label),
      svg('rect', { class: 'track', x: 80, y: y + 5, width: 120, height: 12, rx: 2 }),
      svg('rect', { class: `bar ${label === 'escalated' ? 'escalation' : ''}`, x: 80, y: y + 5, width: Math.max(1, 120 * share), height: 12, rx: 2 }),
      svg('text', { x: 206, y: y + 15 }, text));
    chart.append(group);
  });
  return chart;
}

// -------------------------------------------------------------- wiring

let searchTimer = null;

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', onSignIn);
  $('signout').addEventListener('click', () => signOut());
  $('status-filter').addEventListener('change', refreshConversations);
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(refreshConversations, 250);
  });
  $('timeline-reconnect').addEventListener('click', () => {
    if (state.timelineStream) state.timelineStream.reconnect();
  });
  $('chat-new').addEventListener('click', newChat);
  $('chat-form').addEventListener('submit', onChat);
  $('reply-form').addEventListener('submit', onReply);
  $('close-form').addEventListener('submit', onClose);
  $('analytics-refresh').addEventListener('click', refreshAnalytics);
  $('analytics-from').addEventListener('change', refreshAnalytics);
  $('analytics-to').addEventListener('change', refreshAnalytics);

  const key = sessionStorage.getItem(KEY_ITEM);
  const tenant = sessionStorage.getItem(TENANT_ITEM);
  if (tenant) $('signin-tenant').value = tenant;
  if (key) {
    signIn(key, tenant || 'brewvi').catch((e) => {
      signOut();
      showError('signin-error', e);
    });
  }
});
