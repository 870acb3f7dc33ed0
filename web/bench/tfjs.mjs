// The workloads of make bench (W1, W2, W3 of PERF-NOTES) in TensorFlow.js
// 4.22 under Node, on the cpu or wasm backend, written as a careful user
// would: core ops, fused bias and activation where TF.js has them, one
// optimizer.minimize per step, batches made once up front.
//
//   node tfjs.mjs --backend wasm --serve   requests on stdin (see protocol.mjs)
//   node tfjs.mjs --backend cpu W2 3       run W2 for 3 s and print the rate
import { createRequire } from 'node:module';
import { serve, timeSteps } from './protocol.mjs';

// TF.js greets Node users on stdout; keep stdout for the protocol.
console.log = console.error;
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const backend = opt('--backend', 'wasm');
const serveMode = args.includes('--serve');

// Deterministic pseudo-random numbers for data and initial weights.
let seed = 12345;
function rand() {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
}
function glorot(inp, out) {
  const lim = Math.sqrt(6 / (inp + out));
  const v = new Float32Array(inp * out);
  for (let i = 0; i < v.length; i++) v[i] = (2 * rand() - 1) * lim;
  return tf.variable(tf.tensor2d(v, [inp, out]));
}

// mlp builds the variables and the forward pass of an MLP; hidden layers
// use act, the last layer returns logits.
function mlp(sizes, act) {
  const ws = [], bs = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    ws.push(glorot(sizes[i], sizes[i + 1]));
    bs.push(tf.variable(tf.zeros([sizes[i + 1]])));
  }
  const forward = (x) => {
    let h = x;
    for (let i = 0; i < ws.length; i++) {
      const last = i === ws.length - 1;
      if (last || act === 'relu') {
        h = tf.fused.matMul({ a: h, b: ws[i], bias: bs[i], activation: last ? 'linear' : act });
      } else {
        h = tf[act](tf.fused.matMul({ a: h, b: ws[i], bias: bs[i] }));
      }
    }
    return h;
  };
  return { vars: [...ws, ...bs], forward };
}

// trainStep returns a step of net: opt minimizes loss(y, net(x)) over the
// next of batches ([x, y] pairs), in turn.
function trainStep(net, opt, loss, batches) {
  let b = 0;
  return () => {
    const [x, y] = batches[b];
    b = (b + 1) % batches.length;
    opt.minimize(() => loss(y, net.forward(x)), false, net.vars);
  };
}

// W1: 2-16-16-1 tanh, sigmoid + BCE, 1000 points of TensorFlow Playground's
// circle, batch 10, SGD 0.03.
function makeW1() {
  const n = 1000, xs = new Float32Array(2 * n), ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const inner = i % 2 === 0;
    const r = inner ? rand() * 2.5 : 3.5 + rand() * 1.5;
    const a = rand() * 2 * Math.PI;
    xs[2 * i] = r * Math.cos(a);
    xs[2 * i + 1] = r * Math.sin(a);
    ys[i] = inner ? 1 : 0;
  }
  const batches = [];
  for (let i = 0; i < n; i += 10) {
    batches.push([tf.tensor2d(xs.slice(2 * i, 2 * i + 20), [10, 2]), tf.tensor2d(ys.slice(i, i + 10), [10, 1])]);
  }
  return trainStep(mlp([2, 16, 16, 1], 'tanh'), tf.train.sgd(0.03), tf.losses.sigmoidCrossEntropy, batches);
}

// W2: 784-256-128-10 ReLU, softmax CE, random data, batch 64, Adam 1e-3.
function makeW2() {
  const batches = [];
  for (let b = 0; b < 16; b++) {
    const x = new Float32Array(64 * 784), y = new Float32Array(64 * 10);
    for (let i = 0; i < x.length; i++) x[i] = rand();
    for (let i = 0; i < 64; i++) y[i * 10 + Math.floor(rand() * 10)] = 1;
    batches.push([tf.tensor2d(x, [64, 784]), tf.tensor2d(y, [64, 10])]);
  }
  return trainStep(mlp([784, 256, 128, 10], 'relu'), tf.train.adam(1e-3), tf.losses.softmaxCrossEntropy, batches);
}

// W3: one 256×256 by 256×256 float32 matmul per step.
function makeW3() {
  const a = tf.randomUniform([256, 256]), b = tf.randomUniform([256, 256]);
  return () => tf.matMul(a, b).dispose();
}

const makers = { W1: makeW1, W2: makeW2, W3: makeW3 };
const steps = {};
// run times the workload for about seconds and returns its step count.
function run(workload, seconds) {
  steps[workload] ??= makers[workload]();
  const r = timeSteps(steps[workload], seconds);
  // Make sure every queued kernel has finished inside the timing.
  tf.tidy(() => tf.zeros([1]).dataSync());
  return r;
}

if (backend === 'wasm') {
  // Single-threaded SIMD: what Node gives TF.js (threads need cross-origin
  // isolation in a browser and a worker shim in Node).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
}
await tf.setBackend(backend);
await tf.ready();
if (tf.getBackend() !== backend) throw new Error(`backend ${backend} did not load`);
console.error(`tfjs ${tf.version.tfjs} backend ${backend}` + (backend === 'wasm' ? ` simd ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}` : ''));

if (serveMode) {
  await serve(run);
} else {
  const [w = 'W1', secs = '3'] = args;
  for (let i = 0; i < 6; i++) {
    const r = run(w, Number(secs));
    console.error(`${w} ${(r.steps / r.seconds).toFixed(1)} steps/s`);
  }
}
