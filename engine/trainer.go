package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"playground/dataset"
	"playground/spec"
)

// Version is the engine version recorded in checkpoints.
const Version = "0.1.0"

// Trainer runs the training loop of one spec. Training is a pure function
// of (spec, step): the data order of epoch e depends on (seed, e) only, so a
// trainer restored at any step continues exactly as an uninterrupted one.
type Trainer struct {
	Spec  spec.Spec
	Data  *Dataset
	Model *Model
	Opt   *Optimizer

	Step  uint64 // completed updates
	Epoch int    // epoch of the next batch
	Batch int    // index of the next batch within its epoch

	pcg *rand.PCG // reserved for stochastic layers; saved with the state

	order         []int
	orderEpoch    int
	bx, by        []float32
	dOut, lossBuf []float32
}

// NewTrainer normalizes spec, generates its dataset and initializes the
// model from the seed. A spec of custom data (kind csv) needs
// NewTrainerWith.
func NewTrainer(s spec.Spec) (*Trainer, error) { return NewTrainerWith(s, nil) }

// NewTrainerWith is NewTrainer with the table a spec of kind csv trains
// on (nil for a generated dataset): it must be the table the spec names
// (Data).
func NewTrainerWith(s spec.Spec, data *dataset.Table) (*Trainer, error) {
	s, err := s.Normalize()
	if err != nil {
		return nil, err
	}
	ds, err := Data(s, data)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Spec: s, Data: ds, orderEpoch: -1}
	t.Model = NewModel(s.Inputs(), s.Model)
	t.Model.Init(rand.New(rand.NewPCG(s.Seed, streamInit)))
	t.Opt = NewOptimizer(s.Optimizer, t.Model.NumParams())
	t.pcg = rand.NewPCG(s.Seed, streamTrain)
	return t, nil
}

// SetWorkers sets how many goroutines the large matrix products of a step
// may use (n <= 0: every core). It is no part of the spec and never changes
// a bit of training: each output element is computed by one goroutine in
// one fixed order. On js/wasm, where goroutines share one thread, it stays 1.
func (t *Trainer) SetWorkers(n int) {
	if n <= 0 || n > maxWorkers() {
		n = maxWorkers()
	}
	t.Model.mm.Workers = n
}

// Workers is the number of goroutines a step may use (see SetWorkers).
func (t *Trainer) Workers() int { return max(t.Model.mm.Workers, 1) }

// BatchesPerEpoch is the number of steps in one epoch (the last batch of an
// epoch may be smaller than the batch size).
func (t *Trainer) BatchesPerEpoch() int { return batchesPerEpoch(t.Spec) }

// epochOrder is the permutation of the training set for epoch e: a pure
// function of (seed, e).
func (t *Trainer) epochOrder() []int {
	if t.orderEpoch == t.Epoch {
		return t.order
	}
	n := t.Data.Train.N
	if len(t.order) != n {
		t.order = make([]int, n)
	}
	for i := range t.order {
		t.order[i] = i
	}
	shuffle(rand.New(rand.NewPCG(t.Spec.Seed, streamOrder^uint64(t.Epoch)*0x9e3779b97f4a7c15)), t.order)
	t.orderEpoch = t.Epoch
	return t.order
}

// TrainStep trains on the next batch and returns its loss (before the
// update).
func (t *Trainer) TrainStep() float32 {
	order := t.epochOrder()
	bs := t.Spec.BatchSize
	lo := t.Batch * bs
	hi := min(lo+bs, len(order))
	n := hi - lo
	d := t.Data
	t.bx = grow(t.bx, n*d.Inputs)
	t.by = grow(t.by, n*d.Outputs)
	for j, i := range order[lo:hi] {
		copy(t.bx[j*d.Inputs:(j+1)*d.Inputs], d.Train.X[i*d.Inputs:(i+1)*d.Inputs])
		copy(t.by[j*d.Outputs:(j+1)*d.Outputs], d.Train.Y[i*d.Outputs:(i+1)*d.Outputs])
	}
	out := t.Model.Forward(t.bx, n)
	loss := t.lossGrad(out, t.by[:n*d.Outputs], n, true)
	t.Model.Backward(t.dOut, n)
	t.regularize()
	lr := spec.LearningRate(t.Spec.Optimizer, t.Spec.Schedule, t.Step)
	t.Opt.Update(t.Model.Params.Data, t.Model.Grads.Data, lr)
	t.Step++
	t.Batch++
	if t.Batch == t.BatchesPerEpoch() {
		t.Epoch++
		t.Batch = 0
	}
	return loss
}

