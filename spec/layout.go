package spec

import (
	"fmt"
	"slices"
)

// Tensor is one tensor of a training state of a spec: its name (as
// PyTorch names it), its shape and its dtype.
type Tensor struct {
	Name  string
	Shape []int
	Int64 bool // optimizer.step; every other tensor is float32
}

// Elems is the element count of the shape.
func (t Tensor) Elems() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Params lists the model's parameter tensors in their arena order, for
// inputs inputs: layer i is module 2i of a torch.nn.Sequential of Linear
// and activation modules (nn.Identity for linear), its weight of shape
// (units, inputs of the layer), then its bias.
func (m ModelSpec) Params(inputs int) []Tensor {
	out := make([]Tensor, 0, 2*len(m.Layers))
	in := inputs
	for i, l := range m.Layers {
		out = append(out,
			Tensor{Name: fmt.Sprintf("layers.%d.weight", 2*i), Shape: []int{l.Units, in}},
			Tensor{Name: fmt.Sprintf("layers.%d.bias", 2*i), Shape: []int{l.Units}})
		in = l.Units
	}
	return out
}

// StateNames are PyTorch's names of the optimizer's state buffers, each
// of the shape of the parameter it belongs to.
func (o OptimizerSpec) StateNames() []string {
	switch o.Kind {
	case "sgd":
		if o.Momentum != 0 {
			return []string{"momentum_buffer"}
		}
	case "adam", "adamw":
		return []string{"exp_avg", "exp_avg_sq"}
	case "rmsprop":
		return []string{"square_avg"}
	}
	return nil
}

// Layout lists the tensors a training state of s holds, in file order:
// the parameters, then for each parameter its optimizer state
// ("optimizer.<parameter>.<state>"), then the optimizer's step counter
// ("optimizer.step", a scalar). s must be normalized.
func (s Spec) Layout() []Tensor {
	params := s.Model.Params(s.Inputs())
	names := s.Optimizer.StateNames()
	out := make([]Tensor, 0, len(params)*(1+len(names))+1)
	out = append(out, params...)
	for _, p := range params {
		for _, name := range names {
			out = append(out, Tensor{Name: "optimizer." + p.Name + "." + name, Shape: slices.Clone(p.Shape)})
		}
	}
	return append(out, Tensor{Name: "optimizer.step", Shape: []int{}, Int64: true})
}
