package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
)

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", stderr)
	preset := fs.String("preset", "", "start a new run of this preset")
	specFile := fs.String("spec", "", "start a new run of the spec in this JSON file")
	resume := fs.String("resume", "", "resume from a checkpoint file, a run directory, a store directory or a server's run (URL/api/runs/ID)")
	steps := fs.Uint64("steps", 0, "train until this global step (absolute: a resumed run stops at the same step)")
	out := fs.String("out", "", "directory to write checkpoints into (default: the resumed store, else ./data; a server's run is copied locally only with --out)")
	every := fs.Uint64("every", 1000, "write a checkpoint every K steps (0: only at the end)")
	keep := fs.Int("keep", 20, "keep the last K periodic checkpoints of the run (0: keep all)")
	logEvery := fs.Uint64("log-every", 0, "print a line every L steps when stderr is not a terminal (0: auto)")
	token := fs.String("token", "", "bearer token of the server when resuming a server's run (default $"+tokenEnv+")")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if n := btoi(*preset != "") + btoi(*specFile != "") + btoi(*resume != ""); n != 1 {
		return exitError{code: 2, msg: "train: give exactly one of --preset, --spec, --resume"}
	}
	if *steps == 0 {
		return exitError{code: 2, msg: "train: --steps N is required (the global step to train to)"}
	}

	var (
		tr       *engine.Trainer
		run      string
		parent   string
		storeDir = *out
		store    *disk.Store // nil: no local copy (a server's run without --out)
		server   *serverRun  // the server's run being continued, if any
	)
	switch {
	case *preset != "" || *specFile != "":
		spec, err := loadSpec(*preset, *specFile)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if tr, err = engine.NewTrainer(spec); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		run = persist.NewRunID(spec.Name)
	default:
		res, err := openResume(ctx, *resume, *token, stderr)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if tr, err = engine.Restore(res.ckpt.State); err != nil {
			return fmt.Errorf("train: resume %s: %w", res.path, err)
		}
		run, parent, server = res.ckpt.RunID, res.ckpt.ID, res.server
		if storeDir == "" && res.store != nil {
			storeDir, store = res.store.Dir(), res.store
		}
		fmt.Fprintf(stderr, "resumed run %s at step %d from %s\n", run, tr.Step, res.path)
	}
	tr.SetWorkers(0) // every core natively (same bits); stays 1 on js/wasm
	if storeDir == "" && server == nil {
		storeDir = "data"
	}
	var err error
	if store == nil && storeDir != "" {
		if store, err = disk.New(storeDir, disk.NewOptions()); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}

	save := func(kind string) (string, error) {
		c := &persist.Checkpoint{
			Meta: persist.Meta{
				RunID: run, ID: persist.NewID(tr.Step), Parent: parent,
				Created: time.Now().UTC(), EngineVersion: engine.Version, Kind: kind,
			},
			State: tr.State(),
		}
		b, err := persist.Encode(c)
		if err != nil {
			return "", err
		}
		where := ""
		if store != nil {
			if err := store.Put(context.WithoutCancel(ctx), run, c.ID, bytes.NewReader(b), persist.PutOptions{SetHead: true}); err != nil {
				return "", err
			}
			if *keep > 0 {
				if _, err := persist.Retain(context.WithoutCancel(ctx), store, run, persist.Retention{KeepLast: *keep}); err != nil {
					return "", err
				}
			}
			where = store.Path(run, c.ID)
		}
		if server != nil { // --keep applies to the local copy only
			u, err := server.push(context.WithoutCancel(ctx), c.ID, b)
			if err != nil {
				return "", err
			}
			if where == "" {
				where = u
			}
		}
		parent = c.ID
		return where, nil
	}

	prog := newProgress(stderr, tr.Step, *steps, *logEvery)
	for tr.Step < *steps {
		select {
		case <-ctx.Done():
			path, err := save(persist.KindAutosave)
			if err != nil {
				return fmt.Errorf("train: interrupted at step %d, and saving failed: %w", tr.Step, err)
			}
			prog.done()
			fmt.Fprintf(stderr, "interrupted at step %d; saved\n", tr.Step)
			fmt.Fprintln(stdout, path)
			return exitError{code: 130}
		default:
		}
		loss := tr.TrainStep()
		prog.step(tr.Step, loss)
		if tr.Step == *steps {
			break
		}
		if *every > 0 && tr.Step%*every == 0 {
			if _, err := save(persist.KindAutosave); err != nil {
				return fmt.Errorf("train: checkpoint at step %d: %w", tr.Step, err)
			}
		}
	}
	prog.done()
	last, err := save(persist.KindFinal)
	if err != nil {
		return fmt.Errorf("train: final checkpoint: %w", err)
	}
	fmt.Fprintln(stdout, last)
	return nil
}

