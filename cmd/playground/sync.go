package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"playground/persist"
	"playground/persist/disk"
	"playground/persist/remote"
)

// parseMixed parses flags given before, between or after positional
// arguments (push DIR --server URL) and returns the positional ones.
func parseMixed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// remoteStore opens the server at base with the token from the flag or
// the environment.
func remoteStore(base, token string) (*remote.Store, error) {
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	opt := remote.NewOptions()
	opt.Token = token
	return remote.New(base, opt)
}

// localRun resolves DIR (a store directory or a run directory in one) and
// an optional run (--run) to the store and the run, opening the store.
// A store directory that holds several runs and no run picked is an error
// that ends with hint (how to pick one).
func localRun(ctx context.Context, dir, run, hint string) (*disk.Store, string, error) {
	storeDir, dirRun := splitRunDir(dir)
	if dirRun != "" {
		if run != "" && run != dirRun {
			return nil, "", fmt.Errorf("%s is the directory of run %s, not of run %s", dir, dirRun, run)
		}
		run = dirRun
	} else if fi, err := os.Stat(dir); err != nil {
		return nil, "", err
	} else if !fi.IsDir() {
		return nil, "", fmt.Errorf("%s is not a directory", dir)
	} else if run != "" {
		if err := persist.CheckIDs(run); err != nil {
			return nil, "", err
		}
	}
	store, err := disk.New(storeDir, disk.NewOptions())
	if err != nil {
		return nil, "", err
	}
	if run != "" {
		return store, run, nil
	}
	runs, err := store.Runs(ctx)
	if err != nil {
		return nil, "", err
	}
	switch len(runs) {
	case 0:
		return nil, "", fmt.Errorf("%s: no checkpoints", dir)
	case 1:
		return store, runs[0], nil
	}
	return nil, "", fmt.Errorf("%s holds %d runs (%s): %s", dir, len(runs), strings.Join(runs, ", "), hint)
}

// splitRunDir splits a run directory (<store>/<run>) into its store
// directory and run; any other directory is a store directory, run "".
func splitRunDir(dir string) (storeDir, run string) {
	if isRunDir(dir) {
		return filepath.Dir(dir), filepath.Base(dir)
	}
	return dir, ""
}

func cmdPush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("push", stderr)
	server := fs.String("server", "", "the server's base URL (http://host:port)")
	run := fs.String("run", "", "the run to push (needed when DIR holds several)")
	token := fs.String("token", "", "bearer token (default $"+tokenEnv+")")
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *server == "" {
		return exitError{code: 2, msg: "usage: playground push DIR --server URL [--run ID] [--token T]"}
	}
	local, runID, err := localRun(ctx, pos[0], *run, "pick one with --run")
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	rs, err := remoteStore(*server, *token)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	warn := func(id string, err error) {
		warnSkipped(stderr, local.Path(runID, id), err)
	}
	done := func(c persist.Info) { fmt.Fprintf(stderr, "pushed %s (step %d)\n", c.ID, c.Step) }
	r, err := remote.Push(ctx, rs, local, runID, warn, done)
	for _, d := range r.Datasets {
		if d.New {
			fmt.Fprintf(stderr, "pushed dataset %s (%d bytes)\n", d.Dataset, d.Size)
		} else {
			fmt.Fprintf(stderr, "dataset %s already on the server\n", d.Dataset)
		}
	}
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	fmt.Fprintf(stderr, "run %s: %d checkpoints pushed, %d already on the server; the server's head is %s\n", runID, r.Pushed, r.Had, r.Head)
	fmt.Fprintln(stdout, rs.RunURL(runID))
	return nil
}

func cmdPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pull", stderr)
	out := fs.String("out", "data", "store directory to pull into (the run lands in OUT/RUN)")
	token := fs.String("token", "", "bearer token (default $"+tokenEnv+")")
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return exitError{code: 2, msg: "usage: playground pull URL/api/runs/ID [--out DIR] [--token T]"}
	}
	base, run, err := remote.ParseRunURL(pos[0])
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	rs, err := remoteStore(base, *token)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	local, err := disk.New(*out, disk.NewOptions())
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	infos, err := rs.Checkpoints(ctx, run)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	if len(infos) == 0 {
		return fmt.Errorf("pull: run %s has no checkpoints on %s", run, base)
	}
	head := ""
	for _, c := range infos {
		if c.Head {
			head = c.ID
		}
	}
	p, err := pullAll(ctx, rs, local, run, infos, head, stderr)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	last := head
	if p.headBad || head == "" {
		// The newest valid checkpoint up to the head stands in for it.
		if last = p.lastGood; last == "" {
			return fmt.Errorf("pull: run %s has no valid checkpoint on %s", run, base)
		}
		if p.headBad {
			fmt.Fprintf(stderr, "the server's head %s does not restore: the local head is %s, the newest valid checkpoint before it\n", head, last)
			if err := setLocalHead(ctx, local, run, last); err != nil {
				return fmt.Errorf("pull: %w", err)
			}
		}
	}
	names, err := runDatasets(ctx, local, run)
	if err == nil {
		err = pullData(ctx, rs, local, names, stderr)
	}
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	fmt.Fprintf(stderr, "run %s: %d checkpoints pulled, %d already here, %d damaged; head %s\n", run, p.pulled, p.had, p.bad, head)
	fmt.Fprintln(stdout, local.Path(run, last))
	return nil
}

// pulled counts what pullAll did.
type pulled struct {
	pulled, had, bad int
	headBad          bool   // the server's head did not verify
	lastGood         string // the newest valid checkpoint up to the head (or of all, without one)
}

