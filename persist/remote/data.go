package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"playground/persist"
)

var _ persist.DataStore = (*Store)(nil)

// DataURL returns the URL of dataset name (BASE/api/datasets/NAME).
func (s *Store) DataURL(name string) string { return s.url("api", "datasets", name) }

// PutData uploads dataset name (persist.DataStore), checked here first
// and again by the server, with its Content-Digest.
func (s *Store) PutData(ctx context.Context, name string, b []byte) error {
	_, err := s.UploadData(ctx, name, b)
	return err
}

// UploadData is PutData that also returns the server's answer (New: it
// was stored by this request).
func (s *Store) UploadData(ctx context.Context, name string, b []byte) (*DataResult, error) {
	if err := persist.CheckPutData(ctx, name, b); err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	sum := sha256.Sum256(b)
	body, err := s.do(ctx, request{method: "PUT", url: s.DataURL(name), body: bytes.NewReader(b), header: [][2]string{
		{"Content-Type", "text/csv"}, {"Accept", "application/json"},
		{"Content-Digest", "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"},
	}})
	if err != nil {
		return nil, fmt.Errorf("remote: put dataset %s: %w", name, err)
	}
	defer body.Close()
	var res DataResult
	if err := json.NewDecoder(body).Decode(&res); err != nil {
		return nil, fmt.Errorf("remote: put dataset %s: decoding the answer: %w", name, err)
	}
	return &res, nil
}

// GetData downloads dataset name (persist.DataStore) and checks that the
// bytes are the dataset so named: a server cannot hand over other data.
func (s *Store) GetData(ctx context.Context, name string) ([]byte, error) {
	if err := persist.CheckDataName(name); err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	body, err := s.do(ctx, request{method: "GET", url: s.DataURL(name)})
	if err != nil {
		return nil, fmt.Errorf("remote: dataset %s: %w", name, err)
	}
	b, err := persist.ReadData(name, body)
	if err != nil {
		return nil, fmt.Errorf("remote: dataset %s: %w", name, err)
	}
	if _, err := persist.CheckData(name, b); err != nil {
		return nil, fmt.Errorf("remote: %s answered: %w", s.DataURL(name), err)
	}
	return b, nil
}

// HasData asks the server (HEAD) whether it holds dataset name.
func (s *Store) HasData(ctx context.Context, name string) (bool, error) {
	if err := persist.CheckDataName(name); err != nil {
		return false, fmt.Errorf("remote: %w", err)
	}
	body, err := s.do(ctx, request{method: "HEAD", url: s.DataURL(name)})
	if errors.Is(err, persist.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remote: dataset %s: %w", name, err)
	}
	body.Close()
	return true, nil
}
