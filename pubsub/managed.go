package pubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
)

// ManagedSubscriber is the events.Source of a managed subscription
// (ManagedSubscribe, beta in Salesforce; the org defines it as a
// ManagedEventSubscription record): Salesforce keeps the position, and the
// subscriber commits each event's replay id after the handler returned nil
// and the subscription saved it. A new stream (after a restart, a server
// close or a refused session) starts after the last commit Salesforce kept,
// so Run ignores the Store's position and the Replay start: they serve the
// lease and the record only. Flow control, schemas, decoding and the
// watchdog are the Subscriber's. Events' Channel is the subscription's name.
type ManagedSubscriber struct {
	// Client is the Pub/Sub API client.
	Client *Client
	// Subscription is the managed subscription's developer name, or its
	// record id (prefix 18x).
	Subscription string
	// Batch, IdleTimeout and OnUndecodable are as in Subscriber.
	Batch         int
	IdleTimeout   time.Duration
	OnUndecodable func(ctx context.Context, err *DecodeError)
}

// Key implements events.Source: "pubsub-managed:" and the subscription.
func (m *ManagedSubscriber) Key() string { return "pubsub-managed:" + m.Subscription }

// Run implements events.Source.
func (m *ManagedSubscriber) Run(ctx context.Context, _ []byte, _ events.Replay, deliver func(context.Context, events.Event) error) error {
	if m.Client == nil || m.Subscription == "" {
		return errors.New("pubsub: ManagedSubscriber needs a Client and a Subscription")
	}
	st := newStream(m.Client, m.Subscription, m.Batch, m.IdleTimeout, m.OnUndecodable, deliver)
	st.managed = true
	st.open = func(ctx context.Context) (fetchStream, error) {
		stream, err := m.Client.api.ManagedSubscribe(ctx)
		if err != nil {
			return nil, err
		}
		req := &pb.ManagedFetchRequest{NumRequested: st.batch}
		if len(m.Subscription) == 18 && strings.HasPrefix(m.Subscription, "18x") {
			req.SubscriptionId = m.Subscription
		} else {
			req.DeveloperName = m.Subscription
		}
		return managedStream{stream}, stream.Send(req)
	}
	return st.run(ctx)
}

type managedStream struct {
	s interface {
		Send(*pb.ManagedFetchRequest) error
		Recv() (*pb.ManagedFetchResponse, error)
		Trailer() metadata.MD
	}
}

func (f managedStream) more(n int32) error   { return f.s.Send(&pb.ManagedFetchRequest{NumRequested: n}) }
func (f managedStream) Trailer() metadata.MD { return f.s.Trailer() }

func (f managedStream) commit(replay []byte) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return f.s.Send(&pb.ManagedFetchRequest{CommitReplayIdRequest: &pb.CommitReplayRequest{
		CommitRequestId: hex.EncodeToString(b[:]), ReplayId: replay}})
}

func (f managedStream) recv() ([]*pb.ConsumerEvent, *pb.CommitReplayResponse, error) {
	r, err := f.s.Recv()
	return r.GetEvents(), r.GetCommitResponse(), err
}
