package engine

import (
	"playground/internal/mathf"
	"playground/spec"
)

// Optimizer updates the parameter arena from the gradient arena in one loop
// over the whole arena, whatever the architecture. Its state lives in arenas
// of the same layout, saved as PyTorch names them.
type Optimizer struct {
	spec  spec.OptimizerSpec
	Step  int64    // number of updates applied (PyTorch's state "step")
	State []Arena  // per-parameter state buffers, each len(params)
	Names []string // PyTorch's name of each state buffer
}

// NewOptimizer allocates the state of spec's optimizer for n parameters.
func NewOptimizer(s spec.OptimizerSpec, n int) *Optimizer {
	o := &Optimizer{spec: s, Names: s.StateNames()}
	for range o.Names {
		o.State = append(o.State, Arena{Data: make([]float32, n)})
	}
	return o
}

// Update applies one step with learning rate lr to every parameter.
func (o *Optimizer) Update(p, g []float32, lr float32) {
	o.Step++
	s := o.spec
	g = g[:len(p)]
	switch s.Kind {
	case "sgd":
		wd := float32(s.WeightDecay)
		if s.Momentum == 0 {
			for i := range p {
				gi := g[i]
				if wd != 0 {
					gi += float32(wd * p[i])
				}
				p[i] -= float32(lr * gi)
			}
			return
		}
		mu := float32(s.Momentum)
		v := o.State[0].Data[:len(p)]
		first := o.Step == 1
		for i := range p {
			gi := g[i]
			if wd != 0 {
				gi += float32(wd * p[i])
			}
			if first { // PyTorch starts the buffer at the first gradient
				v[i] = gi
			} else {
				v[i] = mul(mu, v[i]) + gi
			}
			if s.Nesterov {
				gi += mul(mu, v[i])
			} else {
				gi = v[i]
			}
			p[i] -= float32(lr * gi)
		}
	case "adam", "adamw":
		b1, b2 := float32(s.Beta1), float32(s.Beta2)
		eps, wd := float32(s.Eps), float32(s.WeightDecay)
		bc1 := 1 - mathf.Powi(b1, uint64(o.Step))
		bc2 := 1 - mathf.Powi(b2, uint64(o.Step))
		stepSize := lr / bc1
		sqrtBC2 := Sqrt(bc2)
		m, v := o.State[0].Data[:len(p)], o.State[1].Data[:len(p)]
		decoupled := s.Kind == "adamw"
		for i := range p {
			gi := g[i]
			if wd != 0 {
				if decoupled {
					p[i] -= float32(float32(lr*wd) * p[i])
				} else {
					gi += float32(wd * p[i])
				}
			}
			m[i] = mul(b1, m[i]) + mul(1-b1, gi)
			v[i] = mul(b2, v[i]) + mul(mul(1-b2, gi), gi)
			denom := div(Sqrt(v[i]), sqrtBC2) + eps
			p[i] -= mul(stepSize, div(m[i], denom))
		}
	case "rmsprop":
		a, eps, wd := float32(s.Alpha), float32(s.Eps), float32(s.WeightDecay)
		v := o.State[0].Data[:len(p)]
		for i := range p {
			gi := g[i]
			if wd != 0 {
				gi += float32(wd * p[i])
			}
			v[i] = mul(a, v[i]) + mul(mul(1-a, gi), gi)
			p[i] -= mul(lr, div(gi, Sqrt(v[i])+eps))
		}
	}
}

// mul and div are a float32 product and quotient computed in float64 and
// rounded once to float32: the same bits as the float32 operation (the
// product of two float32 is exact in float64, and a quotient rounded to
// float64 and then to float32 is still correctly rounded, as 53 >= 2·24+2),
// but where an operand or the result is subnormal, x86's float32 multiply
// and divide take a microcode assist of about 100 ns, and these do not.
// The optimizers' state needs them: where a gradient is zero for good (a
// dead ReLU unit) Adam's and momentum's buffers decay geometrically into
// the subnormals and stay there, which made every step of W2 four times
// slower after 700 steps. (The conversion also keeps the product from
// fusing with an add.)
func mul(a, b float32) float32 { return float32(float64(a) * float64(b)) }

func div(a, b float32) float32 { return float32(float64(a) / float64(b)) }
