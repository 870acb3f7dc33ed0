// make soak (not part of make test): SOAK_CYCLES (30) cycles of abuse, in a
// shuffled order (SOAK_SEED), against the page served by `playground serve`
// on a free port over a temporary store, auto-push on:
//
//   reload        the page reloads at a random moment;
//   browser-kill  every Chromium process is SIGKILLed, then restarted;
//   server-kill   the server is SIGKILLed (half the time the page is reloaded
//                 while it is down, which fails), then restarted on the same
//                 port and store;
//   corrupt       one bit of the newest checkpoint in IndexedDB is flipped,
//                 then the browser is SIGKILLed (a reload would save a newer
//                 one on pagehide) and restarted.
//
// After each cycle the same run trains again, resumed at or after the last
// autosave the page reported, and every stored checkpoint verifies except
// those this script damaged. At the end the page pauses at a step N and its
// fingerprint must equal `playground train --preset P --steps N` (ckpt
// inspect), every checkpoint on the server verifies, and the server's head
// (auto-pushed) is that same state.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import {
  checkpointsInDB,
  damageNewest,
  fingerprintOf,
  killBrowser,
  launch,
  nativeFingerprint,
  playground,
  servePlayground,
  sleep,
  step,
  tempDir,
  text,
  waitPausedAt,
  waitPhase,
} from './harness.mjs';

const PRESET = process.env.SOAK_PRESET || 'spiral-adam';
const CYCLES = Number(process.env.SOAK_CYCLES || 30);
const SEED = Number(process.env.SOAK_SEED || Date.now() % 1e9);
const KINDS = ['reload', 'browser-kill', 'server-kill', 'corrupt'];

// mulberry32: a small seeded PRNG, so a failing order can be replayed.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// badCheckpoints returns the ids of the stored checkpoints that
// `playground ckpt verify` refuses.
function badCheckpoints(stored) {
  const dir = tempDir('pg-soak-verify-');
  const bad = [];
  for (const c of stored) {
    const f = path.join(dir, `${c.id}.safetensors`);
    fs.writeFileSync(f, Buffer.from(c.bytes, 'base64'));
    try {
      playground('ckpt', 'verify', f);
    } catch {
      bad.push(c.id);
    }
  }
  return bad;
}

