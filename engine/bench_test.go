package engine

import "testing"

// BenchmarkTrainStep reports training steps per second for every preset.
func BenchmarkTrainStep(b *testing.B) {
	for _, name := range PresetNames() {
		b.Run(name, func(b *testing.B) {
			tr, err := NewTrainer(mustPreset(b, name))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.TrainStep()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}

// BenchmarkMatMul is W3: 256×256 by 256×256 in float32.
func BenchmarkMatMul(b *testing.B) {
	const n = 256
	x, y, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range x {
		x[i], y[i] = float32(i%7)*0.1, float32(i%5)*0.2
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		MatMulNT(c, x, y, n, n, n)
	}
	b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