// resumed is where a resumed run comes from.
type resumed struct {
	ckpt   *persist.Checkpoint
	path   string
	store  *disk.Store // the store the checkpoint lives in, if any
	server *serverRun  // set when resuming a server's run
}

// openResume loads the checkpoint to resume from: a file, a run directory
// (<store>/<run>) or a store directory holding runs. In a directory the
// newest valid checkpoint wins; damaged ones are reported and skipped.
// A URL (http(s)://HOST/api/runs/ID) resumes a server's run from its head.
func openResume(ctx context.Context, path, token string, stderr io.Writer) (*resumed, error) {
	if isURL(path) {
		return openServerRun(ctx, path, token, stderr)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		c, err := loadCheckpoint(path)
		if err != nil {
			return nil, err
		}
		return &resumed{ckpt: c, path: path}, nil
	}
	store, run, err := localRun(ctx, path, "", "pass the run's directory")
	if err != nil {
		return nil, err
	}
	c, skipped, err := persist.Newest(ctx, store, run)
	for _, s := range skipped {
		fmt.Fprintf(stderr, "warning: skipping damaged checkpoint %s: %v\n", store.Path(run, s.ID), s.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: no valid checkpoint of run %s: %w", path, run, err)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "falling back to the previous valid checkpoint %s at step %d\n", c.ID, c.State.Step)
	}
	return &resumed{ckpt: c, path: store.Path(run, c.ID), store: store}, nil
}

// isRunDir reports whether dir directly holds checkpoint files.
func isRunDir(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	return len(m) > 0 && persist.ValidID(filepath.Base(dir))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// progress shows training progress: a bar redrawn in place on a terminal,
// plain lines (step, loss, steps/s) otherwise.
type progress struct {
	w          io.Writer
	tty        bool
	from, to   uint64
	every      uint64
	start      time.Time
	lastDraw   time.Time
	lastStep   uint64
	lastLoss   float32
	drawnOnTTY bool
}

func newProgress(w io.Writer, from, to, every uint64) *progress {
	p := &progress{w: w, from: from, to: to, every: every, start: time.Now(), lastStep: from}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	if p.every == 0 {
		p.every = 1000
	}
	return p
}

func (p *progress) rate() float64 {
	el := time.Since(p.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(p.lastStep-p.from) / el
}

func (p *progress) step(step uint64, loss float32) {
	p.lastStep, p.lastLoss = step, loss
	if !p.tty {
		if step%p.every == 0 || step == p.to {
			fmt.Fprintf(p.w, "step %d loss %s steps/s %.0f\n", step, fmtLoss(loss), p.rate())
		}
		return
	}
	if now := time.Now(); now.Sub(p.lastDraw) >= 100*time.Millisecond || step == p.to {
		p.lastDraw = now
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	total := p.to - p.from
	frac := 1.0
	if total > 0 {
		frac = float64(p.lastStep-p.from) / float64(total)
	}
	filled := int(frac * width)
	eta := ""
	if r := p.rate(); r > 0 && p.lastStep < p.to {
		eta = " ETA " + (time.Duration(float64(p.to-p.lastStep)/r) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %3.0f%% loss %.5f %.0f steps/s%s\x1b[K",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.lastStep, p.to, frac*100, p.lastLoss, p.rate(), eta)
	p.drawnOnTTY = true
}

func (p *progress) done() {
	if p.drawnOnTTY {
		p.draw()
		fmt.Fprintln(p.w)
		p.drawnOnTTY = false
	}
}

// fmtLoss prints a loss so that it parses back to the same float32.
func fmtLoss(l float32) string { return strconv.FormatFloat(float64(l), 'g', -1, 32) }
