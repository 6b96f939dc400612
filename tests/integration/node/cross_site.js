// Headless Chromium (Debian's /usr/bin/chromium through playwright-core) as a visitor's
// browser on an attacker's page: the page, on another origin, makes the browser POST to the
// relay without asking CORS (a text/plain form into a hidden frame, and a no-cors fetch),
// and tries a CORS fetch that needs a preflight.
// Usage: node cross_site.js PAGE_URL...   (each page runs its attempts on load; see
// test_cross_site.py for the page).
// stdout, one JSON line: {"ok":true,"pages":[{"url","done","formLoaded","noCors","cors"}...]}
// or {"ok":false,"error":...}.
'use strict';
const { launchChromium } = require('./chromium');

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

(async () => {
  let browser;
  try {
    browser = await launchChromium();
    const pages = [];
    for (const url of process.argv.slice(2)) {
      const context = await browser.newContext();  // a visitor: no state shared between pages
      const page = await context.newPage();
      page.setDefaultTimeout(20000);
      await page.goto(url);
      // The page writes what happened into body[data-result] once every attempt settled.
      await page.waitForSelector('body[data-result]');
      const result = JSON.parse(await page.getAttribute('body', 'data-result'));
      pages.push(Object.assign({ url }, result));
      await context.close();
    }
    out({ ok: true, pages });
  } catch (e) {
    out({ ok: false, error: String((e && e.stack) || e) });
  } finally {
    if (browser) await browser.close();
  }
})();
setTimeout(() => { out({ ok: false, error: 'cross_site.js timed out' }); process.exit(2); }, 120000).unref();
