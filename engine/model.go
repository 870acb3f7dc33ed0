package engine

import (
	"math/rand/v2"

	"playground/spec"
)

// Tensor is a named view into an arena: Data[Off:Off+Len] with a row-major
// shape. Names are PyTorch's, used when a checkpoint is written or read.
type Tensor struct {
	Name  string
	Shape []int
	Off   int
	Len   int
}

// Arena is one contiguous float32 buffer that tensors are views into
// (llm.c's layout): a checkpoint is one copy, an optimizer step one loop.
type Arena struct {
	Data []float32
}

// View returns the tensor's slice of the arena.
func (a *Arena) View(t Tensor) []float32 { return a.Data[t.Off : t.Off+t.Len] }

// activation kinds; applied after each dense layer.
const (
	actLinear = iota
	actTanh
	actSigmoid
	actReLU
	actLeakyReLU
	actSoftmax
)

var activations = map[string]int{
	"linear": actLinear, "tanh": actTanh, "sigmoid": actSigmoid,
	"relu": actReLU, "leaky_relu": actLeakyReLU, "softmax": actSoftmax,
}

// leakySlope is the negative slope of leaky ReLU (PyTorch's default).
const leakySlope = float32(0.01)

// Layer is one dense layer y = act(x Wᵀ + b), W of shape (out, in).
type Layer struct {
	In, Out int
	Act     int
	W, B    Tensor
}

// Model is a multilayer perceptron over one parameter arena and one
// gradient arena of the same layout.
type Model struct {
	Layers  []Layer
	Params  Arena
	Grads   Arena
	Tensors []Tensor // parameter views in arena order

	// scratch, sized for the largest batch seen
	acts  [][]float32 // acts[0] = the caller's input, acts[i+1] = output of layer i
	delta [][]float32 // gradient w.r.t. the pre-activation of each layer
	mm    MatMul      // every product of Forward and Backward

	// logits is the output layer's pre-activation (bias added) of the last
	// Forward when that layer is a sigmoid or a softmax: the losses read
	// it, since the output saturates to exactly 0 or 1.
	logits []float32
}

// NewModel lays out the parameters of spec's network, uninitialised.
func NewModel(inputs int, ms spec.ModelSpec) *Model {
	m, n := layOut(inputs, ms)
	m.Params.Data = make([]float32, n)
	m.Grads.Data = make([]float32, n)
	return m
}

// layOut lays out the layers of ms and their tensor views (named and
// shaped as ms.Params says) without allocating the arenas, and returns the
// arenas' length.
func layOut(inputs int, ms spec.ModelSpec) (*Model, int) {
	m := &Model{}
	off, in := 0, inputs
	params := ms.Params(inputs)
	view := func(p spec.Tensor) Tensor {
		t := Tensor{Name: p.Name, Shape: p.Shape, Off: off, Len: p.Elems()}
		off += t.Len
		return t
	}
	for i, ls := range ms.Layers {
		l := Layer{In: in, Out: ls.Units, Act: activations[ls.Activation]}
		l.W = view(params[2*i])
		l.B = view(params[2*i+1])
		m.Layers = append(m.Layers, l)
		m.Tensors = append(m.Tensors, l.W, l.B)
		in = ls.Units
	}
	return m, off
}

// Init fills the weights uniformly in ±sqrt(6/(in+out)) (Glorot) and the
// biases with zeros, drawing from r in arena order.
func (m *Model) Init(r *rand.Rand) {
	for _, l := range m.Layers {
		limit := Sqrt(float32(6) / float32(l.In+l.Out))
		w := m.Params.View(l.W)
		for i := range w {
			w[i] = float32((float32(2*rand01(r)) - 1) * limit)
		}
		clear(m.Params.View(l.B))
	}
}

// NumParams is the number of float32 parameters.
func (m *Model) NumParams() int { return len(m.Params.Data) }

func (m *Model) ensure(n int) {
	if len(m.acts) > 0 && len(m.acts[1]) >= n*m.Layers[0].Out {
		return
	}
	m.acts = make([][]float32, len(m.Layers)+1)
	m.delta = make([][]float32, len(m.Layers)-1) // the last layer's is the caller's dOut
	for i, l := range m.Layers {
		m.acts[i+1] = make([]float32, n*l.Out)
		if i < len(m.delta) {
			m.delta[i] = make([]float32, n*l.Out)
		}
	}
}

