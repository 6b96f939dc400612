// The one way the tests start a browser: Debian's /usr/bin/chromium through playwright-core
// (never a downloaded browser), headless, without the background traffic that would add
// noise to loopback tests. launch() gives it a fresh temporary profile and removes it after.
'use strict';
const { chromium } = require('playwright-core');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
              '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// extraArgs: more Chromium switches for one test (e.g. no timer throttling).
function launchChromium(extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
                           args: [...ARGS, ...extraArgs] });
}

module.exports = { launchChromium };
