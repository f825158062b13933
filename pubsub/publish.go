package pubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
)

// Message is one event to publish.
type Message struct {
	// ID is the event's correlation key; empty gets a random one. Results
	// and UnknownOutcomeError name events by it.
	ID string
	// Fields are the event's fields: a map[string]any, a struct with
	// `avro:"Name__c"` tags, or a json.RawMessage object (its numbers take
	// the field's type; CreatedDate and CreatedById default to now and ""),
	// encoded under the topic's current schema.
	Fields any
}

// PublishResult is the outcome of one event.
type PublishResult struct {
	ID string
	// ReplayID is the event's replay id when it was published.
	ReplayID []byte
	// Err is a *PublishError when Salesforce refused the event, or nil.
	Err error
}

// maxPublishBatch bounds the events of one Publish call (the Pub/Sub API
// takes up to 200 events and 3 MB per request).
const maxPublishBatch = 200

// Publish publishes msgs to topic in one request and returns a result per
// event, in order. When the answer is lost after the request went out, it
// returns an *UnknownOutcomeError and sends nothing again.
func (c *Client) Publish(ctx context.Context, topic string, msgs ...Message) ([]PublishResult, error) {
	req, ids, err := c.publishRequest(ctx, topic, msgs)
	if err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, "Publish", topic, func(ctx context.Context) (*pb.PublishResponse, error) {
		return c.api.Publish(ctx, req)
	})
	if err != nil {
		if lost(err) {
			return nil, &UnknownOutcomeError{Topic: topic, IDs: ids, Err: err}
		}
		return nil, err
	}
	return results(topic, ids, resp.GetResults())
}

// lost reports whether a failed call's request may have been acted on: any
// failure but a refusal the server gives before doing anything.
func lost(err error) bool {
	var api *APIError
	var sr *SessionRefusedError
	if errors.As(err, &sr) {
		return false
	}
	if errors.As(err, &api) {
		switch api.Code {
		case codes.InvalidArgument, codes.NotFound, codes.PermissionDenied, codes.Unauthenticated,
			codes.FailedPrecondition, codes.Unimplemented, codes.ResourceExhausted:
			return false
		}
	}
	return true
}

func (c *Client) publishRequest(ctx context.Context, topic string, msgs []Message) (*pb.PublishRequest, []string, error) {
	if len(msgs) == 0 || len(msgs) > maxPublishBatch {
		return nil, nil, fmt.Errorf("pubsub: publish 1 to %d events at a time, not %d", maxPublishBatch, len(msgs))
	}
	info, err := c.Topic(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	schema, err := c.Schema(ctx, info.SchemaID)
	if err != nil {
		return nil, nil, err
	}
	req := &pb.PublishRequest{TopicName: topic}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		id := m.ID
		if id == "" {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		ids[i] = id
		fields := m.Fields
		if raw, ok := fields.(json.RawMessage); ok {
			if fields, err = fromJSON(schema, raw); err != nil {
				return nil, nil, fmt.Errorf("pubsub: event %s: %w", id, err)
			}
		}
		payload, err := avro.Marshal(schema, fields)
		if err != nil {
			return nil, nil, fmt.Errorf("pubsub: event %s does not fit the schema of %s: %w", id, topic, err)
		}
		req.Events = append(req.Events, &pb.ProducerEvent{Id: id, SchemaId: info.SchemaID, Payload: payload})
	}
	return req, ids, nil
}

// results pairs the answer's results with the events, by correlation key.
func results(topic string, ids []string, rs []*pb.PublishResult) ([]PublishResult, error) {
	byID := make(map[string]*pb.PublishResult, len(rs))
	for _, r := range rs {
		byID[r.GetCorrelationKey()] = r
	}
	out := make([]PublishResult, len(ids))
	var missing []string
	for i, id := range ids {
		out[i].ID = id
		r, ok := byID[id]
		switch {
		case !ok:
			missing = append(missing, id)
			out[i].Err = ErrUnknownOutcome
		case r.GetError() != nil:
			out[i].Err = &PublishError{ID: id, Code: r.GetError().GetCode().String(), Message: r.GetError().GetMsg()}
		default:
			out[i].ReplayID = r.GetReplayId()
		}
	}
	if len(missing) > 0 {
		return out, &UnknownOutcomeError{Topic: topic, IDs: missing, Err: errors.New("pubsub: the answer has no result for them")}
	}
	return out, nil
}

// PublishStream publishes batches of events on one PublishStream call and
// returns a result per event, in order. Events whose answer did not arrive
// before the stream broke are in the returned *UnknownOutcomeError (their
// results' Err is ErrUnknownOutcome); nothing is sent again.
func (c *Client) PublishStream(ctx context.Context, topic string, batches ...[]Message) ([]PublishResult, error) {
	var reqs []*pb.PublishRequest
	var ids []string
	for _, b := range batches {
		req, bids, err := c.publishRequest(ctx, topic, b)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, req)
		ids = append(ids, bids...)
	}
	sctx, tok, err := c.identity(ctx)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(sctx)
	defer cancel()
	stream, err := c.api.PublishStream(sctx)
	if err != nil {
		return nil, apiError("PublishStream", err)
	}
	sent := make(chan error, 1)
	go func() {
		for _, r := range reqs {
			if err := stream.Send(r); err != nil {
				sent <- err
				return
			}
		}
		sent <- stream.CloseSend()
	}()
	var got []*pb.PublishResult
	var failure error
	for len(got) < len(ids) {
		resp, err := stream.Recv()
		if err != nil {
			failure = err
			break
		}
		got = append(got, resp.GetResults()...)
	}
	cancel()
	<-sent
	out, rerr := results(topic, ids, got)
	if failure == nil || errors.Is(failure, io.EOF) {
		return out, rerr
	}
	if status.Code(failure) == codes.Unauthenticated && len(got) == 0 {
		// Refused before anything was taken: drop the token for the next call.
		c.reject(tok)
		return nil, apiError("PublishStream", failure)
	}
	var u *UnknownOutcomeError
	if errors.As(rerr, &u) {
		u.Err = failure
	}
	return out, rerr
}
