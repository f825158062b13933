package pubsub_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/sfmtls/sfmtls/events"
	"github.com/sfmtls/sfmtls/pubsub"
	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
)

const streamBenchEvents = 10_000

// BenchmarkSubscribeStream reads streamBenchEvents platform events from the
// fake Pub/Sub API, from EARLIEST, per iteration: through events.Subscription
// and pubsub.Subscriber (flow control, decoding to JSON, a position saved in
// memory per event), and, as the baseline, a bare Subscribe loop that asks
// for 100 at a time and decodes with hamba/avro's plain Unmarshal. Figures
// in README.md.
func BenchmarkSubscribeStream(b *testing.B) {
	e := newEnv(b)
	for range streamBenchEvents / 100 {
		e.publish(b, make([]float64, 100)...)
	}
	for _, impl := range []string{"baseline", "sfmtls"} {
		b.Run("impl="+impl, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for range b.N {
				var n int
				if impl == "baseline" {
					n = rawSubscribe(b, e)
				} else {
					n = subscribeAll(b, e)
				}
				if n != streamBenchEvents {
					b.Fatalf("%d events, want %d", n, streamBenchEvents)
				}
			}
			b.ReportMetric(float64(streamBenchEvents*b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

func subscribeAll(b *testing.B, e *env) int {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	n := 0
	_ = (&events.Subscription{Source: &pubsub.Subscriber{Client: e.ps, Topic: orderTopic}, Start: events.ReplayAll}).Run(ctx,
		func(context.Context, events.Event) error {
			if n++; n == streamBenchEvents {
				cancel()
			}
			return nil
		})
	return n
}

// rawSubscribe is the baseline: one gRPC stream, the same TLS and token.
func rawSubscribe(b *testing.B, e *env) int {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	tok, err := e.sf.Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	_, rest, _ := strings.Cut(tok.ID, "/id/")
	org, _, _ := strings.Cut(rest, "/")
	ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs("accesstoken", string(tok.AccessToken), "instanceurl", tok.InstanceURL, "tenantid", org))
	conn, err := grpc.NewClient(e.srv.Addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: e.srv.RootCAs(), ServerName: "127.0.0.1"})))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	api := pb.NewPubSubClient(conn)
	info, err := api.GetSchema(ctx, &pb.SchemaRequest{SchemaId: e.schemaID(b)})
	if err != nil {
		b.Fatal(err)
	}
	schema := avro.MustParse(info.GetSchemaJson())
	stream, err := api.Subscribe(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := stream.Send(&pb.FetchRequest{TopicName: orderTopic, ReplayPreset: pb.ReplayPreset_EARLIEST, NumRequested: 100}); err != nil {
		b.Fatal(err)
	}
	n, pending := 0, 100
	for n < streamBenchEvents {
		resp, err := stream.Recv()
		if err != nil {
			b.Fatal(err)
		}
		for _, ce := range resp.GetEvents() {
			var m map[string]any
			if err := avro.Unmarshal(schema, ce.GetEvent().GetPayload(), &m); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if pending -= len(resp.GetEvents()); pending <= 50 {
			if err := stream.Send(&pb.FetchRequest{NumRequested: int32(100 - pending)}); err != nil {
				b.Fatal(err)
			}
			pending = 100
		}
	}
	return n
}

func (e *env) schemaID(b *testing.B) string {
	info, err := e.ps.Topic(b.Context(), orderTopic)
	if err != nil {
		b.Fatal(err)
	}
	return info.SchemaID
}
