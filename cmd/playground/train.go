package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"playground/curve"
	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
	"playground/persist/remote"
)

// trainFlags are train's command line.
type trainFlags struct {
	preset, specFile, data, resume, out, token *string
	steps, every, logEvery                     *uint64
	keep                                       *int
}

func parseTrainFlags(args []string, stderr io.Writer) (trainFlags, error) {
	fs := newFlags("train", stderr)
	f := trainFlags{
		preset:   fs.String("preset", "", "start a new run of this preset"),
		specFile: fs.String("spec", "", "start a new run of the spec in this JSON file"),
		data:     fs.String("data", "", "start a new run on this CSV file (features, label, optional split; with --preset or --spec: that spec on it), stored once in OUT/_datasets"),
		resume:   fs.String("resume", "", "resume from a checkpoint file, a run directory, a store directory or a server's run (URL/api/runs/ID)"),
		steps:    fs.Uint64("steps", 0, "train until this global step (absolute: a resumed run stops at the same step)"),
		out:      fs.String("out", "", "directory to write checkpoints into (default: the resumed store, else ./data; a server's run is copied locally only with --out)"),
		every:    fs.Uint64("every", 1000, "write a checkpoint every K steps (0: only at the end)"),
		keep:     fs.Int("keep", 20, "keep the last K periodic checkpoints of the run (0: keep all)"),
		logEvery: fs.Uint64("log-every", 0, "print a line every L steps when stderr is not a terminal (0: auto)"),
		token:    fs.String("token", "", "bearer token of the server when resuming a server's run (default $"+tokenEnv+")"),
	}
	if err := parse(fs, args, 0); err != nil {
		return f, err
	}
	if n := btoi(*f.preset != "") + btoi(*f.specFile != "") + btoi(*f.resume != ""); n > 1 || n == 0 && *f.data == "" {
		return f, exitError{code: 2, msg: "train: give exactly one of --preset, --spec, --resume (--data FILE.csv alone or with --preset or --spec)"}
	}
	if *f.data != "" && *f.resume != "" {
		return f, exitError{code: 2, msg: "train: --data starts a new run; a resumed run finds the dataset its checkpoint names"}
	}
	if *f.steps == 0 || *f.steps > engine.MaxStep {
		return f, exitError{code: 2, msg: fmt.Sprintf("train: --steps N is required (the global step to train to, at most %d)", uint64(engine.MaxStep))}
	}
	return f, nil
}

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseTrainFlags(args, stderr)
	if err != nil {
		return err
	}
	t, err := startTraining(ctx, f, stderr)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	prog := newProgress(stderr, t.tr.Step, *f.steps, *f.logEvery)
	for t.tr.Step < *f.steps {
		if ctx.Err() != nil {
			path, err := t.save(ctx, persist.KindAutosave)
			if err != nil {
				return fmt.Errorf("train: interrupted at step %d, and saving failed: %w", t.tr.Step, err)
			}
			prog.done()
			fmt.Fprintf(stderr, "interrupted at step %d; saved\n", t.tr.Step)
			fmt.Fprintln(stdout, path)
			return exitError{code: 130}
		}
		loss := t.tr.TrainStep()
		t.hist.Observe(t.tr, loss)
		prog.step(t.tr.Step, loss)
		if t.tr.Step == *f.steps {
			break
		}
		if *f.every > 0 && t.tr.Step%*f.every == 0 {
			if _, err := t.save(ctx, persist.KindAutosave); err != nil {
				return fmt.Errorf("train: checkpoint at step %d: %w", t.tr.Step, err)
			}
		}
	}
	prog.done()
	last, err := t.save(ctx, persist.KindFinal)
	if err != nil {
		return fmt.Errorf("train: final checkpoint: %w", err)
	}
	fmt.Fprintln(stdout, last)
	return nil
}

// training is a run being trained and where its checkpoints go.
type training struct {
	tr     *engine.Trainer
	hist   curve.History // the run's loss history, evaluated as the page does
	run    string
	parent string      // the last checkpoint, the next one's parent
	store  *disk.Store // nil: no local copy (a server's run without --out)
	server *serverRun  // the server's run being continued, if any
	keep   int
}

