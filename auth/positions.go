package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/sfmtls/sfmtls/internal/atomicfile"
	"github.com/sfmtls/sfmtls/internal/errs"
)

// maxPosition bounds a saved position: replay ids and watermarks are a few
// dozen bytes, so a larger one is a bug, not data to keep.
const maxPosition = 64 << 10

// subscription is the file of one subscription (events.Store): its position
// and its lease, in one file so that SavePosition checks the lease and writes
// the position under one lock.
type subscription struct {
	Format   int    `json:"format"`
	Key      string `json:"key"`
	Holder   string `json:"holder,omitempty"`
	Expires  int64  `json:"lease_expires_ms,omitempty"` // unix milliseconds
	Position []byte `json:"position,omitempty"`
}

const subscriptionFormat = 1

// subscriptionFile names key's file: key is any string (a channel name has
// slashes), so the file is named by its hash and the file records the key.
func (s *FileStore) subscriptionFile(key string) (string, error) {
	if key == "" {
		return "", configError("file store: empty subscription key")
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.dir, "subscription-"+hex.EncodeToString(sum[:16])), nil
}

// readSubscription reads key's file; a missing file is an empty record.
func readSubscription(path, key string) (*subscription, error) {
	f, err := openNoFollow(path + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return &subscription{Format: subscriptionFormat, Key: key}, nil
	}
	if err != nil {
		return nil, &StoreFileError{Path: path + ".json", Reason: err.Error(), Remedy: "check the file's owner and permissions"}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 2*maxPosition))
	if err != nil {
		return nil, &StoreFileError{Path: path + ".json", Reason: err.Error()}
	}
	var sub subscription
	if err := json.Unmarshal(data, &sub); err != nil || sub.Format != subscriptionFormat || sub.Key != key {
		return nil, &StoreFileError{Path: path + ".json", Reason: "not a subscription file of this version for this key",
			Remedy: "delete it to start the subscription from its replay start"}
	}
	return &sub, nil
}

func writeSubscription(path string, sub *subscription) error {
	data, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteSecret(path+".json", data, true); err != nil {
		return &StoreFileError{Path: path + ".json", Reason: err.Error(), Remedy: "the store's directory must be writable by this user"}
	}
	return nil
}

// withSubscription runs f on key's record under its lock (flock on a lock file
// beside it, so processes on this machine take turns), and writes the record
// back when f says so.
func (s *FileStore) withSubscription(ctx context.Context, key string, f func(sub *subscription, now time.Time) (write bool, err error)) error {
	path, err := s.subscriptionFile(key)
	if err != nil {
		return err
	}
	unlock, err := s.fileLock(ctx, path+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	sub, err := readSubscription(path, key)
	if err != nil {
		return err
	}
	write, err := f(sub, time.Now())
	if err != nil || !write {
		return err
	}
	return writeSubscription(path, sub)
}

// held reports whether holder holds sub's lease at now.
func (sub *subscription) held(holder string, now time.Time) bool {
	return sub.Holder != "" && sub.Holder == holder && now.UnixMilli() < sub.Expires
}

// LoadPosition returns key's saved position (events.Store), or nil.
func (s *FileStore) LoadPosition(ctx context.Context, key string) ([]byte, error) {
	var pos []byte
	err := s.withSubscription(ctx, key, func(sub *subscription, _ time.Time) (bool, error) {
		pos = sub.Position
		return false, nil
	})
	return pos, err
}

// SavePosition saves pos as key's position if holder holds key's lease
// (events.Store), and returns errs.ErrLeaseLost (events.ErrLeaseLost)
// otherwise; the check and the write happen under one file lock.
func (s *FileStore) SavePosition(ctx context.Context, key, holder string, pos []byte) error {
	if holder == "" {
		return configError("file store: empty lease holder")
	}
	if len(pos) > maxPosition {
		return configError("file store: a position of %d bytes (at most %d)", len(pos), maxPosition)
	}
	return s.withSubscription(ctx, key, func(sub *subscription, now time.Time) (bool, error) {
		if !sub.held(holder, now) {
			return false, fmt.Errorf("auth: saving the position of %q: %w", key, errs.ErrLeaseLost)
		}
		sub.Position = append([]byte(nil), pos...)
		return true, nil
	})
}

// AcquireLease makes holder key's lease holder until ttl from now if the lease
// is free, expired, or holder's (events.Store). The expiry is this machine's
// clock, which every process sharing the directory reads.
func (s *FileStore) AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, error) {
	if holder == "" || ttl <= 0 {
		return false, configError("file store: a lease needs a holder and a positive TTL")
	}
	got := false
	err := s.withSubscription(ctx, key, func(sub *subscription, now time.Time) (bool, error) {
		if sub.Holder != "" && sub.Holder != holder && now.UnixMilli() < sub.Expires {
			return false, nil
		}
		sub.Holder, sub.Expires, got = holder, now.Add(ttl).UnixMilli(), true
		return true, nil
	})
	return got, err
}

// ReleaseLease gives key's lease up if holder holds it (events.Store), so
// another process can take over at once rather than after the TTL.
func (s *FileStore) ReleaseLease(ctx context.Context, key, holder string) error {
	return s.withSubscription(ctx, key, func(sub *subscription, _ time.Time) (bool, error) {
		if holder == "" || sub.Holder != holder {
			return false, nil
		}
		sub.Holder, sub.Expires = "", 0
		return true, nil
	})
}
