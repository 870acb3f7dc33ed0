// Loading the page: one wasm binary, downloaded once for the page, the
// engine worker and the writer; the step counter app.js paints before the
// UI is up; and the fallback where the compiled module cannot be posted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointsInDB, collectErrors, launch, serve, sleep, step, waitPhase } from './harness.mjs';

// bootSteps is an init script: window.__pgBoot lists the steps app.js's own
// counter showed, and whether the UI had rendered (the phase shown) then.
function bootSteps() {
  window.__pgBoot = [];
  new MutationObserver(() => {
    const b = document.querySelector('[data-testid=boot-step]');
    if (b) window.__pgBoot.push({ step: b.textContent, ui: !!document.querySelector('[data-testid=phase]') });
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

async function open(srv, init) {
  const { ctx } = await launch();
  // wasm lists the binary's downloads from the server. A request the page's
  // service worker answered is not one: the service worker's own fetch (a
  // request of its own, if the cache missed) is the download.
  const wasm = [];
  ctx.on('requestfinished', async (r) => {
    if (!/\.wasm$/.test(new URL(r.url()).pathname)) return;
    const res = await r.response();
    if (res && !res.fromServiceWorker()) wasm.push(new URL(r.url()).pathname);
  });
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await page.addInitScript(bootSteps);
  if (init) await page.addInitScript(init);
  await page.goto(`${srv.url}/?preset=spiral-adam&autostart=1&speed=max`);
  await waitPhase(page, 'running', 60000);
  await page.waitForFunction(() => document.querySelector('[data-testid=last-save]')?.textContent.match(/\d/), null, { timeout: 30000 });
  return { ctx, page, wasm, errors };
}

test('one wasm download runs the page, the engine and the writer; the step shows before the UI', async () => {
  const srv = await serve();
  const { ctx, page, wasm, errors } = await open(srv);
  try {
    assert.equal(wasm.length, 1, `wasm requests: ${wasm.join(', ')}`);
    assert.match(wasm[0], /^\/playground\.[0-9a-f]{10}\.wasm$/);
    const boot = await page.evaluate(() => window.__pgBoot);
    const before = boot.filter((b) => !b.ui && /^[1-9]\d*$/.test(b.step));
    assert.ok(before.length > 0, `app.js painted no training step before the UI: ${JSON.stringify(boot)}`);
    assert.equal(await page.locator('[data-testid=boot-step]').count(), 0, 'the UI replaced the boot counter');
    assert.ok((await step(page)) >= Number(before[0].step));
    // The writer committed checkpoints (the engine hands it every Put once it is up).
    assert.ok((await checkpointsInDB(page)).length > 0);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await srv.close();
  }
});

test('a module that cannot be posted: the worker compiles its own', async () => {
  const srv = await serve();
  const refuse = () => {
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (msg, ...rest) {
      if (msg && msg.module) throw new DOMException('refused for the test', 'DataCloneError');
      return post.call(this, msg, ...rest);
    };
  };
  const { ctx, page, wasm, errors } = await open(srv, refuse);
  try {
    // The worker's download is reported asynchronously (requestfinished,
    // then its response): it may be counted after the first save shows.
    for (let i = 0; i < 50 && wasm.length < 2; i++) await sleep(100);
    assert.equal(wasm.length, 2, `the page's and the worker's download: ${wasm.join(', ')}`);
    assert.ok((await step(page)) > 0);
    assert.ok((await checkpointsInDB(page)).length > 0);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await srv.close();
  }
});
