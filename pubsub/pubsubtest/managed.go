package pubsubtest

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
)

// managedSub is a managed subscription (a ManagedEventSubscription record):
// the server keeps its position, the last replay id committed.
type managedSub struct {
	id, name, topic string
	committed       []byte
}

// AddManagedSubscription defines a managed subscription to topic, as
// creating a ManagedEventSubscription record does, and returns its id. With
// nothing committed it starts at the earliest retained event.
func (s *Server) AddManagedSubscription(developerName, topic string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.managed == nil {
		s.managed = map[string]*managedSub{}
	}
	id := fmt.Sprintf("18x%015d", len(s.managed)+1)
	s.managed[developerName] = &managedSub{id: id, name: developerName, topic: topic}
	return id
}

// Committed returns the replay id a managed subscription last committed.
func (s *Server) Committed(developerName string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.managed[developerName]; m != nil {
		return slices.Clone(m.committed)
	}
	return nil
}

// ManagedSubscribe implements the PubSub service.
func (s service) ManagedSubscribe(stream grpc.BidiStreamingServer[pb.ManagedFetchRequest, pb.ManagedFetchResponse]) error {
	ctx := stream.Context()
	if err := s.authenticate(ctx); err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return nil
	}
	s.mu.Lock()
	s.subscribes++
	var m *managedSub
	for _, ms := range s.managed {
		if ms.name == first.GetDeveloperName() || ms.id == first.GetSubscriptionId() {
			m = ms
		}
	}
	var t *topic
	at := 0
	if m != nil {
		t = s.topics[m.topic]
		if t != nil && m.committed != nil {
			at = slices.IndexFunc(t.events, func(e stored) bool { return string(e.replay) == string(m.committed) }) + 1
		}
	}
	s.mu.Unlock()
	if m == nil || t == nil {
		return status.Error(codes.NotFound, "no such managed subscription")
	}
	return s.serve(ctx, t, at, first.GetNumRequested(),
		func() (int32, *pb.CommitReplayRequest, error) {
			req, err := stream.Recv()
			return req.GetNumRequested(), req.GetCommitReplayIdRequest(), err
		},
		func(evs []*pb.ConsumerEvent, latest []byte, pending int32, cr *pb.CommitReplayResponse) error {
			return stream.Send(&pb.ManagedFetchResponse{Events: evs, LatestReplayId: latest, RpcId: "fake",
				PendingNumRequested: pending, CommitResponse: cr})
		},
		func(c *pb.CommitReplayRequest) *pb.CommitReplayResponse {
			start := time.Now()
			s.mu.Lock()
			defer s.mu.Unlock()
			resp := &pb.CommitReplayResponse{CommitRequestId: c.GetCommitRequestId(), ReplayId: c.GetReplayId()}
			if !slices.ContainsFunc(t.events, func(e stored) bool { return string(e.replay) == string(c.GetReplayId()) }) {
				resp.Error = &pb.Error{Code: pb.ErrorCode_COMMIT, Msg: "the replay id is not an event of the topic"}
			} else {
				m.committed = slices.Clone(c.GetReplayId())
			}
			resp.ProcessTime = time.Since(start).Milliseconds()
			return resp
		})
}
