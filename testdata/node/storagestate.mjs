// Playwright's side of troupe's storageState tests (DESIGN §14), with playwright-core and the
// system's Chromium:
//   node storagestate.mjs login SITE OUT.json   log in to SITE/spa as a person would, write storageState
//   node storagestate.mjs check SITE IN.json    open SITE/spa in a context made from IN.json, print its title
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';

const [mode, site, file] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.TROUPE_BROWSER || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  if (mode === 'login') {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(site + '/spa');
    await page.click('#login');
    await page.waitForFunction(() => localStorage.getItem('token') && document.cookie.includes('session='));
    writeFileSync(file, JSON.stringify(await context.storageState()));
    console.log('logged in');
  } else if (mode === 'check') {
    const context = await browser.newContext({ storageState: file });
    const page = await context.newPage();
    await page.goto(site + '/spa');
    console.log(await page.title());
  } else {
    throw new Error('mode: login or check');
  }
} finally {
  await browser.close();
}
