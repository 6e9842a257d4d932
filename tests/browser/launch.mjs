// The Chromium every browser test drives: Debian's (CHROMIUM overrides the path), headless, in a
// fresh profile, with a desktop Chrome user agent (headless Chromium announces itself as HeadlessChrome,
// which analytics drops as a bot). Extra flags add to the common ones; options to Playwright's.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

export function launch(name, extraArgs = [], options = {}) {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), `fhiriq-${name}-`)), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', ...extraArgs],
    userAgent: USER_AGENT,
    ...options,
  });
}

// Ends a browser test: the problems found, one per line, and exit 1; or the summary line.
export function finish(problems, summary) {
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log(summary);
}
