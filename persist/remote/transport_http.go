//go:build !(js && wasm)

package remote

import (
	"context"
	"io"
	"net/http"
)

// Options configure a Store; zero fields take the defaults of NewOptions.
type Options struct {
	Token  string       // bearer token sent with every request; "" sends none
	Client *http.Client // the HTTP client (its Timeout, if any, bounds whole transfers)
	// Digest sends the SHA-256 of an upload whose bytes are at hand (a
	// *bytes.Reader) as its Content-Digest: the server refuses the upload
	// if what arrives differs, and R2 checks it too.
	Digest bool
}

// NewOptions returns the default options: no token, http.DefaultClient,
// digests sent.
func NewOptions() Options { return Options{Client: http.DefaultClient, Digest: true} }

func (o *Options) fill() {
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
}

// roundTrip sends req with net/http; the body streams both ways.
func (s *Store) roundTrip(ctx context.Context, req request) (int, io.ReadCloser, error) {
	r, err := http.NewRequestWithContext(ctx, req.method, req.url, req.body)
	if err != nil {
		return 0, nil, err
	}
	for _, h := range req.header {
		r.Header.Set(h[0], h[1])
	}
	resp, err := s.opt.Client.Do(r)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, err
		}
		return 0, nil, unreachable(req, err)
	}
	return resp.StatusCode, resp.Body, nil
}
