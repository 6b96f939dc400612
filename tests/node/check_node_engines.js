// Does every locked npm package run on the given Node versions (default: Debian 12's
// nodejs, 18.20.4 in bookworm-security)? Reads package.json and package-lock.json beside
// this file and checks each package's `engines.node` with semver, plus playwright-core's
// own start-up check (lib/bootstrap.js refuses Node older than its minimumMajorNodeVersion).
//   node tests/node/check_node_engines.js [VERSION...]
'use strict';
const fs = require('fs');
const path = require('path');
const semver = require('semver');

const versions = process.argv.length > 2 ? process.argv.slice(2) : ['18.20.4'];
const lock = JSON.parse(fs.readFileSync(path.join(__dirname, 'package-lock.json'), 'utf8'));
const problems = [];
let checked = 0;
for (const [where, pkg] of Object.entries(lock.packages)) {
  const range = pkg.engines && pkg.engines.node;
  const name = where === '' ? 'package.json' : `${where.replace(/^.*node_modules\//, '')}@${pkg.version}`;
  if (!range) continue;  // no engines field: any Node
  checked++;
  for (const v of versions) {
    if (!semver.satisfies(v, range)) problems.push(`${name} wants node ${range}, not ${v}`);
  }
}
if (checked === 0) problems.push('no engines field in package-lock.json: nothing was checked');

// playwright-core exits at start-up on an older major, whatever its engines field says.
const bootstrap = path.join(__dirname, 'node_modules', 'playwright-core', 'lib', 'bootstrap.js');
const m = /minimumMajorNodeVersion\s*=\s*(\d+)/.exec(fs.readFileSync(bootstrap, 'utf8'));
if (!m) {
  problems.push(`${bootstrap}: no minimumMajorNodeVersion found`);
} else {
  for (const v of versions) {
    if (semver.major(v) < Number(m[1])) problems.push(`playwright-core refuses node ${v} (needs ${m[1]})`);
  }
}

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`${checked} engines ranges and playwright-core's start-up check accept node ${versions.join(', ')}`);