// Forward runs n samples of x (n × inputs, row-major) through the network
// and returns the outputs (n × outputs), valid until the next call.
func (m *Model) Forward(x []float32, n int) []float32 {
	m.ensure(n)
	m.acts[0] = x[:n*m.Layers[0].In] // read in place: the caller keeps x until Backward
	for i := range m.Layers {
		l := &m.Layers[i]
		in, out := m.acts[i][:n*l.In], m.acts[i+1][:n*l.Out]
		m.mm.NT(out, in, m.Params.View(l.W), n, l.Out, l.In)
		if i == len(m.Layers)-1 && (l.Act == actSigmoid || l.Act == actSoftmax) {
			addRows(out, m.Params.View(l.B))
			m.logits = append(m.logits[:0], out...)
			applyAct(l.Act, out, l.Out)
			continue
		}
		activate(l.Act, out, m.Params.View(l.B))
	}
	return m.acts[len(m.Layers)][:n*m.Layers[len(m.Layers)-1].Out]
}

// Activations returns the output of layer i (n × its units, after the
// activation) of the last Forward over n samples, valid until the next
// call. It only reads what Forward kept: the pictures of the page's
// network panel come from it.
func (m *Model) Activations(i, n int) []float32 {
	return m.acts[i+1][:n*m.Layers[i].Out]
}

// Backward takes dOut, the loss gradient w.r.t. the last layer's
// pre-activation (n × outputs; the loss fuses the output activation), and
// writes the parameter gradients into Grads. Forward must have run on the
// same n samples, whose input Backward reads again.
func (m *Model) Backward(dOut []float32, n int) {
	last := len(m.Layers) - 1
	for i := last; i >= 0; i-- {
		l := &m.Layers[i]
		var d []float32
		if i == last {
			d = dOut[:n*l.Out] // only read: no delta of its own
		} else {
			d = m.delta[i][:n*l.Out]
		}
		x := m.acts[i][:n*l.In]
		// dW = dᵀ x (out × in), each element a sum over the batch.
		m.mm.TN(m.Grads.View(l.W), d, x, l.Out, l.In, n)
		sumRows(m.Grads.View(l.B), d, n)
		if i == 0 {
			break
		}
		// dX = d W (n × in), then through the previous activation.
		prev := m.delta[i-1][:n*l.In]
		m.mm.NN(prev, d, m.Params.View(l.W), n, l.In, l.Out)
		activateGrad(m.Layers[i-1].Act, prev, m.acts[i][:n*l.In])
	}
}

// activate adds the bias to every row of a, then applies the activation.
func activate(act int, a, bias []float32) {
	if act == actTanh {
		tanhRows(a, bias) // adds the bias itself
		return
	}
	addRows(a, bias)
	applyAct(act, a, len(bias))
}

// applyAct applies activation act (not tanh) to a, rows of cols values
// that already hold the bias.
func applyAct(act int, a []float32, cols int) {
	switch act {
	case actSigmoid:
		sigmoids(a)
	case actReLU:
		relus(a)
	case actLeakyReLU:
		for i, v := range a {
			if v < 0 {
				a[i] = float32(v * leakySlope)
			}
		}
	case actSoftmax:
		for r := 0; r+cols <= len(a); r += cols {
			row := a[r : r+cols]
			mx := row[0]
			for _, v := range row[1:] {
				mx = max(mx, v)
			}
			var s float32
			for i, v := range row {
				row[i] = Exp(v - mx)
				s += row[i]
			}
			for i := range row {
				row[i] /= s
			}
		}
	}
}

// activateGrad multiplies d by the activation's derivative, expressed
// through the activation's output y.
func activateGrad(act int, d, y []float32) {
	switch act {
	case actTanh:
		tanhGrads(d, y)
	case actSigmoid:
		for i, v := range y {
			d[i] = float32(d[i] * float32(v*(1-v)))
		}
	case actReLU:
		reluGrads(d, y)
	case actLeakyReLU:
		for i, v := range y {
			if v < 0 {
				d[i] = float32(d[i] * leakySlope)
			}
		}
	case actSoftmax:
		panic("engine: softmax is only an output activation")
	}
}
