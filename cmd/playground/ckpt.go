package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"playground/engine"
	"playground/persist"
	"playground/persist/disk"
	"playground/spec"
)

func cmdPresets(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return exitError{code: 2, msg: "presets takes no arguments"}
	}
	for _, n := range spec.PresetNames() {
		fmt.Fprintln(stdout, n)
	}
	return nil
}

func cmdSpec(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return exitError{code: 2, msg: "usage: playground spec PRESET"}
	}
	s, err := spec.Preset(args[0])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", s.JSON())
	return err
}

// loadCheckpoint reads and fully verifies a checkpoint file. It reads only
// a regular file (a device or a FIFO could be endless or block forever),
// and no more than its header describes.
func loadCheckpoint(path string) (*persist.Checkpoint, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := persist.ReadHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if size > info.Size() {
		return nil, fmt.Errorf("%s: %w: file has %d bytes, its header describes %d", path, persist.ErrCorrupt, size, info.Size())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, info.Size()))
	if err != nil {
		return nil, err
	}
	c, err := persist.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// openRegular opens path if it is a regular file, with its size.
func openRegular(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// maxSpecFile bounds a spec file: the largest spec the engine accepts is a
// few KB.
const maxSpecFile = 1 << 20

// loadSpec is the spec of a preset or, when preset is "", of a JSON spec
// file.
func loadSpec(preset, file string) (spec.Spec, error) {
	if preset != "" {
		return spec.Preset(preset)
	}
	f, size, err := openRegular(file)
	if err != nil {
		return spec.Spec{}, err
	}
	defer f.Close()
	if size > maxSpecFile {
		return spec.Spec{}, fmt.Errorf("%s has %d bytes: a spec is at most %d", file, size, maxSpecFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSpecFile))
	if err != nil {
		return spec.Spec{}, err
	}
	return spec.ParseSpec(b)
}

// parentName is a checkpoint's parent as ckpt prints it: RUN/ID when it is
// another run's.
func parentName(m persist.Meta) string {
	if m.ParentRun != "" {
		return m.ParentRun + "/" + m.Parent
	}
	return m.Parent
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	file := fs.String("ckpt", "", "checkpoint file")
	input := fs.String("input", "", "CSV of inputs, one sample per line: print the model's outputs for each")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *file == "" {
		return exitError{code: 2, msg: "eval: --ckpt FILE is required"}
	}
	c, err := loadCheckpoint(*file)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	var locals []*disk.Store
	if fs := fileStore(*file); fs != nil {
		locals = append(locals, fs)
	}
	tab, err := findData(context.Background(), c.State.Spec, locals, nil)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	tr, err := engine.RestoreWith(c.State, tab)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if *input != "" {
		return evalInputs(tr, *input, stdout)
	}
	fmt.Fprintf(stdout, "step %d (epoch %d, batch %d)\n", tr.Step, tr.Epoch, tr.Batch)
	for _, s := range []struct {
		name string
		sp   *engine.Split
	}{{"train", &tr.Data.Train}, {"test", &tr.Data.Test}} {
		m := tr.Evaluate(s.sp)
		acc := "n/a"
		if !math.IsNaN(float64(m.Accuracy)) {
			acc = strconv.FormatFloat(float64(m.Accuracy), 'f', 4, 32)
		}
		fmt.Fprintf(stdout, "%-5s loss %s accuracy %s (%d samples)\n", s.name, fmtLoss(m.Loss), acc, s.sp.N)
	}
	return nil
}

func cmdData(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("data", stderr)
	preset := fs.String("preset", "", "preset whose dataset to print")
	specFile := fs.String("spec", "", "spec file whose dataset to print")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if (*preset != "") == (*specFile != "") {
		return exitError{code: 2, msg: "data: give one of --preset or --spec"}
	}
	spec, err := loadSpec(*preset, *specFile)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	ds, err := engine.Data(spec, nil) // a csv dataset is no generated one: it is in _datasets
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	w := bufio.NewWriterSize(stdout, 1<<16)
	w.WriteString(strings.Join(ds.Features, ",") + ",label,split\n")
	var line []byte
	for _, s := range []struct {
		name string
		sp   *engine.Split
	}{{"train", &ds.Train}, {"test", &ds.Test}} {
		for i := 0; i < s.sp.N; i++ {
			line = line[:0]
			for _, v := range s.sp.X[i*ds.Inputs : (i+1)*ds.Inputs] {
				line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
				line = append(line, ',')
			}
			line = strconv.AppendFloat(line, float64(s.sp.Label[i]), 'g', -1, 32)
			line = append(line, ',')
			line = append(line, s.name...)
			line = append(line, '\n')
			w.Write(line)
		}
	}
	return w.Flush()
}

func cmdCkpt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitError{code: 2, msg: "usage: playground ckpt ls DIR | inspect FILE | verify FILE... | diff A B"}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "ls":
		if len(args) != 1 {
			return exitError{code: 2, msg: "usage: playground ckpt ls DIR"}
		}
		return ckptLs(ctx, args[0], stdout)
	case "inspect":
		if len(args) != 1 {
			return exitError{code: 2, msg: "usage: playground ckpt inspect FILE"}
		}
		return ckptInspect(args[0], stdout)
	case "verify":
		if len(args) == 0 {
			return exitError{code: 2, msg: "usage: playground ckpt verify FILE..."}
		}
		bad := 0
		for _, f := range args {
			c, err := loadCheckpoint(f)
			if err != nil {
				fmt.Fprintf(stderr, "FAIL %v\n", err)
				bad++
				continue
			}
			fmt.Fprintf(stdout, "ok %s step %d fingerprint %s\n", f, c.State.Step, persist.Fingerprint(c.State))
		}
		if bad > 0 {
			return exitError{code: 1, msg: fmt.Sprintf("verify: %d of %d checkpoints are damaged", bad, len(args))}
		}
		return nil
	case "diff":
		if len(args) != 2 {
			return exitError{code: 2, msg: "usage: playground ckpt diff A B"}
		}
		return ckptDiff(args[0], args[1], stdout)
	}
	return exitError{code: 2, msg: fmt.Sprintf("ckpt: unknown subcommand %q (want ls, inspect, verify, diff)", sub)}
}

