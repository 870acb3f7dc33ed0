package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"playground/spec"
)

func digitsRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, streamData)) }

// digitsHash is the SHA-256 of the pixels and labels as little-endian bits.
func digitsHash(px, labels []float32) string {
	h := sha256.New()
	var b [4]byte
	for _, s := range [][]float32{px, labels} {
		for _, v := range s {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeDigitsPNG writes images (784 pixels each) as a grid of cols columns,
// each pixel drawn as a zoom × zoom block, white ink on black.
func writeDigitsPNG(path string, px []float32, cols, zoom int) error {
	n := len(px) / digitPixels
	rows := (n + cols - 1) / cols
	cell := spec.DigitSize*zoom + 2
	img := image.NewGray(image.Rect(0, 0, cols*cell, rows*cell))
	for i := range img.Pix {
		img.Pix[i] = 96 // grid lines
	}
	for k := 0; k < n; k++ {
		ox, oy := (k%cols)*cell+1, (k/cols)*cell+1
		for y := 0; y < spec.DigitSize*zoom; y++ {
			for x := 0; x < spec.DigitSize*zoom; x++ {
				v := px[k*digitPixels+(y/zoom)*spec.DigitSize+x/zoom]
				img.SetGray(ox+x, oy+y, color.Gray{Y: uint8(math.Round(float64(v) * 255))})
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TestDigitsPNG is a debugging aid, not a check: with DIGITS_PNG=path it
// writes a 10×10 grid of samples (digit d in column d) to path, and is
// skipped silently otherwise. DIGITS_NOISE sets the noise (default 0),
// DIGITS_SEED the seed (default 1), DIGITS_ROWS the number of rows (default 10).
func TestDigitsPNG(t *testing.T) {
	path := os.Getenv("DIGITS_PNG")
	if path == "" {
		t.SkipNow()
	}
	noise, seed, rows := 0.0, uint64(1), 10
	var err error
	if s := os.Getenv("DIGITS_NOISE"); s != "" {
		if noise, err = strconv.ParseFloat(s, 32); err != nil {
			t.Fatal(err)
		}
	}
	if s := os.Getenv("DIGITS_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	if s := os.Getenv("DIGITS_ROWS"); s != "" {
		if rows, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	px, _ := GenDigits(digitsRNG(seed), 10*rows, float32(noise))
	if err := writeDigitsPNG(path, px, 10, 3); err != nil {
		t.Fatal(err)
	}
}

func TestGenDigitsDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name         string
		seedA, seedB uint64
		noise        float32
		same         bool
	}{
		{"same seed, clean", 1, 1, 0, true},
		{"same seed, noisy", 42, 42, 0.7, true},
		{"other seed, clean", 1, 2, 0, false},
		{"other seed, noisy", 1, 2, 0.7, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa, la := GenDigits(digitsRNG(tc.seedA), 200, tc.noise)
			pb, lb := GenDigits(digitsRNG(tc.seedB), 200, tc.noise)
			if got := digitsHash(pa, la) == digitsHash(pb, lb); got != tc.same {
				t.Fatalf("identical = %v, want %v", got, tc.same)
			}
		})
	}
}

// TestGenDigitsGolden pins the exact bits. The same hash must come out on
// amd64, arm64 and wasm (GOOS=js GOARCH=wasm go test ./engine). Changing the
// renderer changes every digits dataset, and so every run's data; update the
// hash only deliberately.
func TestGenDigitsGolden(t *testing.T) {
	const want = "66bc1c2d64f9756138e7d4c3c4d21de904a16af4518488eafa3b4e2dc72736f2"
	px, labels := GenDigits(digitsRNG(20240601), 300, 0.4)
	if got := digitsHash(px, labels); got != want {
		t.Fatalf("hash = %s, want %s", got, want)
	}
}

func TestGenDigitsRangeAndLabels(t *testing.T) {
	for _, tc := range []struct {
		n     int
		noise float32
	}{{0, 0}, {1, 0}, {10, 1}, {1000, 0}, {1000, 0.3}, {1000, 1}} {
		px, labels := GenDigits(digitsRNG(3), tc.n, tc.noise)
		if len(px) != tc.n*spec.DigitSize*spec.DigitSize || len(labels) != tc.n {
			t.Fatalf("n=%d: got %d pixels, %d labels", tc.n, len(px), len(labels))
		}
		for j, v := range px {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("n=%d noise=%v: pixel %d = %v outside [0, 1]", tc.n, tc.noise, j, v)
			}
		}
		var count [10]int
		for i, l := range labels {
			if l != float32(int(l)) || l < 0 || l > 9 {
				t.Fatalf("label %d = %v is not a class 0..9", i, l)
			}
			count[int(l)]++
		}
		for c, k := range count {
			if k < tc.n/10 || k > (tc.n+9)/10 {
				t.Errorf("n=%d: class %d has %d images, want n/10", tc.n, c, k)
			}
		}
	}
}

// Clean images have a black background, real ink, and leave the outermost
// pixels blank.
func TestGenDigitsInk(t *testing.T) {
	px, labels := GenDigits(digitsRNG(5), 2000, 0)
	for i := range labels {
		img := px[i*digitPixels : (i+1)*digitPixels]
		var ink, border, maxv float32
		zeros := 0
		for j, v := range img {
			ink += v
			maxv = max(maxv, v)
			if v == 0 {
				zeros++
			}
			if x, y := j%spec.DigitSize, j/spec.DigitSize; x == 0 || y == 0 || x == spec.DigitSize-1 || y == spec.DigitSize-1 {
				border += v
			}
		}
		if maxv < 0.99 || ink < 20 || ink > 300 {
			t.Fatalf("image %d (digit %v): max %v, total ink %v", i, labels[i], maxv, ink)
		}
		if zeros < digitPixels/2 {
			t.Fatalf("image %d (digit %v): only %d background pixels", i, labels[i], zeros)
		}
		if border != 0 {
			t.Fatalf("image %d (digit %v): %v ink on the border", i, labels[i], border)
		}
	}
}

func TestGenDigitsNoise(t *testing.T) {
	clean, _ := GenDigits(digitsRNG(9), 100, 0)
	noisy, _ := GenDigits(digitsRNG(9), 100, 1)
	zeros := func(px []float32) (k int) {
		for _, v := range px {
			if v == 0 {
				k++
			}
		}
		return k
	}
	if digitsHash(clean, nil) == digitsHash(noisy, nil) {
		t.Fatal("noise 0 and noise 1 give the same pixels")
	}
	// Noise 1 adds uniform(-0.5, 0.5): about half of the background turns grey.
	zc, zn := zeros(clean), zeros(noisy)
	if zn > zc*3/4 || zn < zc/4 {
		t.Fatalf("background pixels: %d clean, %d noisy", zc, zn)
	}
}

// digitsClassMeans returns the mean image of each class.
func digitsClassMeans(px, labels []float32) [10][]float32 {
	var means [10][]float32
	var count [10]float32
	for c := range means {
		means[c] = make([]float32, digitPixels)
	}
	for i, l := range labels {
		c := int(l)
		count[c]++
		for j, v := range px[i*digitPixels : (i+1)*digitPixels] {
			means[c][j] += v
		}
	}
	for c := range means {
		for j := range means[c] {
			means[c][j] /= count[c]
		}
	}
	return means
}

func digitsDist2(a, b []float32) float64 {
	var s float64
	for j := range a {
		d := float64(a[j] - b[j])
		s += d * d
	}
	return s
}

// The classes are distinguishable: a nearest-class-mean classifier fitted on
// one sample labels a fresh sample far better than chance, and images are
// closer to their own class's mean than to the others on average.
func TestGenDigitsClassesDistinct(t *testing.T) {
	for _, tc := range []struct {
		noise  float32
		minAcc float64
	}{{0, 0.6}, {0.3, 0.6}, {1, 0.6}} {
		train, trainLabels := GenDigits(digitsRNG(11), 2000, tc.noise)
		test, testLabels := GenDigits(digitsRNG(12), 1000, tc.noise)
		means := digitsClassMeans(train, trainLabels)
		for a := 0; a < 10; a++ {
			for b := a + 1; b < 10; b++ {
				if d := digitsDist2(means[a], means[b]); d < 1 {
					t.Errorf("noise %v: mean images of %d and %d nearly equal (dist² %.3f)", tc.noise, a, b, d)
				}
			}
		}
		correct := 0
		var own, other float64
		for i, l := range testLabels {
			img := test[i*digitPixels : (i+1)*digitPixels]
			best, bestD := -1, math.Inf(1)
			for c := range means {
				d := digitsDist2(img, means[c])
				if d < bestD {
					best, bestD = c, d
				}
				if c == int(l) {
					own += d
				} else {
					other += d / 9
				}
			}
			if best == int(l) {
				correct++
			}
		}
		acc := float64(correct) / float64(len(testLabels))
		t.Logf("noise %v: nearest-mean accuracy %.3f, mean dist² own class %.1f, other classes %.1f",
			tc.noise, acc, own/1000, other/1000)
		if acc < tc.minAcc {
			t.Errorf("noise %v: nearest-mean accuracy %.3f, want > %.2f", tc.noise, acc, tc.minAcc)
		}
		if own >= other {
			t.Errorf("noise %v: images are not closer to their own class mean", tc.noise)
		}
	}
}

func BenchmarkGenDigits2000(b *testing.B) {
	for _, noise := range []float32{0, 0.5} {
		b.Run("noise="+strconv.FormatFloat(float64(noise), 'g', -1, 32), func(b *testing.B) {
			for b.Loop() {
				GenDigits(digitsRNG(1), 2000, noise)
			}
		})
	}
}
