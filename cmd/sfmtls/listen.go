package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/cmd/sfmtls/internal/settings"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/internal/storekey"
	"github.com/sfmtls/sfmtls/pubsub"
)

// listenFlags are listen's own flags.
type listenFlags struct {
	replay   string
	output   string
	ifGone   string
	leaseTTL time.Duration
	interval time.Duration
	lag      time.Duration
}

// streamingChannel is a Streaming API channel: /topic/, /event/, /data/ or /u/.
var streamingChannel = regexp.MustCompile(`^/(topic|event|data|u)/[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*$`)

// triggerChannel is trigger:OBJECT[:CHANGE,...].
var triggerChannel = regexp.MustCompile(`^trigger:([A-Za-z][A-Za-z0-9_]*)(?::((?:CREATE|UPDATE|DELETE)(?:,(?:CREATE|UPDATE|DELETE))*))?$`)

func newListenCommand(e *env) *cobra.Command {
	var f listenFlags
	var s *settings.Settings
	var ts *settings.TokenStore
	var ps *pubsubFlags
	cmd := &cobra.Command{
		Use:   "listen CHANNEL",
		Short: "listen to a Streaming API channel or a change trigger and print its events as JSON lines",
		Long: `Listen to a channel and print each event as one JSON line (channel, replayId,
time, change, data), until Ctrl-C (exit status 130). CHANNEL is a Streaming API
channel on the org's mutual TLS port (/topic/PUSHTOPIC, /event/NAME__e,
/data/OBJECTChangeEvent, /u/GENERIC) or a change trigger that polls an object
for orgs without Change Data Capture: trigger:OBJECT for new, modified and
deleted records, or trigger:OBJECT:CREATE,UPDATE,DELETE for some of them.

The position (the replay id, or the trigger's watermark) is saved in the token
store after each event is printed, so the next run resumes after the last event
printed: file (default) keeps it beside the session under the user's cache
directory, a Redis URL shares it with the other processes of a fleet, none
keeps no position. Delivery is at least once: after a crash, the event whose
line was printed when the process died may be printed again. With a shared
store, processes listening to one channel take turns under a lease: one prints,
another takes over within --lease-ttl when it dies, from the saved position.

--replay says where to start when no position is saved: new (the default:
events from now on), all (every event still retained), or a replay id to
start after (a Streaming channel; it replaces the saved position).

--pubsub listens through the Pub/Sub API (gRPC, --pubsub-endpoint, by default
api.pubsub.salesforce.com:7443) with the same identity, store and lease: CHANNEL
is then a topic, /event/NAME__e, /data/OBJECTChangeEvent or /data/ChangeEvents,
and --replay takes new or all (Pub/Sub replay ids are opaque).
` + connectionHelp + "\n" + sessionHelp,
		Example: `  sfmtls listen /data/AccountChangeEvent
  sfmtls listen /event/Order_Placed__e --replay all
  sfmtls listen trigger:Account:CREATE,UPDATE --poll-interval 30s
  sfmtls listen --pubsub /data/AccountChangeEvent
  SF_TOKEN_STORE=redis://redis:6379/0 sfmtls listen /data/AccountChangeEvent`,
		Args: exactArgs(1, "one channel, e.g. /data/AccountChangeEvent or trigger:Account"),
		RunE: body(func(_ *cobra.Command, args []string) error {
			if f.output != "json" {
				return usagef("-o %s: listen prints JSON lines only (-o json)", f.output)
			}
			ifGone, err := parseIfGone(f.ifGone)
			if err != nil {
				return err
			}
			if err := needSettings(s, ts); err != nil {
				return err
			}
			c, store, done, err := connectStore(s, ts, e)
			if err != nil {
				return err
			}
			defer done()
			src, err := listenSource(args[0], c, f)
			if ps.on {
				src, err = nil, pubsubTopic(args[0])
			}
			if err != nil {
				return err
			}
			if ps.on {
				psc, err := ps.client(c)
				if err != nil {
					return err
				}
				defer psc.Close()
				src = &pubsub.Subscriber{Client: psc, Topic: args[0]}
			}
			start, after, err := parseReplay(f.replay, src)
			if err != nil {
				return err
			}
			cfg, err := s.ClientConfig(e.getenv)
			if err != nil {
				return err
			}
			// Positions are per org and user: the same channel of two orgs
			// in one store must not share a replay id.
			src = keyedSource{Source: src, key: storekey.Key(cfg.LoginURL, cfg.ConsumerKey, cfg.Username) + ":" + src.Key()}
			var es events.Store
			if store != nil {
				var ok bool
				if es, ok = store.(events.Store); !ok {
					return fmt.Errorf("the token store %T keeps no positions", store)
				}
			} else {
				warn(e, []string{"the token store is none: the position is not kept, and the next run starts again from --replay"})
			}
			sub := &events.Subscription{Source: src, Start: start, Store: es, LeaseTTL: f.leaseTTL, IfGone: ifGone,
				Logger: newLogger(e.stderr, slog.LevelWarn)}
			if after != nil {
				if sub.Store == nil {
					return usagef("--replay ID needs a token store to hold the position (not none)")
				}
				if err := startAfter(e.ctx, sub, after); err != nil {
					return err
				}
			}
			err = sub.Run(e.ctx, printEvent(e.stdout))
			if interrupted(e.ctx) {
				fmt.Fprintln(e.stderr, "sfmtls listen: interrupted: the position of the last event printed is saved")
				return exitCode(exitInterrupted)
			}
			return err
		}),
	}
	cmd.Flags().StringVar(&f.replay, "replay", "new", "where to start without a saved position: `new`, all, or a replay id to start after")
	_ = cmd.RegisterFlagCompletionFunc("replay", completeWords("new", "all"))
	cmd.Flags().StringVarP(&f.output, "output", "o", "json", "print the events as `FORMAT`: json (one object a line)")
	_ = cmd.RegisterFlagCompletionFunc("output", completeWords("json"))
	cmd.Flags().StringVar(&f.ifGone, "if-gone", "fail", "when the saved position is no longer retained: `fail`, or earliest (start from the earliest event retained, losing those between)")
	_ = cmd.RegisterFlagCompletionFunc("if-gone", completeWords("fail", "earliest"))
	cmd.Flags().DurationVar(&f.leaseTTL, "lease-ttl", 15*time.Second, "how long the listening process's lease lasts unless renewed: another takes over within it after a crash")
	cmd.Flags().DurationVar(&f.interval, "poll-interval", 10*time.Second, "a change trigger's wait between polls")
	cmd.Flags().DurationVar(&f.lag, "lag", 30*time.Second, "how far behind the clock a change trigger reads (covers clock skew and late commits)")
	s = connectionFlags(cmd, e)
	ts = tokenStoreFlags(cmd, e)
	ps = registerPubSubFlags(cmd, e, "listen")
	return cmd
}

