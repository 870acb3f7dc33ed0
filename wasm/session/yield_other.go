//go:build !js

package session

import "runtime"

func defaultYield() { runtime.Gosched() }
