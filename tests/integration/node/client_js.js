// Headless Chromium (Debian's /usr/bin/chromium through playwright-core) driven line by line
// for test_client_js.py: opens URL (a page of the relay, through the test's TCP proxy), loads
// /wsrelay.js into window.M, then evaluates each stdin line {"id", "js"} (the body of an async
// function) in the page and answers {"id", "ok", "value"} or {"id", "ok": false, "error"}.
// Usage: node client_js.js HTTP_URL
'use strict';
const readline = require('readline');
const { launchChromium } = require('./chromium');

const url = process.argv[2];
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

(async () => {
  let browser;
  try {
    browser = await launchChromium(['--disable-background-timer-throttling',
                                    '--disable-renderer-backgrounding']);
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.evaluate(async () => { window.M = await import('/wsrelay.js'); });
    out({ ev: 'ready' });
    const rl = readline.createInterface({ input: process.stdin });
    for await (const line of rl) {
      if (!line.trim()) continue;
      const { id, js } = JSON.parse(line);
      try {
        const value = await page.evaluate(`(async () => { ${js} })()`);
        out({ id, ok: true, value, errors });
      } catch (e) {
        out({ id, ok: false, error: String(e && e.message || e), errors });
      }
    }
  } catch (e) {
    out({ ev: 'failed', error: String(e && e.stack || e) });
  } finally {
    if (browser) await browser.close();
  }
})();
setTimeout(() => { out({ ev: 'failed', error: 'client_js.js timed out' }); process.exit(2); }, 180000).unref();
