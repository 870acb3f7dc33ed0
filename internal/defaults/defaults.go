// Package defaults fills the unset fields of an options struct from its
// defaults, the one rule the packages' New functions share.
package defaults

import "cmp"

// Positive sets *v to def when *v is zero or negative: a size, count,
// duration or share left unset (or set to nonsense) takes the default.
func Positive[T cmp.Ordered](v *T, def T) {
	var zero T
	if *v <= zero {
		*v = def
	}
}
