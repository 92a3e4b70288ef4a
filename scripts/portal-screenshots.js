#!/usr/bin/env node
// Screenshots of every portal page for docs/portal.md (docs/portal/*.png), taken in headless
// chromium on a lab of 120 product instances. Usage: npm run build && node scripts/portal-screenshots.js
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {root} from './bench-lib.js'
import {portalLab, loggedIn, VA} from './portal-lab.js'

const out = join(root, 'docs', 'portal')
mkdirSync(out, {recursive: true})
const lab = await portalLab({instances: 120})
const {browser, page} = await loggedIn(lab)
try {
  const shot = async (name) => {
    await page.screenshot({path: join(out, `${name}.png`), fullPage: false})
    console.log(`docs/portal/${name}.png`)
  }
  await page.goto(`${lab.base}/portal/login`)
  await shot('login')
  await page.goto(`${lab.base}/portal/`)
  await shot('inventory')
  for (const tab of ['general', 'licenses', 'instances', 'events', 'pak']) {
    await page.goto(`${lab.base}/portal/va/${VA}/${tab}`)
    await shot(tab)
  }
  await page.goto(`${lab.base}/portal/va/${VA}/reservation`)
  const {makeRequestCode} = await import(join(root, 'dist/src/licensing/codes.js'))
  await page.fill('#request-code', makeRequestCode('EXPWY-VE-M-K9', 'R0000042', 'B7sZG7jGd'))
  await page.fill('input[name=qty-rms]', '10')
  await page.fill('input[name=qty-room]', '2')
  await shot('reservation')
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Generate Authorization Code")')])
  await shot('reservation-code')
} finally {
  await browser.close()
  await lab.close()
}
