package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"playground/persist/disk"
	"playground/server"
	"playground/web"
)

// tokenEnv names the environment variable that holds the API token, for
// serve and for the commands that talk to a server.
const tokenEnv = "PLAYGROUND_TOKEN"

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port)")
	data := fs.String("data", "data", "directory of the checkpoint store")
	token := fs.String("token", "", "bearer token the API requires (default $"+tokenEnv+"); needed off loopback")
	maxUpload := fs.Int64("max-upload", server.NewOptions().MaxUpload, "largest checkpoint upload in bytes")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *token == "" {
		*token = os.Getenv(tokenEnv)
	}
	if *token == "" && !server.IsLoopback(*addr) {
		return exitError{code: 2, msg: fmt.Sprintf("serve: %s is not a loopback address: set a token with --token or %s (or listen on 127.0.0.1)", *addr, tokenEnv)}
	}
	store, err := disk.New(*data, disk.NewOptions())
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	// Temp files of uploads cut off by a crash are never listed; remove
	// the old ones.
	if err := store.Clean(ctx); err != nil {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	opt := server.NewOptions()
	opt.Assets, opt.Token, opt.MaxUpload, opt.Logger = web.Assets(), *token, *maxUpload, logger
	srv := &http.Server{
		Handler:           server.New(store, opt),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	auth := "off (loopback)"
	if *token != "" {
		auth = "bearer token"
	}
	logger.Info("serving", "url", "http://"+ln.Addr().String()+"/", "data", store.Dir(), "auth", auth)
	if *token == "" {
		fmt.Fprintf(stderr, "no token: only requests for localhost or a loopback address are answered (other Host names get 403);\n"+
			"to expose the server, start it with --token T (or %s=T) and send Authorization: Bearer T\n", tokenEnv)
	}
	fmt.Fprintf(stdout, "http://%s/\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}