// pullAll copies the run's checkpoints the local store lacks, verifying
// each, and makes head (if valid) the local head.
func pullAll(ctx context.Context, rs *remote.Store, local *disk.Store, run string, infos []remote.CheckpointInfo, head string, stderr io.Writer) (pulled, error) {
	var p pulled
	pastHead := false
	for _, c := range infos {
		if localChecksum(ctx, local, run, c.ID) == c.Checksum && c.Checksum != "" {
			p.had++
			if c.ID == head {
				if err := setLocalHead(ctx, local, run, head); err != nil {
					return p, err
				}
			}
		} else {
			err := pullOne(ctx, rs, local, run, c.ID, c.ID == head)
			var defect *defectError
			switch {
			case errors.As(err, &defect):
				p.bad++
				p.headBad = p.headBad || c.ID == head
				warnSkipped(stderr, c.ID+" on the server", defect.err)
				pastHead = pastHead || c.ID == head
				continue
			case err != nil:
				return p, err
			}
			p.pulled++
		}
		if !pastHead {
			p.lastGood = c.ID
		}
		pastHead = pastHead || c.ID == head
	}
	return p, nil
}

type defectError struct{ err error }

func (e *defectError) Error() string { return e.err.Error() }

// pullOne streams a checkpoint from the server into the local store,
// verifying it on the way: a damaged one is not stored.
func pullOne(ctx context.Context, rs *remote.Store, local *disk.Store, run, id string, head bool) error {
	rc, err := rs.Get(ctx, run, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	v := persist.NewVerifyReader(rc)
	err = local.Put(ctx, run, id, v, persist.PutOptions{SetHead: head})
	if v.Defect() != nil {
		return &defectError{v.Defect()}
	}
	return err
}

// localChecksum is the checksum a local checkpoint's header states, ""
// if there is none or it cannot be read.
func localChecksum(ctx context.Context, s persist.Store, run, id string) string {
	info, err := persist.ReadInfo(ctx, s, run, id)
	if err != nil {
		return ""
	}
	return info.Checksum
}

// setLocalHead makes an already stored checkpoint the local run's head.
func setLocalHead(ctx context.Context, s persist.Store, run, id string) error {
	if h, err := s.Head(ctx, run); err == nil && h == id {
		return nil
	}
	b, err := persist.ReadAll(ctx, s, run, id)
	if err != nil {
		return err
	}
	return s.Put(ctx, run, id, bytes.NewReader(b), persist.PutOptions{SetHead: true})
}

// serverRun is a server's run that train continues: each checkpoint goes
// back to the server, moving its head from the head last seen.
type serverRun struct {
	store *remote.Store
	run   string
	head  string // "" while the run has no head
}

// isURL reports whether a --resume argument names a server's run.
func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// openServerRun loads the head of a server's run (its newest valid
// checkpoint if it has no head) to resume from.
func openServerRun(ctx context.Context, url, token string, stderr io.Writer) (*resumed, error) {
	base, run, err := remote.ParseRunURL(url)
	if err != nil {
		return nil, err
	}
	rs, err := remoteStore(base, token)
	if err != nil {
		return nil, err
	}
	head, err := rs.Head(ctx, run)
	var c *persist.Checkpoint
	switch {
	case err == nil:
		b, err := persist.ReadAll(ctx, rs, run, head)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rs.CheckpointURL(run, head), err)
		}
		if c, err = persist.Decode(b); err != nil {
			// Continue from the newest valid checkpoint before it; the
			// head stays what the server says, for the next push's
			// precondition.
			fmt.Fprintf(stderr, "warning: the head of run %s does not restore: %v\n", run, err)
			c, err = newestOnServer(ctx, rs, url, run, head, stderr)
			if err != nil {
				return nil, err
			}
		}
	case errors.Is(err, persist.ErrNotExist):
		if c, err = newestOnServer(ctx, rs, url, run, "", stderr); err != nil {
			return nil, err
		}
		head = ""
	default:
		return nil, err
	}
	return &resumed{ckpt: c, path: rs.CheckpointURL(run, c.ID), server: &serverRun{store: rs, run: run, head: head}}, nil
}

// newestOnServer is the newest valid checkpoint of a server's run, at or
// before the step of checkpoint upTo if it is not "", reporting those it
// skips.
func newestOnServer(ctx context.Context, rs *remote.Store, url, run, upTo string, stderr io.Writer) (*persist.Checkpoint, error) {
	var opt persist.NewestOptions
	if step, ok := persist.StepOfID(upTo); ok {
		opt.AtMost = &step
	}
	c, skipped, err := persist.NewestWith(ctx, rs, run, opt)
	for _, s := range skipped {
		warnSkipped(stderr, rs.CheckpointURL(run, s.ID), s.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: no valid checkpoint: %w", url, err)
	}
	fmt.Fprintf(stderr, "resuming from %s, the newest valid checkpoint\n", rs.CheckpointURL(run, c.ID))
	return c, nil
}

// push uploads checkpoint id, moving the server's head to it from the head
// last seen, and returns its URL.
func (s *serverRun) push(ctx context.Context, id string, b []byte) (string, error) {
	err := s.store.Put(ctx, s.run, id, bytes.NewReader(b), persist.PutOptions{SetHead: true, CheckHead: true, IfHead: s.head})
	if h, ok := remote.IsHeadMoved(err); ok {
		return "", fmt.Errorf("the server's head of run %s is now %q, not %q: another writer continues this run (%w)", s.run, h, s.head, err)
	}
	if err != nil {
		return "", err
	}
	s.head = id
	return s.store.CheckpointURL(s.run, id), nil
}
