// Headless Chromium (Debian's /usr/bin/chromium through playwright-core) on the demo page:
// two independent pages open GET /, each sends a message through the form and sees the other's.
// Usage: node browser.js HTTP_URL
// stdout, one JSON object a line: {"ev":"ready"} once both pages sent and saw each other's
// message (the test then publishes "hi from python" on the demo channel), then the result:
// {"ok":true,...} or {"ok":false,"error":...}.
'use strict';
const { launchChromium } = require('./chromium');

const url = process.argv[2];
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const TIMEOUT = 15000;

const consoleErrors = [];  // reported, not judged (a missing favicon logs one)

async function openPage(browser, name, errors) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${name}: ${m.text()}`); });
  await page.goto(url);
  await page.waitForSelector('body[data-state="open"]');
  await page.fill('#name', name);
  return page;
}

async function say(page, text) {
  await page.fill('#message', text);
  await page.locator('#send-form').evaluate((form) => form.requestSubmit());
}

async function waitForItem(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('#messages li')].some((li) => li.textContent.includes(t)),
    text, { timeout: TIMEOUT });
}

const items = (page) => page.$$eval('#messages li', (lis) => lis.map((li) => li.textContent));

(async () => {
  const errors = [];
  let browser;
  try {
    // launch() gives the browser a fresh temporary profile (user-data dir) and removes it after.
    browser = await launchChromium();
    const alice = await openPage(browser, 'alice', errors);
    const bob = await openPage(browser, 'bob', errors);
    const hostile = '<img src=x onerror="document.body.dataset.pwned=1">';
    await say(alice, 'hello from alice');
    await waitForItem(bob, 'hello from alice');
    await say(bob, 'hi alice, bob here');
    await waitForItem(alice, 'hi alice, bob here');
    await say(alice, hostile);
    await waitForItem(bob, hostile);  // shown as text, never as markup
    // Long words wrap inside the list instead of widening it.
    const longWord = 'x'.repeat(400);
    await say(alice, longWord);
    await waitForItem(bob, longWord);
    const overflowing = await bob.$$eval('#messages li', (lis) =>
      lis.filter((li) => li.scrollWidth > li.clientWidth + 1).length);
    // Every message shows the time it arrived (HH:MM:SS).
    const times = await bob.$$eval('#messages li', (lis) =>
      lis.map((li) => (li.querySelector('time') || {}).textContent || ''));
    // The send button is usable while subscribed, disabled (with the state shown) while not:
    // a channel name the relay refuses leaves the page refused, a lost connection closed.
    const sendEnabledWhenOpen = await bob.evaluate(() => !document.querySelector('#send').disabled);
    const refused = await browser.newPage();
    await refused.goto(url + '?channel=' + encodeURIComponent('no spaces allowed'));
    await refused.waitForSelector('body[data-state="refused"]');
    const sendDisabledWhenRefused = await refused.evaluate(() => document.querySelector('#send').disabled);
    const refusedStatus = await refused.textContent('#status');
    await refused.close();
    const lost = await browser.newPage();
    await lost.goto(url + '?channel=lost');
    await lost.waitForSelector('body[data-state="open"]');
    await lost.evaluate(() => window.relay.close());  // closed for good: no reconnect
    await lost.waitForSelector('body[data-state="closed"]');
    const sendDisabledWhenClosed = await lost.evaluate(() => document.querySelector('#send').disabled);
    const closedStatus = await lost.textContent('#status');
    await lost.close();
    out({ ev: 'ready' });
    await waitForItem(alice, 'hi from python');
    await waitForItem(bob, 'hi from python');
    const pwned = await bob.evaluate(() => document.body.dataset.pwned || null);
    const hostileImgs = await bob.$$eval('#messages li img', (imgs) => imgs.length);
    out({ ok: true, alice: await items(alice), bob: await items(bob), pwned, hostileImgs, errors,
          consoleErrors, overflowing, times, sendEnabledWhenOpen, sendDisabledWhenClosed, closedStatus, sendDisabledWhenRefused,
          refusedStatus });
  } catch (e) {
    out({ ok: false, error: String(e && e.stack || e), errors, consoleErrors });
  } finally {
    if (browser) await browser.close();
  }
})();
setTimeout(() => { out({ ok: false, error: 'browser.js timed out' }); process.exit(2); }, 120000).unref();