// lossGrad returns the mean loss of out against targets y and, when grad is
// set, writes the gradient w.r.t. the output pre-activation into t.dOut.
func (t *Trainer) lossGrad(out, y []float32, n int, grad bool) float32 {
	k := t.Data.Outputs
	t.lossBuf = grow(t.lossBuf, n)
	if grad {
		t.dOut = grow(t.dOut, n*k)
	}
	inv := 1 / float32(n)
	switch t.Spec.Loss {
	case "bce": // sigmoid output fused: dL/dz = p - t
		z := t.Model.logits
		for i := 0; i < n; i++ {
			// -log(sigmoid(±z)) from the logit, as BCEWithLogitsLoss: the
			// output p itself is exactly 0 or 1 once saturated.
			if y[i] > 0.5 {
				t.lossBuf[i] = softplus(-z[i])
			} else {
				t.lossBuf[i] = softplus(z[i])
			}
			if grad {
				t.dOut[i] = float32((out[i] - y[i]) * inv)
			}
		}
	case "softmax_ce": // softmax output fused: dL/dz = p - onehot
		for i := 0; i < n; i++ {
			p, yt, z := out[i*k:(i+1)*k], y[i*k:(i+1)*k], t.Model.logits[i*k:(i+1)*k]
			for c := range p {
				if yt[c] > 0.5 {
					t.lossBuf[i] = negLogSoftmax(z, c) // as CrossEntropyLoss
				}
				if grad {
					t.dOut[i*k+c] = float32((p[c] - yt[c]) * inv)
				}
			}
		}
	case "mse":
		invK := 1 / float32(k)
		for i := 0; i < n; i++ {
			var s float32
			for c := 0; c < k; c++ {
				e := out[i*k+c] - y[i*k+c]
				s += float32(e * e)
				if grad {
					t.dOut[i*k+c] = float32(float32(2*e) * float32(inv*invK))
				}
			}
			t.lossBuf[i] = float32(s * invK)
		}
		if grad {
			last := t.Model.Layers[len(t.Model.Layers)-1]
			activateGrad(last.Act, t.dOut[:n*k], out[:n*k])
		}
	}
	return float32(sum(t.lossBuf[:n]) * inv)
}

// regularize adds the L1 or L2 penalty's gradient on the weights.
func (t *Trainer) regularize() {
	r := t.Spec.Regularization
	if r.Kind == "none" || r.Rate == 0 {
		return
	}
	rate := float32(r.Rate)
	for _, l := range t.Model.Layers {
		w, g := t.Model.Params.View(l.W), t.Model.Grads.View(l.W)
		for i, v := range w {
			switch {
			case r.Kind == "l2":
				g[i] += float32(rate * v)
			case v > 0:
				g[i] += rate
			case v < 0:
				g[i] -= rate
			}
		}
	}
}

// Metrics are the mean loss and the accuracy (NaN for regression) on a split.
type Metrics struct {
	Loss     float32
	Accuracy float32
}