test(`soak: ${CYCLES} cycles of reload, browser kill, server kill and corruption`, async (t) => {
  const rand = prng(SEED);
  const deck = Array.from({ length: CYCLES }, (_, i) => KINDS[i % KINDS.length]);
  for (let i = deck.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [deck[i], deck[j]] = [deck[j], deck[i]];
  }
  t.diagnostic(`seed ${SEED}, preset ${PRESET}, order: ${deck.join(' ')}`);

  const data = tempDir('pg-soak-store-');
  const addr = `127.0.0.1:${await freePort()}`;
  const start = () => servePlayground('--addr', addr, '--data', data);
  let srv = await start();
  let { ctx, dir } = await launch();
  t.after(async () => {
    await ctx.close().catch(() => {});
    await srv.close();
  });
  const url = `${srv.url}/?preset=${PRESET}&autostart=1&speed=max`;
  const open = async () => {
    const page = await ctx.newPage();
    await page.goto(url);
    await waitPhase(page, 'running', 60000);
    return page;
  };
  let page = await open();
  const restartBrowser = async () => {
    killBrowser(dir);
    await ctx.close().catch(() => {});
    ({ ctx } = await launch(dir));
    page = await ctx.newPage();
    await page.goto(url);
  };
  await page.getByTestId('autopush').check();
  // The page keeps the setting in localStorage, which Chromium commits to
  // disk only a few seconds after a change: a browser SIGKILL before that
  // forgets it (as it would any site's setting).
  await sleep(8000);
  const run = await text(page, 'run');

  const damaged = new Set();
  const done = Object.fromEntries(KINDS.map((k) => [k, 0]));
  let detected = 0;
  for (const [i, kind] of deck.entries()) {
    await sleep(300 + rand() * 2700);
    const lastSave = Number((await text(page, 'last-save')) || 0);
    const shown = await step(page);
    let note = '';
    switch (kind) {
      case 'reload':
        await page.reload();
        break;
      case 'browser-kill':
        await restartBrowser();
        break;
      case 'server-kill': {
        await srv.close('SIGKILL');
        await sleep(rand() * 1500);
        if (rand() < 0.5) {
          const err = await page.reload({ timeout: 10000 }).then(() => null, (e) => e);
          note = `, reloaded while it was down (${err ? err.message.split('\n')[0] : 'loaded'})`;
        }
        srv = await start();
        // The error page may still be navigating (Chromium reloads it on its
        // own): try again until the page loads.
        for (let k = 0; note; k++) {
          const err = await page.goto(url).then(() => null, (e) => e);
          if (!err) break;
          if (k === 5) throw err;
          await sleep(500);
        }
        break;
      }
      case 'corrupt': {
        const id = await damageNewest(page);
        damaged.add(id);
        note = `, damaged ${id}`;
        await restartBrowser();
        break;
      }
    }
    await waitPhase(page, 'running', 60000);
    assert.equal(await text(page, 'run'), run, `cycle ${i + 1} (${kind}): the same run trains`);
    const resumedAt = Number(await text(page, 'resumed-at'));
    if (kind !== 'server-kill' || note) {
      assert.ok(resumedAt >= lastSave, `cycle ${i + 1} (${kind}): resumed at ${resumedAt}, before the last autosave ${lastSave}`);
    }
    assert.ok(await page.getByTestId('autopush').isChecked(), `cycle ${i + 1} (${kind}): auto-push is off`);
    if (kind === 'corrupt') {
      const s = Number(note.match(/damaged (\d+)/)[1]).toLocaleString('en-US');
      const said = await page
        .waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid=log]')?.textContent ?? ''), `step ${s}.*damaged`, { timeout: 5000 })
        .then(() => true, () => false);
      if (said) {
        detected++;
        note += ', reported and skipped on resume';
      }
    }
    const stored = await checkpointsInDB(page);
    assert.ok(stored.length > 0, `cycle ${i + 1}: no checkpoint stored`);
    const bad = badCheckpoints(stored).filter((id) => !damaged.has(id));
    assert.deepEqual(bad, [], `cycle ${i + 1} (${kind}): checkpoints damaged by nobody`);
    done[kind]++;
    t.diagnostic(`cycle ${i + 1} ${kind}: showed ${shown}, last autosave ${lastSave}, resumed at ${resumedAt}${note}; sync: ${await text(page, 'sync-status')}`);
  }

  const n = Math.ceil(((await step(page)) + 2000) / 1000) * 1000;
  await page.goto(`${url}&pauseAt=${n}`);
  const fp = await waitPausedAt(page, n, 120000);
  const want = nativeFingerprint(PRESET, n);
  t.diagnostic(`cycles: ${JSON.stringify(done)}; damaged ${damaged.size}, reported as damaged on resume ${detected}`);
  t.diagnostic(`page at step ${n}: ${fp}; native: ${want}`);
  assert.equal(fp, want, `fingerprint at step ${n}`);

  // The server's side: its head, auto-pushed from the save made at the
  // pause (after a retry delay if a push failed while the server was down),
  // is that same state, and every checkpoint it stored verifies.
  const runs = fs.readdirSync(data);
  assert.equal(runs.length, 1, `the server holds runs ${runs}`);
  const id = runs[0];
  assert.ok(run.includes(id), `the server's run ${id} is not the page's ${run}`);
  let headStep = -1;
  for (let k = 0; k < 60 && headStep !== n; k++) {
    if (k) await sleep(1000);
    const r = await fetch(`${srv.url}/api/runs/${id}/head`);
    headStep = r.ok ? (await r.json()).step : -1;
  }
  assert.equal(headStep, n, `the server's head is at step ${headStep}, the page paused at ${n} (sync: ${await text(page, 'sync-status')})`);
  const head = playground('pull', `${srv.url}/api/runs/${id}`, '--out', tempDir('pg-soak-pull-')).trim();
  assert.equal(fingerprintOf(head), want, `the server's head at step ${n}`);
  const files = fs.readdirSync(path.join(data, id)).filter((f) => f.endsWith('.safetensors'));
  playground('ckpt', 'verify', ...files.map((f) => path.join(data, id, f)));
  const kinds = {};
  for (const line of playground('ckpt', 'ls', data).trim().split('\n').slice(1)) {
    const k = line.split(/\s+/)[3];
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  t.diagnostic(`server: head at step ${n} with the native fingerprint; ${files.length} checkpoints (${JSON.stringify(kinds)}), all verify`);
});
