package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"playground/persist"
	"playground/spec"
)

// PushReport says what Push did.
type PushReport struct {
	Pushed   int    // checkpoints uploaded
	Had      int    // already on the server, byte for byte
	Damaged  int    // local checkpoints that did not decode (not sent)
	Bytes    int64  // bytes uploaded
	Head     string // the server's head of the run afterwards ("" if none)
	HeadStep uint64 // its step
	// Datasets the run's checkpoints name, each once, in the order met:
	// uploaded (New) or already on the server.
	Datasets []DataResult
	// Autosaves are the run's autosaves on the server afterwards, oldest
	// first: those it had and those uploaded (for the retention of the
	// server's copy, which auto-push keeps).
	Autosaves []string
}

// Push uploads run's checkpoints from local to the server, oldest first,
// each after the dataset it names (if not generated: from local, which
// must then be a persist.DataStore holding it) unless the server has it:
// those the server lacks (by checksum), and every one newer than the
// server's head, moving the head along, each move conditional on the head
// last seen. Damaged local checkpoints are skipped and reported to warn
// (nil: not reported). pushed, if not nil, is told of every checkpoint
// uploaded (or found already there while moving the head), with what its
// header says. When another writer moves the server's head meanwhile,
// Push stops with an error that unwraps to persist.ErrHeadMoved.
func Push(ctx context.Context, rs *Store, local persist.Store, run string, warn func(id string, err error), pushed func(info persist.Info)) (PushReport, error) {
	var r PushReport
	objs, err := local.List(ctx, run)
	if err != nil {
		return r, err
	}
	if len(objs) == 0 {
		return r, fmt.Errorf("no checkpoints of run %s here", run)
	}
	there, autosaves, err := r.serverHolds(ctx, rs, run)
	if err != nil {
		return r, err
	}
	for _, o := range objs {
		b, info, err := r.read(ctx, local, run, o.ID, warn)
		if err != nil {
			return r, err
		}
		if b == nil {
			continue
		}
		if err := r.pushData(ctx, rs, local, info); err != nil {
			return r, err
		}
		move := r.Head == "" || info.Step > r.HeadStep
		if there[o.ID] == info.Checksum && !move {
			r.Had++
			continue
		}
		opt := persist.PutOptions{}
		if move {
			opt = persist.PutOptions{SetHead: true, CheckHead: true, IfHead: r.Head}
		}
		res, err := rs.Upload(ctx, run, o.ID, bytes.NewReader(b), opt)
		if h, ok := IsHeadMoved(err); ok {
			return r, fmt.Errorf("the server's head of run %s moved to %q while pushing (another writer continues the run; pull it first): %w", run, h, err)
		}
		if err != nil {
			return r, err
		}
		if res.New {
			r.Pushed++
			r.Bytes += int64(len(b))
		} else {
			r.Had++
		}
		if move {
			r.Head, r.HeadStep = o.ID, info.Step
		}
		autosaves[o.ID] = info.Kind == persist.KindAutosave
		if pushed != nil {
			pushed(info)
		}
	}
	for id, auto := range autosaves {
		if auto {
			r.Autosaves = append(r.Autosaves, id)
		}
	}
	slices.Sort(r.Autosaves)
	return r, nil
}

// serverHolds is what the server holds of run: each checkpoint's checksum
// (to skip those it has) and whether it is a sound autosave; r.Head and
// r.HeadStep become its head's.
func (r *PushReport) serverHolds(ctx context.Context, rs *Store, run string) (map[string]string, map[string]bool, error) {
	infos, err := rs.Checkpoints(ctx, run)
	if err != nil && !errors.Is(err, persist.ErrNotExist) {
		return nil, nil, err
	}
	there, autosaves := map[string]string{}, map[string]bool{}
	for _, c := range infos {
		there[c.ID] = c.Checksum
		autosaves[c.ID] = c.Kind == persist.KindAutosave && c.Error == ""
		if c.Head {
			r.Head = c.ID
			if c.Step != nil {
				r.HeadStep = *c.Step
			}
		}
	}
	return there, autosaves, nil
}

// read returns checkpoint id's bytes and header, checked as Decode would
// without building the tensors; nil bytes for one to skip: deleted
// meanwhile (retention), or damaged (counted, and told to warn if not nil).
func (r *PushReport) read(ctx context.Context, local persist.Store, run, id string, warn func(id string, err error)) ([]byte, persist.Info, error) {
	b, err := persist.ReadAll(ctx, local, run, id)
	if errors.Is(err, persist.ErrNotExist) {
		return nil, persist.Info{}, nil
	}
	if err != nil {
		return nil, persist.Info{}, err
	}
	v := persist.NewVerifyReader(bytes.NewReader(b))
	if _, err := io.Copy(io.Discard, v); err != nil {
		if v.Defect() == nil {
			return nil, persist.Info{}, err // cannot happen: a bytes.Reader does not fail
		}
		r.Damaged++
		if warn != nil {
			warn(id, err)
		}
		return nil, persist.Info{}, nil
	}
	info, _ := v.Header()
	return b, info, nil
}

// pushData makes sure the server holds the dataset a checkpoint names, if
// it is not generated, uploading it once from local.
func (r *PushReport) pushData(ctx context.Context, rs *Store, local persist.Store, info persist.Info) error {
	name := info.Spec.Dataset.SHA256
	if info.Spec.Dataset.Kind != spec.CustomKind || slices.ContainsFunc(r.Datasets, func(d DataResult) bool { return d.Dataset == name }) {
		return nil
	}
	has, err := rs.HasData(ctx, name)
	if err != nil {
		return err
	}
	if has {
		r.Datasets = append(r.Datasets, DataResult{Dataset: name})
		return nil
	}
	ds, ok := local.(persist.DataStore)
	if !ok {
		return fmt.Errorf("%w: the run trains on dataset %s, and this store keeps no datasets", persist.ErrMissingData, name)
	}
	b, err := ds.GetData(ctx, name)
	if err != nil {
		return fmt.Errorf("the run trains on dataset %s, which push needs: %w", name, err)
	}
	res, err := rs.UploadData(ctx, name, b)
	if err != nil {
		return err
	}
	r.Datasets = append(r.Datasets, *res)
	return nil
}
