// Custom data in the page: a CSV of 4 features and 3 classes, generated
// here, uploaded in Chromium, trains; a reload resumes it losing no step;
// the same bytes give the same hash and bits natively; push, native
// train --resume URL and pull give the page the native fingerprint;
// malformed CSVs each get their own message and store nothing.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { browse, checkpointsInDB, launch, serve, collectErrors, fingerprintOf, playground, screenshot, servePlayground, sleep, step, tempDir, text, waitPausedAt, waitPhase } from './harness.mjs';

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

// datasetsInDB lists the datasets the page's IndexedDB holds (persist/idb's
// datasets object store).
async function datasetsInDB(page) {
  return page.evaluate(async () => {
    const done = (req) =>
      new Promise((resolve, reject) => {
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    const db = await done(indexedDB.open('playground'));
    try {
      if (!db.objectStoreNames.contains('datasets')) return [];
      return await done(db.transaction('datasets').objectStore('datasets').getAllKeys());
    } finally {
      db.close();
    }
  });
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
  // The legend names the three classes, each with its color.
  assert.equal(await page.locator('[data-testid=map-legend] .chip').count(), 3);
  assert.match(await text(page, 'map-legend'), /class 0\s*class 1\s*class 2/);
  // Its corners are in the data's units, named by its features.
  assert.match(await text(page, 'axis-tl'), /^weight \d/);
  assert.match(await text(page, 'axis-br'), /^height \d/);
  assert.match(await text(page, 'axis-bl'), /^\(−\d[.\d]*, −\d[.\d]*\)$/);
  assert.match(await text(page, 'accuracy'), /%/);
  await screenshot(page, 'csv-map', page.locator('main.columns'));
  assert.deepEqual(errors, []);
});

// nativeCSV trains the CSV body with the spec (JSON) natively to steps,
// uninterrupted, and returns the final checkpoint and the store.
function nativeCSV(body, specJSON, steps) {
  const dir = tempDir('pg-csv-native-');
  fs.writeFileSync(path.join(dir, 'data.csv'), body);
  fs.writeFileSync(path.join(dir, 'spec.json'), specJSON);
  const out = path.join(dir, 'runs');
  const lines = playground('train', '--data', path.join(dir, 'data.csv'), '--spec', path.join(dir, 'spec.json'), '--steps', String(steps), '--every', '0', '--out', out).trim().split('\n');
  return { file: lines[lines.length - 1], out };
}

async function waitHead(srv, run, step, timeout = 60000) {
  for (const t0 = Date.now(); Date.now() - t0 < timeout; await sleep(100)) {
    const res = await fetch(`${srv.url}/api/runs/${run}/head`);
    if (res.status === 200 && (await res.json()).step === step) return;
  }
  throw new Error(`the server's head of ${run} never reached step ${step}`);
}

test('a CSV run: same hash and bits as natively; page → server → native → page', async (t) => {
  const { srv, ctx } = await browse(t, servePlayground());
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  const body = csv4x3(150);
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  await page.goto(`${srv.url}/?debug=1&pauseAt=600`);
  await waitPhase(page, 'idle');
  await upload(page, 'four-three.csv', body);
  await page.waitForFunction((sha) => (document.querySelector('[data-testid=csv-info]')?.textContent ?? '').includes(sha.slice(0, 12)), sha);
  await page.getByTestId('resume').click(); // Play
  const fp600 = await waitPausedAt(page, 600);
  const specJSON = await text(page, 'spec-json');
  assert.equal(JSON.parse(specJSON).dataset.sha256, sha);

  // The same bytes natively: the same name, the same bits.
  const native600 = nativeCSV(body, specJSON, 600);
  assert.ok(fs.existsSync(path.join(native600.out, '_datasets', sha + '.csv')), 'the native store names it by the same hash');
  assert.equal(fingerprintOf(native600.file), fp600, 'step 600 in Chromium = natively');

  // Push (the dataset goes first), continue natively from the server, pull.
  await page.getByTestId('push').click();
  await page.waitForFunction(() => /Pushed/.test(document.querySelector('[data-testid=sync-status]')?.textContent ?? ''));
  const res = await fetch(`${srv.url}/api/datasets/${sha}`);
  assert.equal(res.status, 200, 'the server has the dataset');
  assert.equal(await res.text(), body);
  const runs = await (await fetch(`${srv.url}/api/runs`)).json();
  assert.equal(runs.length, 1);
  const run = runs[0].run;
  await waitHead(srv, run, 600);
  const url = `${srv.url}/api/runs/${run}`;
  playground('train', '--resume', url, '--steps', '2000', '--out', tempDir('pg-csv-resume-'));
  await waitHead(srv, run, 2000);
  await page.getByTestId('pull').click();
  const fp2000 = await waitPausedAt(page, 2000);
  assert.equal(fp2000, fingerprintOf(nativeCSV(body, specJSON, 2000).file), 'page 0–600, native 600–2,000 = native 0–2,000');

  // The page's link in a fresh profile, which lacks the data: from this
  // server it fetches the data; from a server without the API it asks
  // for the file, then opens the run. Both train the same bits.
  const query = new URL(page.url()).search.replace(/&?(debug|pauseAt)=[^&]*/g, '');
  assert.match(query, new RegExp(`data=${sha}`));
  const other = await serve();
  const { ctx: fresh } = await launch();
  t.after(async () => {
    await fresh.close();
    await other.close();
  });
  for (const [base, asks] of [[srv.url, false], [other.url, true]]) {
    const p = await fresh.newPage();
    await p.goto(`${base}/${query}&autostart=1&pauseAt=600`);
    if (asks) {
      await p.waitForFunction((sha) => (document.querySelector('[data-testid=csv-missing]')?.textContent ?? '').includes(sha), sha);
      await upload(p, 'the-file.csv', body);
    }
    assert.equal(await waitPausedAt(p, 600), fp600, `${asks ? 'asked for the file' : 'fetched from the server'}: the same bits`);
    await p.close();
  }
  assert.deepEqual(errors, []);
});
