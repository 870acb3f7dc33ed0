// Custom data in the page: a CSV of 4 features and 3 classes, generated
// here, uploaded in Chromium, trains; a reload resumes it losing no step;
// malformed CSVs each get their own message and store nothing.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { browse, checkpointsInDB, collectErrors, screenshot, step, text, waitPausedAt, waitPhase } from './harness.mjs';

// csv4x3 is a CSV of 4 features and 3 classes, written canonically (the
// header, then float32's shortest decimals), so its SHA-256 is the
// dataset's name.
export function csv4x3(rows) {
  let s = 'a,b,c,d,class:3\n';
  for (let i = 0; i < rows; i++) {
    const k = i % 3;
    const f = [k + (i % 7) / 8, (i % 5) / 4 - k, (i % 11) / 4, (k * k) / 2 + (i % 3) / 8];
    s += f.map((v) => String(Math.fround(v))).join(',') + `,${k}\n`;
  }
  return s;
}

// datasetsInDB lists the names the page's dataset database holds.
async function datasetsInDB(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('playground-datasets');
        req.onupgradeneeded = () => req.result.createObjectStore('data');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const keys = db.transaction('data').objectStore('data').getAllKeys();
          keys.onsuccess = () => {
            db.close();
            resolve(keys.result);
          };
          keys.onerror = () => reject(keys.error);
        };
      }),
  );
}

// upload chooses a CSV file in the data panel.
async function upload(page, name, body) {
  await page.getByTestId('csv-file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(body) });
}

test('malformed CSVs get their own messages and store nothing', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await page.goto(`${srv.url}/?debug=1`);
  await waitPhase(page, 'idle');
  const head = 'a,b,c,d,class:3\n';
  const cases = [
    ['not a number', head + '1,2,3,4,0\n1,2,x,4,1\n', /line 3, column 3/],
    ['too few cells', head + '1,2,3,4,0\n1,2,3,1\n', /line 3\b/],
    ['class out of range', head + '1,2,3,4,0\n1,2,3,4,7\n', /line 3, column 5/],
    ['empty', '', /empty/],
  ];
  const seen = new Set();
  for (const [what, body, want] of cases) {
    await upload(page, `${what}.csv`, body);
    await page.waitForFunction((prev) => {
      const e = document.querySelector('[data-testid=csv-error]')?.textContent ?? '';
      return e !== '' && !prev.includes(e);
    }, [...seen]);
    const msg = await text(page, 'csv-error');
    t.diagnostic(`${what}: ${msg}`);
    assert.match(msg, want, what);
    seen.add(msg);
  }
  assert.equal(seen.size, cases.length, 'each its own message');
  // Pasted text goes the same way.
  await page.getByTestId('csv-paste').fill(head + '1,2,3,4,0\n1,2,3,4,0,9\n');
  await page.getByTestId('csv-use').click();
  await page.waitForFunction(() => /line 3/.test(document.querySelector('[data-testid=csv-error]')?.textContent ?? ''));
  assert.deepEqual(await datasetsInDB(page), [], 'no dataset stored');
  assert.deepEqual(await checkpointsInDB(page), [], 'no run started');
  assert.equal(await text(page, 'phase'), 'idle');
  assert.deepEqual(errors, []);
});

const N = 100000;

test('an uploaded CSV trains, is stored once by its hash, and a reload loses no step', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  const body = csv4x3(150);
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  await page.goto(`${srv.url}/?debug=1&pauseAt=${N}`);
  await waitPhase(page, 'idle');
  await upload(page, 'four-three.csv', body);
  await page.waitForFunction((sha) => (document.querySelector('[data-testid=csv-info]')?.textContent ?? '').includes(sha.slice(0, 12)), sha);
  assert.match(await text(page, 'csv-info'), /^150 rows, 4 features \(a, b, c, d\), 3 classes, /);
  assert.match(page.url(), new RegExp(`[?&]dataset=csv&.*data=${sha}`), 'the link names the data by its hash');
  // The same bytes again: stored once.
  await upload(page, 'again.csv', body);
  assert.deepEqual(await datasetsInDB(page), [sha]);

  await page.getByTestId('resume').click(); // Play
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=step]')?.textContent) >= 1000, null, { timeout: 60000 });
  const shown = await step(page);
  await page.reload();
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid=resumed-at]')?.textContent ?? ''), null, { timeout: 60000 });
  const resumedAt = Number(await text(page, 'resumed-at'));
  t.diagnostic(`showed ${shown}, resumed at ${resumedAt} from checkpoint ${await text(page, 'resumed-from')}`);
  assert.ok(resumedAt >= shown, `resumed at ${resumedAt}, below the ${shown} shown`);
  assert.ok(resumedAt < N, 'reloaded while it trained');
  const fp = await waitPausedAt(page, N, 300000);
  t.diagnostic(`fingerprint at ${N}: ${fp}`);
  await screenshot(page, 'csv-paused');
  assert.deepEqual(errors, []);
});

test('pasted two-feature data gets the decision map', async (t) => {
  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await page.goto(`${srv.url}/?debug=1&pauseAt=3000`);
  await waitPhase(page, 'idle');
  // Three blobs of a 3-class problem.
  let body = 'height,weight,class\n';
  for (let i = 0; i < 90; i++) {
    const k = i % 3;
    body += `${2 * (k - 1) + ((i * 7) % 9) / 10},${2 * (((k + 1) % 3) - 1) + ((i * 5) % 8) / 10},${k}\n`;
  }
  await page.getByTestId('csv-paste').fill(body);
  await page.getByTestId('csv-use').click();
  await page.waitForFunction(() => /^90 rows, 2 features \(height, weight\)/.test(document.querySelector('[data-testid=csv-info]')?.textContent ?? ''));
  await page.getByTestId('resume').click(); // Play
  await waitPausedAt(page, 3000, 120000);
  assert.ok(await page.getByTestId('heatmap-box').isVisible(), 'the decision map shows');
  // The map is painted: more than one class color on the heat map.
  const colors = await page.evaluate(() => {
    const c = document.getElementById('heatmap');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 97) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
    return seen.size;
  });
  assert.ok(colors >= 3, `${colors} colors on the map`);
  assert.match(await text(page, 'accuracy'), /%/);
  await screenshot(page, 'csv-map', page.locator('main.columns'));
  assert.deepEqual(errors, []);
});
