//go:build js && wasm

package idb

import (
	"context"
	"fmt"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	"playground/persist"
)

var _ persist.DataStore = (*Store)(nil)

// PutData stores dataset name (persist.DataStore) in the datasets object
// store, once checked; one put is one transaction.
func (s *Store) PutData(ctx context.Context, name string, b []byte) error {
	if err := persist.CheckPutData(ctx, name, b); err != nil {
		return fmt.Errorf("idb: %w", err)
	}
	wctx := context.WithoutCancel(ctx)
	tx, store, err := s.dataStore(idb.TransactionReadWrite)
	if err != nil {
		return fmt.Errorf("idb: put dataset %s: %w", name, err)
	}
	if _, err := store.PutKey(js.ValueOf(name), toJS(b)); err != nil {
		tx.Abort()
		return fmt.Errorf("idb: put dataset %s: %w", name, wrap(err))
	}
	tx.Commit()
	if err := tx.Await(wctx); err != nil {
		return fmt.Errorf("idb: put dataset %s: %w", name, wrap(err))
	}
	return nil
}

// GetData reads dataset name (persist.DataStore).
func (s *Store) GetData(ctx context.Context, name string) ([]byte, error) {
	v, err := s.dataValue(ctx, name)
	if err != nil {
		return nil, err
	}
	if v.IsUndefined() {
		return nil, fmt.Errorf("idb: dataset %s is not in IndexedDB %s: %w", name, s.opt.Name, persist.ErrNotExist)
	}
	b, err := toGo(v)
	if err != nil {
		return nil, fmt.Errorf("idb: dataset %s: %w", name, err)
	}
	return b, nil
}

// HasData reports whether the database holds dataset name.
func (s *Store) HasData(ctx context.Context, name string) (bool, error) {
	v, err := s.dataValue(ctx, name)
	return err == nil && !v.IsUndefined(), err
}

// dataValue is the stored value of dataset name: undefined if none.
func (s *Store) dataValue(ctx context.Context, name string) (js.Value, error) {
	if err := persist.CheckDataName(name); err != nil {
		return js.Undefined(), fmt.Errorf("idb: %w", err)
	}
	_, store, err := s.dataStore(idb.TransactionReadOnly)
	if err != nil {
		return js.Undefined(), fmt.Errorf("idb: dataset %s: %w", name, err)
	}
	req, err := store.Get(js.ValueOf(name))
	if err != nil {
		return js.Undefined(), fmt.Errorf("idb: dataset %s: %w", name, wrap(err))
	}
	v, err := req.Await(ctx)
	if err != nil {
		return js.Undefined(), fmt.Errorf("idb: dataset %s: %w", name, wrap(err))
	}
	return v, nil
}

// dataStore opens a transaction on the datasets object store.
func (s *Store) dataStore(mode idb.TransactionMode) (*idb.Transaction, *idb.ObjectStore, error) {
	tx, err := s.db.Transaction(mode, storeData)
	if err != nil {
		return nil, nil, wrap(err)
	}
	store, err := tx.ObjectStore(storeData)
	if err != nil {
		return nil, nil, err
	}
	return tx, store, nil
}
