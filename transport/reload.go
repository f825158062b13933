package transport

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/sfmtls/sfmtls/keystore"
)

// Reloader reloads an identity from its keystore file when the file changes, for
// certificate rotation without a restart. A file that fails to load keeps the
// identity in use and is reported; the next change is tried again.
type Reloader struct {
	Path    string
	Options keystore.Options
	// Apply receives each newly loaded identity, e.g. Transport.SetMTLSIdentity.
	// An error from it (an expired certificate, say) is reported as a load
	// failure would be, and the identity in use stays.
	Apply func(*keystore.Identity) error
	// OnError receives load failures; nil ignores them.
	OnError func(error)

	mu   sync.Mutex
	seen fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// Check loads the file if it changed since the last successful or failed load,
// and reports whether a new identity was applied.
func (r *Reloader) Check() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fi, err := os.Stat(r.Path)
	if err != nil {
		return false, r.report(err)
	}
	stamp := fileStamp{fi.ModTime(), fi.Size()}
	if stamp == r.seen {
		return false, nil
	}
	r.seen = stamp
	id, err := keystore.LoadFile(r.Path, r.Options)
	if err != nil {
		return false, r.report(err)
	}
	if err := r.Apply(id); err != nil {
		return false, r.report(err)
	}
	return true, nil
}

func (r *Reloader) report(err error) error {
	if r.OnError != nil {
		r.OnError(err)
	}
	return err
}

// Run calls Check every interval until ctx ends. The first Check records the
// file as it is, so a Reloader set up beside an already loaded identity reloads
// only on change.
func (r *Reloader) Run(ctx context.Context, interval time.Duration) error {
	r.mu.Lock()
	if fi, err := os.Stat(r.Path); err == nil && r.seen == (fileStamp{}) {
		r.seen = fileStamp{fi.ModTime(), fi.Size()}
	}
	r.mu.Unlock()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			_, _ = r.Check()
		}
	}
}
