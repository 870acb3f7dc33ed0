// Command playground is the native side of the training playground: it
// trains and resumes runs, serves the page and the checkpoint API, syncs
// runs with a server, inspects checkpoints and prints datasets.
// It also builds for js/wasm and runs under Node, which is how the tests
// prove that the browser's engine and the native one compute the same bits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: playground <command> [flags]

commands:
  presets                      list the built-in presets, one per line
  spec NAME                    print a preset's spec as JSON (to edit and pass to --spec)
  train                        train or resume a run (playground train -h; --data FILE.csv: your own data)
  serve [--addr A] [--data D]  serve the page and the checkpoint API (playground serve -h)
  push DIR --server URL        upload a local run's checkpoints, moving the server's head
  pull URL/api/runs/ID         download a server's run (--out DIR, default ./data)
  eval --ckpt FILE             train and test loss and accuracy of a checkpoint
                 [--input CSV]   or the model's outputs for each row of inputs
                 [--grid L:I]    or the map the page draws for unit I of layer L
  data (--preset P | --spec F) the dataset as CSV (features..., label, split)
  ckpt ls DIR                  list the runs and checkpoints in a directory
  ckpt inspect FILE            metadata, tensors and fingerprint of a checkpoint
  ckpt verify FILE...          check checkpoints; exits non-zero on any defect
  ckpt diff A B                exit 0 only if the training states are bit-identical
  bench                        the W1-W3 workloads of make bench (playground bench -h)
`

func main() {
	ctx, stop := signalContext(os.Args[1:])
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ex exitError
	switch {
	case err == nil:
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, "playground:", ex.msg)
		}
		os.Exit(ex.code)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
}

// graceful lists the commands that finish their work when told to stop
// (train saves a checkpoint, serve drains its requests, push and pull stop
// between files). Any other command ends at SIGINT or SIGTERM as the
// signal's default has it.
var graceful = map[string]bool{"train": true, "serve": true, "push": true, "pull": true, "bench": true}

// signalContext is canceled by the first SIGINT or SIGTERM for a graceful
// command; a second signal ends the process at once (status 130), so a
// signal always ends it, whatever it is blocked on.
func signalContext(args []string) (context.Context, func()) {
	if len(args) == 0 || !graceful[args[0]] {
		return context.Background(), func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(os.Stderr, "playground: second signal: exiting now")
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// exitError ends the program with a given code.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{code: 2}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "presets":
		return cmdPresets(args, stdout)
	case "spec":
		return cmdSpec(args, stdout)
	case "train":
		return cmdTrain(ctx, args, stdout, stderr)
	case "serve":
		return cmdServe(ctx, args, stdout, stderr)
	case "push":
		return cmdPush(ctx, args, stdout, stderr)
	case "pull":
		return cmdPull(ctx, args, stdout, stderr)
	case "eval":
		return cmdEval(args, stdout, stderr)
	case "data":
		return cmdData(args, stdout, stderr)
	case "ckpt":
		return cmdCkpt(ctx, args, stdout, stderr)
	case "bench":
		return cmdBench(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitError{code: 2, msg: fmt.Sprintf("unknown command %q", cmd)}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("playground "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags and rejects stray positional arguments beyond max.
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > maxArgs {
		return exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(maxArgs))}
	}
	return nil
}
