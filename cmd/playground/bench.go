package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"

	"playground/engine"
	"playground/engine/workload"
)

// The workloads of `make bench` (W1, W2, W3 of the performance notes), run
// by `playground bench` natively and under Node. With --serve it answers
// the orchestrator web/bench/run.mjs: one JSON request per line on stdin,
// {"workload":"W2","seconds":2}, one JSON line per answer on stdout,
// {"workload":"W2","steps":N,"seconds":S}: N steps (W3: matmuls) in S
// seconds of wall time.

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	workers := fs.Int("workers", 1, "goroutines for the large products (0: every core; always 1 on js/wasm)")
	seconds := fs.Float64("seconds", 2, "time each workload this long, after a warm-up of half that")
	only := fs.String("workloads", "W1,W2,W3", "comma-separated workloads to run")
	serve := fs.Bool("serve", false, "answer JSON requests on stdin (for web/bench/run.mjs)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	b := &workload.Bench{Workers: *workers}
	if *serve {
		return serveBench(ctx, b, os.Stdin, stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\tsteps/s\tGFLOP/s\t\n")
	for _, w := range strings.Split(*only, ",") {
		if _, ok := workload.All[w]; !ok {
			return exitError{code: 2, msg: fmt.Sprintf("bench: unknown workload %q (want W1, W2 or W3)", w)}
		}
		b.Run(w, *seconds/2)
		steps, secs := b.Run(w, *seconds)
		rate := float64(steps) / secs
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t\n", w, rate, rate*workload.All[w].Flops/1e9)
		if ctx.Err() != nil {
			break
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s/%s, %d worker(s), SIMD: %s\n", runtime.GOOS, runtime.GOARCH, b.WorkerCount(), cmp.Or(engine.SIMD(), "off"))
	return nil
}

type benchRequest struct {
	Workload string  `json:"workload"`
	Seconds  float64 `json:"seconds"`
}

type benchAnswer struct {
	Workload string  `json:"workload"`
	Steps    int     `json:"steps"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

// serve answers requests until stdin closes.
func serveBench(ctx context.Context, b *workload.Bench, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	for sc.Scan() && ctx.Err() == nil {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var req benchRequest
		var ans benchAnswer
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			ans.Error = err.Error()
		} else if _, ok := workload.All[req.Workload]; !ok {
			ans.Error = fmt.Sprintf("unknown workload %q", req.Workload)
		} else {
			ans.Workload = req.Workload
			ans.Steps, ans.Seconds = b.Run(req.Workload, req.Seconds)
		}
		if err := enc.Encode(ans); err != nil {
			return err
		}
	}
	return sc.Err()
}
