package ui

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Commas formats n with thousands separators ("12,480").
func Commas(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Fixed formats v with d decimals ("–" for NaN).
func Fixed(v float64, d int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

// tickLabel formats a loss on the chart's axis in at most about 7
// characters: 3 decimals, or 3 significant digits with an exponent for
// the huge losses of a diverging run.
func tickLabel(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return Fixed(v, 3)
}

// Opt formats an optional value with d decimals.
func Opt(v *float64, d int) string {
	if v == nil {
		return "–"
	}
	return Fixed(*v, d)
}

// Percent formats an optional fraction as a percentage.
func Percent(v *float64) string {
	if v == nil {
		return "–"
	}
	return Fixed(100**v, 1) + "%"
}

// Num formats a setting compactly ("0.003", "1e-05").
func Num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Ago says how long ago, as the status line does ("3 s", "2 min 5 s").
func Ago(d time.Duration) string {
	s := int(max(d, 0).Round(time.Second) / time.Second)
	if s < 60 {
		return fmt.Sprintf("%d s", s)
	}
	return fmt.Sprintf("%d min %d s", s/60, s%60)
}

// Clock formats an RFC 3339 time as a local clock time.
func Clock(rfc string) string {
	t, err := time.Parse(time.RFC3339Nano, rfc)
	if err != nil {
		return ""
	}
	return t.Local().Format("15:04:05")
}

// Size formats a byte count.
func Size(n int64) string {
	switch {
	case n >= 1<<20:
		return Fixed(float64(n)/(1<<20), 1) + " MB"
	case n > 0:
		return Fixed(float64(n)/1024, 1) + " KB"
	}
	return ""
}