func ckptLs(ctx context.Context, dir string, stdout io.Writer) error {
	storeDir, dirRun := splitRunDir(dir)
	var runs []string
	if dirRun != "" {
		runs = []string{dirRun}
	}
	store, err := disk.New(storeDir, disk.NewOptions())
	if err != nil {
		return fmt.Errorf("ckpt ls: %w", err)
	}
	if runs == nil {
		if runs, err = store.Runs(ctx); err != nil {
			return fmt.Errorf("ckpt ls: %w", err)
		}
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tCHECKPOINT\tSTEP\tKIND\tCREATED\tSIZE\tHEAD\tPARENT")
	for _, run := range runs {
		head, _ := store.Head(ctx, run)
		list, err := persist.ListInfo(ctx, store, run)
		if err != nil {
			return fmt.Errorf("ckpt ls: %w", err)
		}
		for _, l := range list {
			mark := ""
			if l.ID == head {
				mark = "*"
			}
			if l.Err != nil {
				fmt.Fprintf(tw, "%s\t%s\t?\tdamaged: %v\t\t%d\t%s\t\n", run, l.ID, l.Err, l.Size, mark)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\n", run, l.ID, l.Info.Step, l.Info.Kind,
				l.Info.Created.Local().Format(time.DateTime), l.Size, mark, parentName(l.Info.Meta))
		}
	}
	return tw.Flush()
}

func ckptInspect(path string, stdout io.Writer) error {
	c, err := loadCheckpoint(path)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	w := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(w, "file:\t%s\n", path)
	fmt.Fprintf(w, "format:\t%s v%d\n", persist.FormatName, persist.FormatVersion)
	fmt.Fprintf(w, "run:\t%s\n", c.RunID)
	fmt.Fprintf(w, "checkpoint:\t%s\n", c.ID)
	fmt.Fprintf(w, "parent:\t%s\n", parentName(c.Meta))
	fmt.Fprintf(w, "kind:\t%s\n", c.Kind)
	fmt.Fprintf(w, "created:\t%s\n", c.Created.Format(time.RFC3339Nano))
	fmt.Fprintf(w, "engine:\t%s\n", c.EngineVersion)
	fmt.Fprintf(w, "step:\t%d (epoch %d, batch %d)\n", c.State.Step, c.State.Epoch, c.State.Batch)
	fmt.Fprintf(w, "rng:\t%x\n", c.State.RNG)
	fmt.Fprintf(w, "spec:\t%s\n", c.State.Spec.JSON())
	for _, t := range c.State.Tensors {
		dtype := "F32"
		if t.I64 != nil {
			dtype = "I64"
		}
		fmt.Fprintf(w, "tensor:\t%s %s %v\n", t.Name, dtype, t.Shape)
	}
	fmt.Fprintf(w, "fingerprint:\t%s\n", persist.Fingerprint(c.State))
	return w.Flush()
}

func ckptDiff(a, b string, stdout io.Writer) error {
	ca, err := loadCheckpoint(a)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	cb, err := loadCheckpoint(b)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	ta, tb := ca.State.Tensors, cb.State.Tensors
	for i := 0; i < max(len(ta), len(tb)); i++ {
		if i >= len(ta) || i >= len(tb) {
			extra := ta
			which := a
			if i >= len(ta) {
				extra, which = tb, b
			}
			return exitError{code: 1, msg: fmt.Sprintf("differ: only %s has tensor %s", which, extra[i].Name)}
		}
		x, y := ta[i], tb[i]
		if x.Name != y.Name || fmt.Sprint(x.Shape) != fmt.Sprint(y.Shape) {
			return exitError{code: 1, msg: fmt.Sprintf("differ: tensor %d is %s %v vs %s %v", i, x.Name, x.Shape, y.Name, y.Shape)}
		}
		for j := range x.F32 {
			if math.Float32bits(x.F32[j]) != math.Float32bits(y.F32[j]) {
				return exitError{code: 1, msg: fmt.Sprintf("differ: %s[%d] = %v vs %v", x.Name, j, x.F32[j], y.F32[j])}
			}
		}
		for j := range x.I64 {
			if x.I64[j] != y.I64[j] {
				return exitError{code: 1, msg: fmt.Sprintf("differ: %s[%d] = %d vs %d", x.Name, j, x.I64[j], y.I64[j])}
			}
		}
	}
	fmt.Fprintf(stdout, "identical: %d tensors, fingerprint %s\n", len(ta), persist.Fingerprint(ca.State))
	return nil
}