// startTraining builds the trainer of a new run or a resumed one.
func startTraining(ctx context.Context, f trainFlags, stderr io.Writer) (*training, error) {
	t := &training{keep: *f.keep}
	storeDir := *f.out
	if *f.resume != "" {
		res, err := openResume(ctx, *f.resume, *f.token, stderr)
		if err != nil {
			return nil, err
		}
		t.run, t.parent, t.server, t.hist = res.ckpt.RunID, res.ckpt.ID, res.server, res.ckpt.Curve
		if storeDir == "" && res.store != nil {
			storeDir, t.store = res.store.Dir(), res.store
		}
		if err := t.openStore(storeDir); err != nil {
			return nil, err
		}
		if t.tr, err = t.restore(ctx, res); err != nil {
			return nil, fmt.Errorf("resume %s: %w", res.path, err)
		}
		fmt.Fprintf(stderr, "resumed run %s at step %d from %s\n", t.run, t.tr.Step, res.path)
	} else if err := t.start(ctx, f, storeDir); err != nil {
		return nil, err
	}
	t.tr.SetWorkers(0) // every core natively (same bits); stays 1 on js/wasm
	return t, nil
}

// openStore opens the local store the run's checkpoints go to: dir, else
// ./data unless the run is a server's.
func (t *training) openStore(dir string) error {
	if dir == "" && t.server == nil {
		dir = "data"
	}
	if t.store != nil || dir == "" {
		return nil
	}
	var err error
	t.store, err = disk.New(dir, disk.NewOptions())
	return err
}

// start builds the trainer of a new run: of a preset, a spec file or a
// CSV file (stored in the local store first).
func (t *training) start(ctx context.Context, f trainFlags, storeDir string) error {
	if err := t.openStore(storeDir); err != nil {
		return err
	}
	if *f.data == "" {
		s, err := loadSpec(*f.preset, *f.specFile)
		if err != nil {
			return err
		}
		t.tr, err = engine.NewTrainer(s)
		t.run = persist.NewRunID(s.Name)
		return err
	}
	tab, err := readTable(*f.data)
	if err != nil {
		return err
	}
	s, err := dataSpec(tab, *f.data, *f.preset, *f.specFile)
	if err != nil {
		return fmt.Errorf("%s: %w", *f.data, err)
	}
	if err := t.store.PutData(ctx, tab.Name(), tab.Canonical()); err != nil {
		return err
	}
	t.tr, err = engine.NewTrainerWith(s, tab)
	t.run = persist.NewRunID(s.Name)
	return err
}

// restore builds the trainer of a resumed checkpoint, finding the dataset
// it names (if it is not generated) in the local stores or on the server.
func (t *training) restore(ctx context.Context, res *resumed) (*engine.Trainer, error) {
	var locals []*disk.Store
	candidates := []*disk.Store{t.store, res.store}
	if res.server == nil {
		candidates = append(candidates, fileStore(res.path))
	}
	for _, s := range candidates {
		if s != nil && !slices.ContainsFunc(locals, func(l *disk.Store) bool { return l.Dir() == s.Dir() }) {
			locals = append(locals, s)
		}
	}
	var server *remote.Store
	if res.server != nil {
		server = res.server.store
	}
	tab, err := findData(ctx, res.ckpt.State.Spec, locals, server)
	if err != nil {
		return nil, err
	}
	return engine.RestoreWith(res.ckpt.State, tab)
}

// save writes a checkpoint of the current state to the local store (with
// retention) and the server, and returns where it went. It finishes even
// once ctx is canceled: an interrupted run saves on its way out.
func (t *training) save(ctx context.Context, kind string) (string, error) {
	ctx = context.WithoutCancel(ctx)
	c := &persist.Checkpoint{
		Meta: persist.Meta{
			RunID: t.run, ID: persist.NewID(t.tr.Step), Parent: t.parent,
			Created: time.Now().UTC(), EngineVersion: engine.Version, Kind: kind,
		},
		State: t.tr.State(),
		Curve: t.hist,
	}
	b, err := persist.Encode(c)
	if err != nil {
		return "", err
	}
	where := ""
	if t.store != nil {
		if err := t.store.Put(ctx, t.run, c.ID, bytes.NewReader(b), persist.PutOptions{SetHead: true}); err != nil {
			return "", err
		}
		if t.keep > 0 {
			if _, err := persist.Retain(ctx, t.store, t.run, persist.Retention{KeepLast: t.keep}); err != nil {
				return "", err
			}
		}
		where = t.store.Path(t.run, c.ID)
	}
	if t.server != nil { // --keep applies to the local copy only
		u, err := t.server.push(ctx, c.ID, b)
		if err != nil {
			return "", err
		}
		if where == "" {
			where = u
		}
	}
	t.parent = c.ID
	return where, nil
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
		warnSkipped(stderr, store.Path(run, s.ID), s.Err)
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

// warnSkipped says that the checkpoint at where is passed over, and why.
func warnSkipped(stderr io.Writer, where string, err error) {
	fmt.Fprintf(stderr, "warning: skipping checkpoint %s (%s): %v\n", where, persist.Unusable(err), err)
}
