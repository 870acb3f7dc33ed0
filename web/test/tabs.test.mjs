// Two tabs on one run: only the first trains and writes; the second says
// so and offers to take over; taking over moves training and writing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browse, screenshot, sleep, step, text, waitPhase } from './harness.mjs';

test('two tabs: one writer, and take over', async (t) => {
  const { srv, ctx } = await browse(t);
  const url = `${srv.url}/?preset=gauss-nesterov&autostart=1&speed=max`;
  const a = await ctx.newPage();
  await a.goto(url);
  await waitPhase(a, 'running');
  await a.waitForFunction(() => Number(document.querySelector('[data-testid=saves]').textContent) >= 2);

  const b = await ctx.newPage();
  await b.goto(url);
  await waitPhase(b, 'locked');
  assert.equal(await text(b, 'run'), await text(a, 'run'));
  assert.match(await text(b, 'status'), /another tab/);
  assert.ok(await b.getByTestId('takeover').isVisible());
  assert.ok(await b.getByTestId('pause').isDisabled());
  assert.ok(await b.getByTestId('resume').isDisabled());
  await screenshot(b, 'second-tab-locked');
  const [a0, b0] = [await step(a), await step(b)];
  await sleep(1500);
  const [a1, b1] = [await step(a), await step(b)];
  t.diagnostic(`a ${a0} -> ${a1}, b ${b0} -> ${b1}`);
  assert.ok(a1 > a0, 'the first tab trains');
  assert.equal(b1, b0, 'the second tab does not train');
  assert.equal(await text(b, 'saves'), '0', 'the second tab does not write');

  await b.getByTestId('takeover').click();
  await waitPhase(b, 'running');
  await waitPhase(a, 'lost');
  assert.match(await text(a, 'status'), /Another tab took over/);
  assert.ok(await a.getByTestId('takeover').isVisible(), 'the first tab offers to take it back');
  assert.ok(Number(await text(b, 'resumed-at')) >= a1, 'the new writer continues where the old one was');
  const aSaves = await text(a, 'saves');
  const [a2, b2] = [await step(a), await step(b)];
  await b.waitForFunction((n) => Number(document.querySelector('[data-testid=saves]').textContent) >= n, 2);
  await sleep(1000);
  const [a3, b3] = [await step(a), await step(b)];
  t.diagnostic(`after takeover: a ${a2} -> ${a3}, b ${b2} -> ${b3}, a saves ${aSaves} -> ${await text(a, 'saves')}`);
  assert.equal(a3, a2, 'the old tab stopped training');
  assert.ok(b3 > b2, 'the new tab trains');
  assert.equal(await text(a, 'saves'), aSaves, 'the old tab stopped writing');
});
