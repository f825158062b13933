package pubsub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/internal/retry"
	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
)

// Subscriber is the events.Source of one Pub/Sub API topic, such as
// "/data/AccountChangeEvent" or "/event/Order_Placed__e". Run it under an
// events.Subscription. Its position is the replay id of the last event
// handled (opaque bytes).
//
// Flow control: it asks for at most Batch events (≤ 100) and asks for more
// only as the handler finishes events, so no more than Batch events wait for
// the handler. Schemas are fetched once per schema id. A stream the server
// closes, or one silent for longer than IdleTimeout (Salesforce sends an
// empty keepalive answer within 270 seconds), is subscribed again from the
// last event handled: nothing is lost and nothing handled is repeated.
type Subscriber struct {
	// Client is the Pub/Sub API client.
	Client *Client
	// Topic is the topic's name.
	Topic string
	// Batch is how many events may be requested ahead of the handler: 1 to
	// 100, default 100.
	Batch int
	// IdleTimeout is how long a stream may stay silent before it is
	// subscribed again; default 5 minutes (above the 270 s keepalive).
	IdleTimeout time.Duration
	// OnUndecodable is told of an event whose payload does not decode under
	// its schema; the stream goes on after it. nil logs it at warning level.
	OnUndecodable func(ctx context.Context, err *DecodeError)
}

// Limits of the Pub/Sub API and of the subscriber.
const (
	maxBatch           = 100 // num_requested's upper bound in the Pub/Sub API
	defaultIdleTimeout = 5 * time.Minute
	// errorCodeReplayCorrupted is the error-code trailer of a subscription
	// from a replay id no longer retained ("Retry Long-Lived RPC Calls After
	// an Error Occurs",
	// https://developer.salesforce.com/docs/platform/pub-sub-api/guide/retry-rpc-calls.html).
	errorCodeReplayCorrupted = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
)

// resubscribeBackoff paces new subscriptions after failures, with the SDK's
// one backoff: a few minutes of failures in a row before Run gives up.
var resubscribeBackoff = retry.Backoff{MaxAttempts: 12, BaseDelay: 200 * time.Millisecond, MaxDelay: 30 * time.Second,
	MaxRetryAfter: 5 * time.Minute}

// Key implements events.Source: "pubsub:" and the topic.
func (s *Subscriber) Key() string { return "pubsub:" + s.Topic }

// Run implements events.Source.
func (s *Subscriber) Run(ctx context.Context, pos []byte, start events.Replay, deliver func(context.Context, events.Event) error) error {
	if s.Client == nil || s.Topic == "" {
		return errors.New("pubsub: Subscriber needs a Client and a Topic")
	}
	st := newStream(s.Client, s.Topic, s.Batch, s.IdleTimeout, s.OnUndecodable, deliver)
	st.last, st.start = pos, start
	st.open = func(ctx context.Context) (fetchStream, error) {
		stream, err := s.Client.api.Subscribe(ctx)
		if err != nil {
			return nil, err
		}
		req := &pb.FetchRequest{TopicName: s.Topic, NumRequested: st.batch}
		switch {
		case st.last != nil:
			req.ReplayPreset, req.ReplayId = pb.ReplayPreset_CUSTOM, st.last
		case st.start == events.ReplayAll:
			req.ReplayPreset = pb.ReplayPreset_EARLIEST
		default:
			req.ReplayPreset = pb.ReplayPreset_LATEST
		}
		return subscribeStream{stream}, stream.Send(req)
	}
	return st.run(ctx)
}

func newStream(c *Client, what string, batch int, idle time.Duration, onBad func(context.Context, *DecodeError),
	deliver func(context.Context, events.Event) error) *stream {
	if batch <= 0 || batch > maxBatch {
		batch = maxBatch
	}
	if idle <= 0 {
		idle = defaultIdleTimeout
	}
	return &stream{c: c, what: what, batch: int32(batch), idle: idle, onBad: onBad, deliver: deliver}
}

