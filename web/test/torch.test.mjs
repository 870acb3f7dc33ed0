// A run continued in PyTorch comes back: the README's "Continue in PyTorch"
// lines (python/playground_torch.py) train a native checkpoint 100 more
// steps and save it; uploaded to the page, that state resumes with its own
// fingerprint and trains on to the bits `playground train --resume` gives.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT, browse, fingerprintOf, nativeTrain, playground, tempDir, text, waitPausedAt, waitPhase } from './harness.mjs';

const PRESET = 'xor-momentum';
const PYTHON = process.env.PYTHON || '/usr/bin/python3';

// The README's example, run as users copy it: reads ckpt.safetensors in
// dir, writes continued.safetensors there.
function continueInTorch(dir) {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const code = readme.split('\n## Continue in PyTorch\n')[1].split('```python\n')[1].split('```')[0];
  execFileSync(PYTHON, ['-c', code], {
    cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONPATH: path.join(ROOT, 'python'), PLAYGROUND: BIN, OMP_NUM_THREADS: '1' },
  });
  return path.join(dir, 'continued.safetensors');
}

test('a state trained in PyTorch resumes on the page with its fingerprint', async (t) => {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    if (process.env.PLAYGROUND_REQUIRE_TORCH) throw new Error(`${PYTHON} cannot import torch (make test installs python3-torch)`);
    t.skip('no python3 with torch');
    return;
  }
  const dir = tempDir('pg-torch-');
  fs.copyFileSync(nativeTrain(PRESET, 200), path.join(dir, 'ckpt.safetensors'));
  const torchState = continueInTorch(dir);
  assert.match(playground('ckpt', 'verify', torchState), /^ok .* step 300 /);
  const resumedOut = tempDir('pg-torch-native-');
  const native400 = playground('train', '--resume', torchState, '--steps', '400', '--every', '0', '--out', resumedOut).trim().split('\n').pop();

  const { srv, ctx } = await browse(t);
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/?pauseAt=400&speed=max`);
  await waitPhase(page, 'idle');
  await page.getByTestId('upload').setInputFiles(torchState);
  assert.equal(await waitPausedAt(page, 300), fingerprintOf(torchState), 'the uploaded state resumes bit for bit');
  assert.match(await text(page, 'log'), /Resumed at step 300/);
  await page.getByTestId('resume').click();
  assert.equal(await waitPausedAt(page, 400), fingerprintOf(native400), 'and trains on to the native bits');
});