// Evaluate computes the metrics of the current parameters on a split.
func (t *Trainer) Evaluate(sp *Split) Metrics {
	const chunk = 256
	d := t.Data
	var total, correct float32
	for lo := 0; lo < sp.N; lo += chunk {
		n := min(chunk, sp.N-lo)
		out := t.Model.Forward(sp.X[lo*d.Inputs:], n)
		total += float32(t.lossGrad(out, sp.Y[lo*d.Outputs:(lo+n)*d.Outputs], n, false) * float32(n))
		for i := 0; i < n; i++ {
			if d.Classes == 0 {
				continue
			}
			pred := 0
			if d.Outputs == 1 {
				if out[i] > 0.5 {
					pred = 1
				}
			} else {
				row := out[i*d.Outputs : (i+1)*d.Outputs]
				for c, v := range row {
					if v > row[pred] {
						pred = c
					}
				}
			}
			if float32(pred) == sp.Label[lo+i] {
				correct++
			}
		}
	}
	m := Metrics{Loss: total / float32(max(sp.N, 1))}
	if d.Classes == 0 {
		m.Accuracy = nan32()
	} else {
		m.Accuracy = correct / float32(max(sp.N, 1))
	}
	return m
}

// Predict runs the model on n featurized samples and returns the outputs.
func (t *Trainer) Predict(x []float32, n int) []float32 {
	return slices.Clone(t.Model.Forward(x, n))
}

func nan32() float32 { return float32(math.NaN()) }

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// State is everything a checkpoint holds about training: restoring it into
// a trainer of the same spec continues bit-identically.
type State struct {
	Spec    spec.Spec
	Step    uint64
	Epoch   int
	Batch   int
	RNG     []byte        // the trainer PCG's MarshalBinary
	Tensors []StateTensor // model tensors, then optimizer tensors: file order
}

// StateTensor is one named tensor of a State; exactly one of F32 and I64 is
// set.
type StateTensor struct {
	Name  string
	Shape []int
	F32   []float32
	I64   []int64
}

// Elems is the element count its shape implies.
func (st StateTensor) Elems() int {
	n := 1
	for _, d := range st.Shape {
		n *= d
	}
	return n
}

// arrays lists the float32 arrays of the training state in file order:
// the parameters, then each parameter's optimizer state.
func (t *Trainer) arrays() [][]float32 {
	var out [][]float32
	for _, tn := range t.Model.Tensors {
		out = append(out, t.Model.Params.View(tn))
	}
	for _, tn := range t.Model.Tensors {
		for k := range t.Opt.Names {
			out = append(out, t.Opt.State[k].View(tn))
		}
	}
	return out
}

// State captures a copy of the full training state.
func (t *Trainer) State() State {
	rng, err := t.pcg.MarshalBinary()
	if err != nil {
		panic(err) // PCG's MarshalBinary never fails
	}
	return State{
		Spec:    t.Spec,
		Step:    t.Step,
		Epoch:   t.Epoch,
		Batch:   t.Batch,
		RNG:     rng,
		Tensors: t.tensors(),
	}
}

// tensors copies the state's tensors, named and shaped as its spec's
// Layout.
func (t *Trainer) tensors() []StateTensor {
	lay := t.Spec.Layout()
	arrays := t.arrays()
	out := make([]StateTensor, len(lay))
	for i, st := range lay {
		out[i] = StateTensor{Name: st.Name, Shape: st.Shape}
		if st.Int64 {
			out[i].I64 = []int64{t.Opt.Step}
		} else {
			out[i].F32 = slices.Clone(arrays[i])
		}
	}
	return out
}

// ErrIncompatible marks a state that does not fit a spec.
var ErrIncompatible = errors.New("state does not match spec")

