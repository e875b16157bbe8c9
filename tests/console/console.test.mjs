// Drives the operator console in headless Chromium against a running gateway.
//
//   node console.test.mjs <base-url> <operator-key> <screenshot-dir>
//
// Run by workers/tests/console.rs against a real `switchboard up`. Every
// wait is on a page condition with a deadline, never a fixed sleep. Exits
// 0 when every step passed, 1 (with a failure screenshot) otherwise.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, key, shots] = process.argv.slice(2);
if (!base || !key || !shots) {
  console.error('usage: node console.test.mjs <base-url> <operator-key> <screenshot-dir>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

/** How long the agents and projections may take for one step. */
const WAIT = 60_000;
const started = Date.now();

function ok(what) {
  console.log(`ok ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${what}`);
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const context = await browser.newContext({ viewport: { width: 1600, height: 1150 } });
const page = await context.newPage();
page.setDefaultTimeout(WAIT);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
page.on('console', (m) => {
  // Failed fetches (the wrong key's 401) are logged as errors too; what
  // must never happen is a policy violation or a script error.
  if (m.type() === 'error' && /Content Security Policy|Uncaught|TypeError|ReferenceError/.test(m.text())) {
    pageErrors.push(m.text());
  }
});

const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

/** Waits until some element matching `selector` contains `text`. */
function waitText(selector, text, timeout = WAIT) {
  return page.waitForFunction(
    ([s, t]) => [...document.querySelectorAll(s)].some((n) => n.textContent.includes(t)),
    [selector, text],
    { timeout },
  );
}

/** The timeline's rows: seq and type. */
function timelineSteps() {
  return page.$$eval('#timeline-steps tr.step', (rows) =>
    rows.map((r) => ({ seq: r.dataset.seq, type: r.dataset.type, cells: [...r.cells].map((c) => c.textContent) })));
}

async function run() {
  await page.goto(`${base}/console`);
  await page.waitForSelector('#signin-form');

  // A wrong key is refused with the problem's detail.
  await page.fill('#signin-key', 'sbk_00000000_not-a-key');
  await page.click('#signin-form button[type=submit]');
  await waitText('#signin-error', 'unknown or revoked API key');
  check(await page.isHidden('#app'), 'the console stays closed for a wrong key');
  ok(`a wrong key is refused: "${await page.textContent('#signin-error')}"`);

  await page.fill('#signin-tenant', 'brewvi');
  await page.fill('#signin-key', key);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#app', { state: 'visible' });
  check(await page.evaluate(() => sessionStorage.getItem('switchboard.key')) === key, 'the key is kept in sessionStorage');
  await page.waitForSelector('#chat-state.live');
  await shot('signed-in');
  ok('signed in with the operator key');

  // A customer question, answered by the agents, live in the chat.
  const first = (await page.textContent('#chat-id')).trim();
  await page.fill('#chat-text', 'Where is my order 10234?');
  await page.press('#chat-text', 'Enter');
  await waitText('#chat-log .msg.customer', 'Where is my order 10234?');
  await page.waitForSelector('#chat-log .msg.agent');
  const answer = (await page.$eval('#chat-log .msg.agent', (n) => n.lastChild.textContent)).trim();
  check(answer.length > 0, 'a non-empty answer');
  ok(`${first}: answered in the chat: "${answer.slice(0, 100)}"`);

  // The conversation in the list, its timeline live with every step.
  await page.click(`#conversation-list li[data-id="${first}"]`);
  await page.waitForSelector('#timeline-steps tr.step[data-type="responded"]');
  const steps = await timelineSteps();
  const types = steps.map((s) => s.type);
  for (const type of ['received', 'screened', 'classified', 'drafted', 'validated', 'responded']) {
    check(types.includes(type), `a ${type} step in the timeline (${types.join(', ')})`);
  }
  const classified = steps.find((s) => s.type === 'classified');
  check(classified.cells[3].trim() !== '' && classified.cells[4].trim() !== '', 'the classified step shows actor and decision');
  check(steps.some((s) => /^\d+$/.test(s.cells[7].trim())), 'some step shows its duration in ms');
  await shot('answered');
  ok(`${first}: timeline ${types.join(' → ')}`);

  // The search box narrows the list to it.
  await page.fill('#search', first);
  await page.waitForFunction((id) => {
    const items = [...document.querySelectorAll('#conversation-list li[data-id]')];
    return items.length === 1 && items[0].dataset.id === id;
  }, first);
  await page.fill('#search', '');
  ok('the search box finds the conversation');

  // A message that goes to a human: in the escalation queue.
  await page.click('#chat-new');
  await page.waitForFunction((old) => document.getElementById('chat-id').textContent.trim() !== old, first);
  const second = (await page.textContent('#chat-id')).trim();
  await page.waitForSelector('#chat-state.live');
  await page.fill('#chat-text', 'I want to speak to a human right now, this is unacceptable');
  await page.click('#chat-form button[type=submit]');
  await waitText('#chat-log .msg.customer', 'speak to a human');
  await waitText('#chat-log .msg.system', 'Handed to a person');
  const row = `#escalation-list tr[data-id="${second}"]`;
  await page.waitForSelector(row);
  await shot('escalated');
  ok(`${second}: escalated and waiting in the queue (${await page.$eval(row, (r) => [...r.cells].map((c) => c.textContent).filter(Boolean).join(' | '))})`);

  // Handled: its timeline, live; a dropped stream resumes with Last-Event-ID.
  await page.click(`${row} button.handle`);
  await page.waitForSelector('#handle', { state: 'visible' });
  await page.waitForSelector('#timeline-steps tr.step[data-type="escalated"]');
  await page.waitForSelector('#timeline-state.live');
  const lastSeq = await page.$$eval('#timeline-steps tr.step', (rows) => rows[rows.length - 1].dataset.seq);
  const resumed = page.waitForRequest((r) =>
    r.url().includes(`/conversations/${second}/events/stream`) && r.headers()['last-event-id'] !== undefined);
  await page.click('#timeline-reconnect');
  const request = await resumed;
  check(request.headers()['last-event-id'] === lastSeq,
    `the stream resumed after #${lastSeq}, asked for ${request.headers()['last-event-id']}`);
  await waitText('#timeline-state.live', `resumed after #${lastSeq}`);
  ok(`the timeline stream reconnected with Last-Event-ID ${lastSeq}`);

  // A human answers: the reply reaches the customer's chat and the timeline.
  const reply = 'Hi, this is Sam from BrewVi. I am sorry about this; I am looking at your account now.';
  await page.fill('#agent-id', 'op_sam');
  await page.fill('#reply-text', reply);
  await page.click('#reply-form button[type=submit]');
  await waitText('#handle-status', 'Reply stored');
  await waitText('#chat-log .msg.human', 'this is Sam from BrewVi');
  await page.waitForSelector('#timeline-steps tr.step[data-type="human_replied"]');
  await page.waitForSelector(row, { state: 'detached' });
  await shot('replied');
  ok(`${second}: the human reply is in the chat and the timeline; no longer waiting in the queue`);

  // Closed: in the timeline and the chat, gone from the queue.
  await page.selectOption('#resolution', 'resolved');
  await page.selectOption('#satisfaction', '4');
  await page.click('#close-form button[type=submit]');
  await waitText('#handle-status', 'Closed as resolved');
  await page.waitForSelector('#timeline-steps tr.step[data-type="closed"]');
  await waitText('#chat-log .msg.system', 'closed: resolved');
  const seqs = (await timelineSteps()).map((s) => s.seq);
  check(new Set(seqs).size === seqs.length, `no step twice after the resume (${seqs.join(',')})`);
  await page.selectOption('#status-filter', 'closed');
  await page.waitForSelector(`#conversation-list li[data-id="${second}"] .badge.closed`);
  await shot('closed');
  ok(`${second}: closed, listed as closed; steps ${seqs.join(',')}`);

  // Closing it again is refused, and the problem's detail is shown.
  await page.click('#close-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('handle-error').textContent.trim() !== '');
  ok(`a second close is refused: "${(await page.textContent('#handle-error')).trim()}"`);

  // Analytics drawn from the projections: two conversations, one escalated.
  await page.click('#analytics-refresh');
  await page.waitForFunction(() => {
    const value = (sel) => Number(document.querySelector(sel)?.dataset.value ?? -1);
    return document.querySelectorAll('#chart-intents g.row').length >= 1
      && document.querySelectorAll('#chart-volume g.row').length >= 1
      && value('#chart-rates g.row[data-label="escalated"]') >= 1
      && value('#chart-frt g.row[data-label="p50 ms"]') > 0
      && (document.querySelector('#chart-spend svg text')?.textContent ?? '').includes('all local');
  });
  const intents = await page.$$eval('#chart-intents g.row', (g) => g.map((n) => `${n.dataset.label}=${n.dataset.value}`));
  await page.locator('#analytics').scrollIntoViewIfNeeded();
  await shot('analytics');
  ok(`analytics drawn: intents ${intents.join(' ')}; remote spend: ${await page.textContent('#chart-spend')}`);

  check(pageErrors.length === 0, `no script errors or policy violations: ${pageErrors.join(' | ')}`);
}

let code = 0;
try {
  await run();
  console.log(`console test passed in ${((Date.now() - started) / 1000).toFixed(1)}s; screenshots in ${shots}`);
} catch (e) {
  code = 1;
  console.error(`FAILED: ${e.message}`);
  for (const id of ['signin-error', 'chat-error', 'timeline-error', 'escalations-error', 'handle-error', 'analytics-error']) {
    const text = await page.textContent(`#${id}`).catch(() => null);
    if (text && text.trim()) console.error(`  #${id}: ${text.trim()}`);
  }
  if (pageErrors.length) console.error(`  page errors: ${pageErrors.join(' | ')}`);
  await shot('failure').catch(() => {});
} finally {
  await browser.close();
}
process.exit(code);
