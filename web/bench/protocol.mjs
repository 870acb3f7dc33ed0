// The line protocol between run.mjs and a benchmarked system: one JSON
// request per line on stdin, {"workload":"W2","seconds":2}, answered by one
// JSON line on stdout, {"workload":"W2","steps":N,"seconds":S}: N steps
// (W3: matmuls) took S seconds of wall time. The Go engine speaks the same
// protocol (playground bench --serve).
import { createInterface } from 'node:readline';

// timeSteps calls step until seconds have passed and returns the count and
// the exact elapsed time.
export function timeSteps(step, seconds) {
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let n = 0, now = t0;
  while (now < until) {
    step();
    n++;
    now = performance.now();
  }
  return { steps: n, seconds: (now - t0) / 1000 };
}

// serve answers requests until stdin closes.
export async function serve(run) {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    const r = run(req.workload, req.seconds);
    process.stdout.write(JSON.stringify({ workload: req.workload, steps: r.steps, seconds: r.seconds }) + '\n');
  }
}
