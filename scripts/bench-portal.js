#!/usr/bin/env node
// SPEC 8: each portal page is ready (DOMContentLoaded) within 300 ms on a lab with 1,000
// product instances; lists page (50 rows), never thousands at once. Median of 5 loads per
// page in headless chromium. Needs a build (dist/) and /usr/bin/chromium. Run alone or from `npm run bench`.
import {median} from './bench-lib.js'
import {loggedIn, portalLab, VA} from './portal-lab.js'

const TARGET_MS = 300
const RUNS = 5
const lab = await portalLab({instances: 1000})
const {browser, page} = await loggedIn(lab)
let worst = 0
try {
  const pages = ['general', 'licenses', 'instances', 'instances?page=20', 'events', 'reservation', 'pak'].map((p) => `/portal/va/${VA}/${p}`)
  console.log(`portal: 1000 product instances, DOMContentLoaded, median of ${RUNS} (target ${TARGET_MS} ms)`)
  for (const path of pages) {
    const times = []
    for (let i = 0; i < RUNS; i++) {
      await page.goto(`${lab.base}${path}`, {waitUntil: 'domcontentloaded'})
      times.push(await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0]
        return nav.domContentLoadedEventEnd - nav.startTime
      }))
    }
    const ms = median(times)
    worst = Math.max(worst, ms)
    console.log(`  ${path.padEnd(34)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / TARGET_MS).toFixed(2)}x of target  ${ms <= TARGET_MS ? 'ok' : 'SLOW'}`)
  }
  console.log(`portal: slowest page ${worst.toFixed(0)} ms (${worst <= TARGET_MS ? 'within' : 'over'} ${TARGET_MS} ms)`)
} finally {
  await browser.close()
  await lab.close()
}