// run subscribes again and again until a failure no new subscription mends.
func (st *stream) run(ctx context.Context) error {
	failures := 0
	refreshed := false
	for {
		progressed, err := st.once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var fail *handlerFailure
		if errors.As(err, &fail) {
			return fail.err
		}
		if progressed {
			failures, refreshed = 0, false
		}
		code := status.Code(err)
		switch {
		case code == codes.Unauthenticated:
			if refreshed {
				stt := status.Convert(err)
				return &SessionRefusedError{Endpoint: st.c.endpoint, Topic: st.what, Code: stt.Code(), Message: stt.Message()}
			}
			refreshed = true
			st.c.reject(st.tok)
			st.c.log.LogAttrs(ctx, slog.LevelDebug, "pubsub: session refused; refreshing the token", slog.String("topic", st.what))
			continue
		case st.errorCode == errorCodeReplayCorrupted:
			return fmt.Errorf("pubsub: %s: %w (%w)", st.what, events.ErrPositionGone, st.apiErr(err))
		case code == codes.InvalidArgument || code == codes.NotFound || code == codes.PermissionDenied ||
			code == codes.FailedPrecondition || code == codes.Unimplemented:
			return st.apiErr(err)
		}
		failures++
		wait, again := resubscribeBackoff.Backoff(failures, retry.Failure{Err: err})
		if !again {
			return fmt.Errorf("pubsub: %s: giving up after %d failures in a row: %w", st.what, failures, err)
		}
		st.c.log.LogAttrs(ctx, slog.LevelDebug, "pubsub: stream ended; subscribing again from the last event handled",
			slog.String("topic", st.what), slog.Any("cause", err), slog.Duration("wait", wait))
		if err := retry.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// fetchStream is a Subscribe or a ManagedSubscribe stream.
type fetchStream interface {
	more(n int32) error
	// commit asks a managed subscription to keep replay as its position.
	commit(replay []byte) error
	recv() ([]*pb.ConsumerEvent, *pb.CommitReplayResponse, error)
	Trailer() metadata.MD
}

type subscribeStream struct {
	s interface {
		Send(*pb.FetchRequest) error
		Recv() (*pb.FetchResponse, error)
		Trailer() metadata.MD
	}
}

func (f subscribeStream) more(n int32) error   { return f.s.Send(&pb.FetchRequest{NumRequested: n}) }
func (f subscribeStream) commit([]byte) error  { return nil }
func (f subscribeStream) Trailer() metadata.MD { return f.s.Trailer() }
func (f subscribeStream) recv() ([]*pb.ConsumerEvent, *pb.CommitReplayResponse, error) {
	r, err := f.s.Recv()
	return r.GetEvents(), nil, err
}

// handlerFailure carries deliver's error out of a stream: it ends Run.
type handlerFailure struct{ err error }

func (e *handlerFailure) Error() string { return e.err.Error() }

// errIdle ends a stream that stayed silent past the IdleTimeout.
var errIdle = errors.New("pubsub: the stream was silent past the idle timeout")

// stream is the state that survives resubscriptions.
type stream struct {
	c       *Client
	what    string // the topic, or the managed subscription
	batch   int32
	idle    time.Duration
	onBad   func(context.Context, *DecodeError)
	last    []byte // replay id of the last event handled
	start   events.Replay
	deliver func(context.Context, events.Event) error
	open    func(context.Context) (fetchStream, error)
	managed bool // commit each event handled

	tok       *auth.Token // the current stream's, for reject
	errorCode string
}

func (st *stream) apiErr(err error) error {
	stt := status.Convert(err)
	return &APIError{Method: "Subscribe", Code: stt.Code(), ErrorCode: st.errorCode, Message: stt.Message()}
}

// once runs one stream until it fails; progressed reports whether it got
// an answer (so failures in a row are counted apart).
func (st *stream) once(ctx context.Context) (progressed bool, err error) {
	c := st.c
	st.errorCode = ""
	sctx, tok, err := c.identity(ctx)
	if err != nil {
		return false, &handlerFailure{err}
	}
	st.tok = tok
	sctx, cancel := context.WithCancelCause(sctx)
	defer cancel(nil)
	stream, err := st.open(sctx)
	if err != nil {
		if stream == nil {
			return false, err
		}
		return false, st.end(stream, err)
	}
	outstanding := st.batch

	// One reader, one answer ahead at most: the answers it holds are events
	// already requested, so the buffer stays within Batch.
	type answer struct {
		events []*pb.ConsumerEvent
		commit *pb.CommitReplayResponse
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		for {
			evs, cm, err := stream.recv()
			select {
			case answers <- answer{evs, cm, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(st.idle)
	defer timer.Stop()
	for {
		var a answer
		select {
		case a = <-answers:
		case <-timer.C:
			cancel(errIdle)
			return progressed, errIdle
		case <-ctx.Done():
			return progressed, ctx.Err()
		}
		if a.err != nil {
			return progressed, st.end(stream, a.err)
		}
		progressed = true
		timer.Reset(st.idle)
		if e := a.commit.GetError(); e != nil {
			// The server did not keep the position: subscribe again; it
			// resumes from the last commit it kept (at least once).
			return progressed, status.Error(codes.Unavailable, "pubsub: a commit was refused: "+e.GetMsg())
		}
		if got := int32(len(a.events)); got > outstanding {
			// More than asked for: a server fault; take them, but never ask beyond Batch.
			outstanding = 0
		} else {
			outstanding -= got
		}
		for _, ce := range a.events {
			if err := st.handle(ctx, ce); err != nil {
				return progressed, err
			}
			if st.managed {
				if err := stream.commit(ce.GetReplayId()); err != nil {
					return progressed, st.end(stream, err)
				}
			}
		}
		// Ask for more only once the handler took what came, and only up to Batch.
		if outstanding <= st.batch/2 {
			more := st.batch - outstanding
			if err := stream.more(more); err != nil {
				return progressed, st.end(stream, err)
			}
			outstanding += more
		}
	}
}

// end finishes a failed stream: io.EOF from Send means the status comes from
// Recv; the error-code trailer is kept for the classification.
func (st *stream) end(stream fetchStream, err error) error {
	if v := stream.Trailer().Get("error-code"); len(v) > 0 {
		st.errorCode = v[0]
	}
	if errors.Is(err, io.EOF) {
		return status.Error(codes.Unavailable, "pubsub: the server closed the stream")
	}
	return err
}

func (st *stream) handle(ctx context.Context, ce *pb.ConsumerEvent) error {
	c := st.c
	pe := ce.GetEvent()
	schema, err := c.Schema(ctx, pe.GetSchemaId())
	var refused *SessionRefusedError
	if errors.As(err, &refused) {
		return &handlerFailure{err}
	}
	if err != nil {
		// A new stream, from the last event handled, tries the fetch again
		// under the backoff.
		return fmt.Errorf("pubsub: %s: %w", st.what, err)
	}
	ev, err := decodeEvent(st.what, schema, pe.GetPayload(), ce.GetReplayId())
	if err != nil {
		derr := &DecodeError{Topic: st.what, SchemaID: pe.GetSchemaId(), ReplayID: ce.GetReplayId(), Err: err}
		if st.onBad != nil {
			st.onBad(ctx, derr)
		} else {
			c.log.LogAttrs(ctx, slog.LevelWarn, "pubsub: skipping an event that does not decode", slog.Any("error", derr))
		}
		// Reported once: a resubscription starts after it. Its position is
		// saved with the next event handled.
		st.last = ce.GetReplayId()
		return nil
	}
	if err := st.deliver(ctx, ev); err != nil {
		return &handlerFailure{err}
	}
	st.last = ce.GetReplayId()
	return nil
}
