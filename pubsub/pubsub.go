// Package pubsub listens and publishes through Salesforce's Pub/Sub API
// (gRPC, Avro) with the SDK's identity: the access token, instance URL and
// org id of a client.Client, got over mutual TLS on 8443, travel as the
// accesstoken, instanceurl and tenantid metadata of every call. A Subscriber
// is an events.Source, so it runs under events.Subscription with the same
// handler, stores and fleet lease as the Streaming API listener.
//
// It is a module of its own so that the SDK's go.mod pulls in no gRPC.
// Package pubsubtest holds a fake Pub/Sub server for tests.
package pubsub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sfmtls/sfmtls/auth"
	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
)

// DefaultEndpoint is Salesforce's global Pub/Sub API endpoint.
const DefaultEndpoint = "api.pubsub.salesforce.com:7443"

// Config configures a Client.
type Config struct {
	// Salesforce is the SDK client whose token, instance URL and org id
	// identify the calls; its token cache is the only one.
	Salesforce *client.Client
	// Endpoint is host:port of the Pub/Sub API; default DefaultEndpoint.
	// (SFMTLS_PUBSUB_ENDPOINT in the tool.)
	Endpoint string
	// RootCAs verifies the endpoint's certificate; nil uses the system roots.
	RootCAs *x509.CertPool
	// Logger receives reconnections at debug level and undecodable events at
	// warning level; nil discards them.
	Logger *slog.Logger
}

// Client is a connection to the Pub/Sub API. It is safe for concurrent use;
// Close it when done.
type Client struct {
	sf       *client.Client
	endpoint string
	conn     *grpc.ClientConn
	api      pb.PubSubClient
	log      *slog.Logger

	mu      sync.Mutex
	schemas map[string]*schemaEntry
}

type schemaEntry struct {
	ready  chan struct{}
	schema avro.Schema
	err    error
}

// New connects lazily to cfg.Endpoint (the first call dials).
func New(cfg Config) (*Client, error) {
	if cfg.Salesforce == nil {
		return nil, errors.New("pubsub: Config.Salesforce is nil")
	}
	ep := cfg.Endpoint
	if ep == "" {
		ep = DefaultEndpoint
	}
	host, _, ok := strings.Cut(ep, ":")
	if !ok || host == "" {
		return nil, fmt.Errorf("pubsub: Config.Endpoint %q is not host:port", ep)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs, ServerName: host}
	conn, err := grpc.NewClient(ep,
		grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		// Pings notice a dead connection. gRPC servers refuse pings more
		// often than every 5 minutes by default (grpc-java's
		// permitKeepAliveTime, grpc-go's MinTime) with GOAWAY
		// too_many_pings, so they come after 6 minutes of silence; within
		// that, Salesforce's empty FetchResponse (every 270 seconds at
		// most) and the inactivity watchdog do the work.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 6 * time.Minute, Timeout: 20 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)))
	if err != nil {
		return nil, fmt.Errorf("pubsub: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{sf: cfg.Salesforce, endpoint: ep, conn: conn, api: pb.NewPubSubClient(conn), log: log,
		schemas: map[string]*schemaEntry{}}, nil
}

// maxMessage bounds one answer of the server (events of up to 1 MB each,
// a batch of them).
const maxMessage = 64 << 20

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Endpoint returns the address the Client calls.
func (c *Client) Endpoint() string { return c.endpoint }

// identity returns a context carrying tok's metadata, and tok, so that a
// refusal drops that very token.
func (c *Client) identity(ctx context.Context) (context.Context, *auth.Token, error) {
	tok, err := c.sf.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	org, err := orgID(tok.ID)
	if err != nil {
		return nil, nil, err
	}
	md := metadata.Pairs("accesstoken", string(tok.AccessToken), "instanceurl", tok.InstanceURL, "tenantid", org)
	return metadata.NewOutgoingContext(ctx, md), tok, nil
}

// orgID takes the org id from the token answer's identity URL:
// https://login.salesforce.com/id/<orgId>/<userId>.
func orgID(id string) (string, error) {
	i := strings.Index(id, "/id/")
	if i >= 0 {
		parts := strings.Split(id[i+4:], "/")
		if len(parts) >= 2 && len(parts[0]) >= 15 {
			return parts[0], nil
		}
	}
	return "", errors.New("pubsub: the token's identity URL carries no org id")
}

// reject drops tok after an UNAUTHENTICATED answer: the next identity waits
// for the one refresh shared by every stream and REST call.
func (c *Client) reject(tok *auth.Token) { c.sf.Transport().RejectToken(tok) }

// call runs one unary call under the current token, refreshing it once
// when the Pub/Sub API refuses it (UNAUTHENTICATED happens before anything
// is done, so the call may be sent again).
func call[T any](ctx context.Context, c *Client, method, what string, f func(context.Context) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		cctx, tok, err := c.identity(ctx)
		if err != nil {
			return zero, err
		}
		v, err := f(cctx)
		if err == nil {
			return v, nil
		}
		if status.Code(err) == codes.Unauthenticated {
			if attempt == 0 {
				c.reject(tok)
				continue
			}
			st := status.Convert(err)
			return zero, &SessionRefusedError{Endpoint: c.endpoint, Topic: what, Code: st.Code(), Message: st.Message()}
		}
		return zero, apiError(method, err)
	}
}

// apiError turns a gRPC failure into an *APIError (or the context's error).
func apiError(method string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("pubsub: %s: %w", method, err)
	}
	if st.Code() == codes.Canceled || st.Code() == codes.DeadlineExceeded {
		return fmt.Errorf("pubsub: %s: %w", method, err)
	}
	return &APIError{Method: method, Code: st.Code(), Message: st.Message()}
}

// TopicInfo is what GetTopic says of a topic.
type TopicInfo struct {
	Name                     string
	SchemaID                 string
	CanPublish, CanSubscribe bool
}

// Topic returns a topic's description, such as "/event/Order__e".
func (c *Client) Topic(ctx context.Context, name string) (*TopicInfo, error) {
	t, err := call(ctx, c, "GetTopic", name, func(ctx context.Context) (*pb.TopicInfo, error) {
		return c.api.GetTopic(ctx, &pb.TopicRequest{TopicName: name})
	})
	if err != nil {
		return nil, err
	}
	return &TopicInfo{Name: t.GetTopicName(), SchemaID: t.GetSchemaId(), CanPublish: t.GetCanPublish(), CanSubscribe: t.GetCanSubscribe()}, nil
}

// Schema returns the parsed Avro schema of id, fetched once per id and
// cached: concurrent callers wait for the one fetch.
func (c *Client) Schema(ctx context.Context, id string) (avro.Schema, error) {
	c.mu.Lock()
	e, ok := c.schemas[id]
	if ok {
		c.mu.Unlock()
		select {
		case <-e.ready:
			return e.schema, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e = &schemaEntry{ready: make(chan struct{})}
	c.schemas[id] = e
	c.mu.Unlock()
	info, err := call(ctx, c, "GetSchema", id, func(ctx context.Context) (*pb.SchemaInfo, error) {
		return c.api.GetSchema(ctx, &pb.SchemaRequest{SchemaId: id})
	})
	if err == nil {
		e.schema, err = avro.Parse(info.GetSchemaJson())
		if err != nil {
			err = fmt.Errorf("pubsub: schema %s does not parse: %w", id, err)
		}
	}
	if err != nil {
		// A failure is not cached: the next caller fetches again.
		c.mu.Lock()
		delete(c.schemas, id)
		c.mu.Unlock()
	}
	e.err = err
	close(e.ready)
	return e.schema, err
}
