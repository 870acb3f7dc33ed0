//go:build unix

package disk

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockRun takes the run directory's lock file (flock), so that commits of
// two processes (say `playground serve` and `playground train` on one
// directory) exclude each other too, and CheckHead stays a compare-and-swap.
func (s *Store) lockRun(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFn), os.O_RDWR|os.O_CREATE, s.opt.FileMode)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}