// CheckLayout reports how tensors differ from what spec expects (names,
// order, dtypes, shapes), or nil.
func CheckLayout(s spec.Spec, tensors []StateTensor) error {
	want := s.Layout()
	for i := 0; i < max(len(want), len(tensors)); i++ {
		switch {
		case i >= len(tensors):
			return fmt.Errorf("%w: tensor %s (shape %v) is missing", ErrIncompatible, want[i].Name, want[i].Shape)
		case i >= len(want):
			return fmt.Errorf("%w: unexpected tensor %s", ErrIncompatible, tensors[i].Name)
		}
		w, g := want[i], tensors[i]
		if w.Name != g.Name {
			return fmt.Errorf("%w: tensor %d is %s, spec expects %s", ErrIncompatible, i, g.Name, w.Name)
		}
		if !slices.Equal(w.Shape, g.Shape) {
			return fmt.Errorf("%w: %s has shape %v, spec expects %v", ErrIncompatible, g.Name, g.Shape, w.Shape)
		}
		if w.Int64 != (g.I64 != nil) {
			return fmt.Errorf("%w: %s has the wrong dtype", ErrIncompatible, g.Name)
		}
		n := g.Elems()
		if (g.F32 != nil && len(g.F32) != n) || (g.I64 != nil && len(g.I64) != n) {
			return fmt.Errorf("%w: %s holds the wrong number of values", ErrIncompatible, g.Name)
		}
	}
	return nil
}

// MaxStep is the largest step a state may hold: the largest integer a JSON
// number (the page's protocol, JavaScript) carries exactly, far below where
// optimizer.step (an int64) would wrap.
const MaxStep = 1<<53 - 1

// CheckPosition reports why Restore would refuse a state of spec (normalized)
// at step, epoch and batch with this RNG state, or nil. It needs neither the
// data set nor the model, so a checkpoint's header can be judged alone.
func CheckPosition(s spec.Spec, step uint64, epoch, batch int, rng []byte) error {
	if step > MaxStep {
		return fmt.Errorf("%w: step %d exceeds the largest step %d", ErrIncompatible, step, uint64(MaxStep))
	}
	bpe := batchesPerEpoch(s)
	if batch < 0 || epoch < 0 || batch >= bpe {
		return fmt.Errorf("%w: position epoch %d batch %d is impossible with %d batches per epoch", ErrIncompatible, epoch, batch, bpe)
	}
	if uint64(epoch) != step/uint64(bpe) || uint64(batch) != step%uint64(bpe) {
		return fmt.Errorf("%w: step %d is not epoch %d batch %d (%d batches per epoch)", ErrIncompatible, step, epoch, batch, bpe)
	}
	if err := new(rand.PCG).UnmarshalBinary(rng); err != nil {
		return fmt.Errorf("%w: rng state of %d bytes: %v", ErrIncompatible, len(rng), err)
	}
	return nil
}

// batchesPerEpoch is BatchesPerEpoch from the spec alone: the training
// samples over the batch size, rounded up (at least 1).
func batchesPerEpoch(s spec.Spec) int {
	train := s.Dataset.TrainSamples()
	return max(1, (train+s.BatchSize-1)/max(s.BatchSize, 1))
}

// Restore builds a trainer from a saved state. A state of custom data
// (kind csv) needs RestoreWith.
func Restore(s State) (*Trainer, error) { return RestoreWith(s, nil) }

// RestoreWith is Restore with the table a state of kind csv trains on
// (nil for a generated dataset).
func RestoreWith(s State, data *dataset.Table) (*Trainer, error) {
	t, err := NewTrainerWith(s.Spec, data)
	if err != nil {
		return nil, err
	}
	if err := CheckLayout(t.Spec, s.Tensors); err != nil {
		return nil, err
	}
	if err := CheckPosition(t.Spec, s.Step, s.Epoch, s.Batch, s.RNG); err != nil {
		return nil, err
	}
	if err := t.pcg.UnmarshalBinary(s.RNG); err != nil {
		return nil, fmt.Errorf("%w: rng state: %v", ErrIncompatible, err)
	}
	arrays := t.arrays()
	for i, a := range arrays {
		copy(a, s.Tensors[i].F32)
	}
	i := len(arrays)
	if s.Tensors[i].I64[0] != int64(s.Step) {
		return nil, fmt.Errorf("%w: optimizer.step %d differs from step %d", ErrIncompatible, s.Tensors[i].I64[0], s.Step)
	}
	t.Opt.Step = s.Tensors[i].I64[0]
	t.Step, t.Epoch, t.Batch = s.Step, s.Epoch, s.Batch
	return t, nil
}