// listenSource is the Source CHANNEL names.
func listenSource(channel string, c *client.Client, f listenFlags) (events.Source, error) {
	if m := triggerChannel.FindStringSubmatch(channel); m != nil {
		tr := &events.Trigger{Client: c, Object: m[1], Interval: f.interval, Lag: f.lag}
		if m[2] != "" {
			tr.ChangeTypes = strings.Split(m[2], ",")
		}
		return tr, nil
	}
	if streamingChannel.MatchString(channel) {
		return &events.Streaming{Client: c, Channel: channel}, nil
	}
	return nil, usagef("%q is not a channel: give /topic/NAME, /event/NAME__e, /data/NAMEChangeEvent, /u/NAME or trigger:OBJECT", channel)
}

func parseIfGone(s string) (events.IfGone, error) {
	switch s {
	case "fail":
		return events.GoneFail, nil
	case "earliest":
		return events.GoneEarliest, nil
	}
	return 0, usagef("--if-gone %s: give fail or earliest", s)
}

// parseReplay reads --replay: new, all, or a replay id (then the position to
// start after, for a Streaming channel).
func parseReplay(s string, src events.Source) (events.Replay, []byte, error) {
	switch s {
	case "new":
		return events.ReplayNew, nil, nil
	case "all":
		return events.ReplayAll, nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, nil, usagef("--replay %s: give new, all or a replay id (a number)", s)
	}
	if _, ok := src.(*events.Streaming); !ok {
		return 0, nil, usagef("--replay ID is for a Streaming API channel; a change trigger starts at new or all")
	}
	return events.ReplayNew, []byte(strconv.FormatInt(id, 10)), nil
}

// startAfter saves pos as the subscription's position under its lease, which
// Run then renews as the same holder.
func startAfter(ctx context.Context, sub *events.Subscription, pos []byte) error {
	if sub.Holder == "" {
		sub.Holder = fmt.Sprintf("sfmtls-listen-%d", time.Now().UnixNano())
	}
	key := sub.Source.Key()
	ttl := sub.LeaseTTL
	held, err := sub.Store.AcquireLease(ctx, key, sub.Holder, ttl)
	if err != nil {
		return err
	}
	if !held {
		return errors.New("another process is listening to this channel (it holds the lease): --replay ID would move its position; stop it first")
	}
	return sub.Store.SavePosition(ctx, key, sub.Holder, pos)
}

// keyedSource names a Source's position and lease in the store.
type keyedSource struct {
	events.Source
	key string
}

func (k keyedSource) Key() string { return k.key }

// eventLine is one printed event.
type eventLine struct {
	Channel  string               `json:"channel"`
	ReplayID int64                `json:"replayId,omitempty"`
	Time     string               `json:"time,omitempty"`
	Change   *events.ChangeHeader `json:"change,omitempty"`
	Data     json.RawMessage      `json:"data"`
}

// printEvent writes each event as a JSON line; the position is saved only
// once the line is written.
func printEvent(w io.Writer) events.Handler {
	enc := json.NewEncoder(w)
	return func(_ context.Context, ev events.Event) error {
		line := eventLine{Channel: ev.Channel, ReplayID: ev.ReplayID, Change: ev.Change, Data: ev.Data}
		if !ev.Time.IsZero() {
			line.Time = ev.Time.UTC().Format(time.RFC3339Nano)
		}
		if len(line.Data) == 0 || !json.Valid(line.Data) {
			line.Data = json.RawMessage("null")
		}
		return enc.Encode(line)
	}
}
