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
func NewOptimizer(os spec.OptimizerSpec, n int) *Optimizer {
	o := &Optimizer{spec: os, Names: os.StateNames()}
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
				v[i] = float32(mu*v[i]) + gi
			}
			if s.Nesterov {
				gi += float32(mu * v[i])
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
			m[i] = float32(b1*m[i]) + float32((1-b1)*gi)
			v[i] = float32(b2*v[i]) + float32(float32((1-b2)*gi)*gi)
			denom := Sqrt(v[i])/sqrtBC2 + eps
			p[i] -= float32(stepSize * (m[i] / denom))
		}
	case "rmsprop":
		a, eps, wd := float32(s.Alpha), float32(s.Eps), float32(s.WeightDecay)
		v := o.State[0].Data[:len(p)]
		for i := range p {
			gi := g[i]
			if wd != 0 {
				gi += float32(wd * p[i])
			}
			v[i] = float32(a*v[i]) + float32(float32((1-a)*gi)*gi)
			p[i] -= float32(lr * (gi / (Sqrt(v[i]) + eps)))
		}
	}
}
