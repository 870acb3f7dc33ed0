package spec

import "playground/internal/mathf"

// LearningRate returns the schedule's learning rate for the update that
// follows `step` completed steps.
func LearningRate(o OptimizerSpec, sc ScheduleSpec, step uint64) float32 {
	lr := float32(o.LR)
	switch sc.Kind {
	case "step":
		return float32(lr * mathf.Powi(float32(sc.Gamma), step/uint64(sc.StepSize)))
	case "cosine":
		if step < uint64(sc.Warmup) {
			return float32(lr*float32(step+1)) / float32(sc.Warmup)
		}
		span := uint64(sc.Total - sc.Warmup)
		done := min(step-uint64(sc.Warmup), span)
		progress := float32(done) / float32(span)
		minLR := float32(sc.MinLR)
		c := float32(0.5 * (1 + mathf.Cos(float32(3.1415927*progress))))
		return minLR + float32((lr-minLR)*c)
	}
	return lr
}
