// Listen prints the changes of Accounts as Salesforce publishes them (Change
// Data Capture on /data/AccountChangeEvent, through the Streaming API on the
// mutual TLS port), keeping its position in a file store so that a restart
// resumes after the last change it handled.
//
//	go run ./examples/listen
//
// With no SF_* settings it starts a fake org in-process (salesforcetest),
// listens while it creates three Accounts, stops, creates two more while
// nobody listens, and listens again: the second run starts after the last
// change the first handled, so it prints exactly the two new ones.
//
// To run it against a real org, set the SF_* settings client.ConfigFromEnv
// reads (docs/setup.md) and select Account for Change Data Capture in Setup.
// SF_LISTEN_DIR is where the position is kept (default: a folder in the
// user's cache directory). It listens until Ctrl-C. Run several copies: one
// listens, the others wait and take over within seconds when it stops.
//
// It imports only the SDK's public packages: copy it into your own module.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, getenv func(string) string) error {
	if getenv("SF_LOGIN_URL") == "" && getenv("SF_MTLS_KEYSTORE") == "" {
		return demo(ctx, w)
	}
	cfg, err := client.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	c, err := client.New(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	dir := getenv("SF_LISTEN_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		dir = filepath.Join(cache, "sfmtls-listen")
	}
	store, err := auth.NewFileStore(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "listening to /data/AccountChangeEvent; position kept in %s\n", dir)
	return listen(ctx, w, c, store, 0)
}

// listen runs the subscription until ctx ends, or until it handled max
// events (0: no limit).
func listen(ctx context.Context, w io.Writer, c *client.Client, store events.Store, max int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub := &events.Subscription{
		Source: &events.Streaming{Client: c, Channel: "/data/AccountChangeEvent"},
		// Without a saved position, start from every change still retained
		// (72 hours); with one, after it.
		Start: events.ReplayAll,
		Store: store,
	}
	handled := 0
	err := sub.Run(ctx, func(_ context.Context, ev events.Event) error {
		// The handler is where the work goes. It must be idempotent: after a
		// crash the change it was handling is delivered again (the replay id
		// and record id make a good key).
		var fields map[string]any
		_ = json.Unmarshal(ev.Data, &fields)
		delete(fields, "ChangeEventHeader")
		name, _ := fields["Name"].(string)
		fmt.Fprintf(w, "%s %s %v name=%q changed=%v (replay id %d)\n", ev.Change.ChangeType, ev.Change.EntityName,
			ev.Change.RecordIDs, name, ev.Change.ChangedFields, ev.ReplayID)
		handled++
		if handled == max {
			cancel()
		}
		return nil
	})
	if handled == max && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// demo runs against a fake org.
func demo(ctx context.Context, w io.Writer) error {
	org, err := salesforcetest.Start(salesforcetest.Config{})
	if err != nil {
		return err
	}
	defer org.Close()
	if err := org.Setup().EnableChangeEvents("Account"); err != nil {
		return err
	}
	c, err := client.New(org.ClientConfig())
	if err != nil {
		return err
	}
	defer c.Close()
	dir, err := os.MkdirTemp("", "sfmtls-listen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := auth.NewFileStore(dir)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "using a fake org; first run:")
	errc := make(chan error, 1)
	go func() {
		for org.Data().StreamingSubscribers("/data/AccountChangeEvent") == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		errc <- createAccounts(ctx, c, "Acme", "Globex", "Initech")
	}()
	if err := listen(ctx, w, c, store, 3); err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	if err := createAccounts(ctx, c, "Umbrella", "Hooli"); err != nil {
		return err
	}
	fmt.Fprintln(w, "second run, after two changes made while nobody listened:")
	return listen(ctx, w, c, store, 2)
}

func createAccounts(ctx context.Context, c *client.Client, names ...string) error {
	for _, name := range names {
		if _, err := c.Create(ctx, "Account", map[string]any{"Name": name}); err != nil {
			return err
		}
	}
	return nil
}
