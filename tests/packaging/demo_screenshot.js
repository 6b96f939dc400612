// Headless Chromium (Debian's /usr/bin/chromium through playwright-core) on the demo page
// as a user opens it after `compose up`: waits until the page lists `count` messages that
// contain `expect` (the app's publishes), saves a screenshot, prints one JSON line:
// {"ok":true,"items":[...]} or {"ok":false,"error":...}.
// Usage: node demo_screenshot.js URL EXPECT COUNT SCREENSHOT.png
'use strict';
const { launchChromium } = require('../integration/node/chromium');

const [url, expect, count, shot] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const TIMEOUT = 30000;

(async () => {
  let browser;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(url);
    await page.waitForSelector('body[data-state="open"]');
    await page.waitForFunction(
      ([t, n]) => [...document.querySelectorAll('#messages li')]
        .filter((li) => li.textContent.includes(t)).length >= n,
      [expect, Number(count)], { timeout: TIMEOUT });
    await page.screenshot({ path: shot, fullPage: true });
    const items = await page.$$eval('#messages li', (lis) => lis.map((li) => li.textContent));
    const channel = await page.textContent('#channel');
    out({ ok: true, channel, items });
  } catch (e) {
    out({ ok: false, error: String(e && e.stack || e) });
  } finally {
    if (browser) await browser.close();
  }
})();
