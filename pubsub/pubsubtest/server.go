// Package pubsubtest runs a fake Salesforce Pub/Sub API for tests, as
// net/http/httptest runs an HTTP server: gRPC over TLS on loopback, beside a
// salesforcetest org whose issued tokens it accepts.
//
// It holds topics with Avro schemas (GetTopic, GetSchema), replay ids
// (opaque, increasing), Subscribe with flow control (it never sends more
// events than requested, and records the client's flow-control faults),
// Publish and PublishStream with a result per event, and change events made
// from the org's own record changes (EnableChangeEvents). Faults:
// CloseStreams, ExpireTokens, CorruptNext, LoseNextPublishAnswer,
// RefuseSessions. Managed subscriptions (ManagedSubscribe with commits):
// AddManagedSubscription.
package pubsubtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/pubsub"
	"github.com/sfmtls/sfmtls/pubsub/internal/pb"
	"github.com/sfmtls/sfmtls/salesforcetest"
)

// Server is a running fake Pub/Sub API.
type Server struct {
	// Addr is host:port, for pubsub.Config.Endpoint.
	Addr string
	// KeepAlive is how often a subscription with nothing to send gets an
	// empty answer (Salesforce: within 270 s); set it before subscribing.
	KeepAlive time.Duration

	org      *salesforcetest.Org
	sf       *client.Client // the fake's own client, for the change feed
	orgID    string
	roots    *x509.CertPool
	cert     []byte // the server certificate, DER
	gs       *grpc.Server
	feed     context.CancelFunc
	feedDone chan struct{}

	mu            sync.Mutex
	topics        map[string]*topic
	schemas       map[string]string // id → Avro schema JSON
	next          uint64            // the last replay id given
	grown         chan struct{}     // closed and replaced when an event is stored
	ended         chan struct{}     // closed and replaced by CloseStreams and ExpireTokens
	endCode       codes.Code
	expired       map[string]bool
	refuse        bool
	corrupt       map[string]int
	losePublish   int
	violations    []string
	schemaFetches map[string]int
	maxPending    int32
	changeSchemas map[string]*changeSchema
	feeding       bool
	subscribes    int
	keepalives    int
	managed       map[string]*managedSub
}

// service is the PubSub gRPC service of a Server: its methods are not the
// Server's exported API.
type service struct {
	*Server
	pb.UnimplementedPubSubServer
}

type topic struct {
	name, schemaID string
	events         []stored
}

type stored struct {
	replay []byte
	ev     *pb.ProducerEvent
}

// New starts a fake Pub/Sub API for org, closed when the test ends.
func New(tb testing.TB, org *salesforcetest.Org) *Server {
	tb.Helper()
	s, err := Start(org)
	if err != nil {
		tb.Fatalf("pubsubtest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake Pub/Sub API for org on 127.0.0.1; Close it.
func Start(org *salesforcetest.Org) (*Server, error) {
	cert, roots, err := selfSigned()
	if err != nil {
		return nil, err
	}
	sf, err := client.New(org.ClientConfig())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := sf.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("pubsubtest: getting the org's id: %w", err)
	}
	_, rest, _ := strings.Cut(tok.ID, "/id/")
	orgID, _, _ := strings.Cut(rest, "/")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), KeepAlive: 270 * time.Second, org: org, sf: sf, orgID: orgID, roots: roots, cert: cert.Certificate[0],
		topics: map[string]*topic{}, schemas: map[string]string{}, grown: make(chan struct{}), ended: make(chan struct{}),
		expired: map[string]bool{}, corrupt: map[string]int{}, schemaFetches: map[string]int{}, changeSchemas: map[string]*changeSchema{}}
	s.gs = grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.MaxRecvMsgSize(4<<20))
	pb.RegisterPubSubServer(s.gs, service{Server: s})
	go func() { _ = s.gs.Serve(ln) }()
	return s, nil
}

// Close stops the server, ending every stream.
func (s *Server) Close() {
	s.mu.Lock()
	feed, done := s.feed, s.feedDone
	s.mu.Unlock()
	if feed != nil {
		feed()
		<-done
	}
	s.gs.Stop()
	_ = s.sf.Close()
}

// RootCAs returns a pool that trusts the server's certificate.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// CertificatePEM returns the server's certificate in PEM, for clients in
// other languages (or SF_PUBSUB_CA_FILE) to trust.
func (s *Server) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert})
}

// Config returns a pubsub.Config that reaches the server with sf's identity.
func (s *Server) Config(sf *client.Client) pubsub.Config {
	return pubsub.Config{Salesforce: sf, Endpoint: s.Addr, RootCAs: s.roots}
}

// AddTopic declares a topic (such as "/event/Order__e") with its Avro
// schema, and returns the schema's id.
func (s *Server) AddTopic(name, schemaJSON string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTopicLocked(name, schemaJSON)
}

func (s *Server) addTopicLocked(name, schemaJSON string) string {
	id := s.schemaIDLocked(schemaJSON)
	if t, ok := s.topics[name]; ok {
		t.schemaID = id
	} else {
		s.topics[name] = &topic{name: name, schemaID: id}
	}
	return id
}

func (s *Server) schemaIDLocked(schemaJSON string) string {
	for id, js := range s.schemas {
		if js == schemaJSON {
			return id
		}
	}
	id := fmt.Sprintf("fakeSchema%04d", len(s.schemas)+1)
	s.schemas[id] = schemaJSON
	return id
}

// Replay ids are 8 bytes, big-endian, increasing across topics.
func (s *Server) storeLocked(t *topic, ev *pb.ProducerEvent) []byte {
	s.next++
	r := binary.BigEndian.AppendUint64(nil, s.next)
	t.events = append(t.events, stored{replay: r, ev: ev})
	close(s.grown)
	s.grown = make(chan struct{})
	return r
}

// Published returns how many events topic holds.
func (s *Server) Published(topic string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.topics[topic]; ok {
		return len(t.events)
	}
	return 0
}

// SchemaFetches returns how many GetSchema calls asked for id.
func (s *Server) SchemaFetches(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.schemaFetches[id]
}

// Violations returns the client's flow-control faults seen so far: a
// num_requested outside 1..100, or more than 100 events requested ahead.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// Subscribes returns how many Subscribe streams were opened.
func (s *Server) Subscribes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subscribes
}

// Keepalives returns how many empty keepalive answers were sent.
func (s *Server) Keepalives() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keepalives
}

// MaxPending returns the most events a subscriber had requested ahead.
func (s *Server) MaxPending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.maxPending)
}

// CloseStreams ends every open Subscribe and PublishStream stream as the
// server does after an error or a restart (status OK: the client sees the
// stream end).
func (s *Server) CloseStreams() { s.endStreams(codes.OK) }

// ExpireTokens ends every session the org issued (as
// Faults().ExpireAllSessions) and every open stream with UNAUTHENTICATED:
// clients must get a new token to go on.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	for _, tok := range s.org.IssuedTokens() {
		s.expired[tok] = true
	}
	s.mu.Unlock()
	s.org.Faults().ExpireAllSessions()
	s.endStreams(codes.Unauthenticated)
}

func (s *Server) endStreams(code codes.Code) {
	s.mu.Lock()
	s.endCode = code
	close(s.ended)
	s.ended = make(chan struct{})
	s.mu.Unlock()
}

// RefuseSessions makes every call fail with UNAUTHENTICATED, fresh token or
// not, as Salesforce may for a user with "Enforce SSL/TLS Mutual
// Authentication" (undocumented either way).
func (s *Server) RefuseSessions(refuse bool) {
	s.mu.Lock()
	s.refuse = refuse
	s.mu.Unlock()
}

// CorruptNext sends the next n events delivered on topic with a payload that
// does not decode under their schema.
func (s *Server) CorruptNext(topic string, n int) {
	s.mu.Lock()
	s.corrupt[topic] += n
	s.mu.Unlock()
}

// LoseNextPublishAnswer stores the events of the next Publish call but
// fails the call with UNAVAILABLE, as a connection lost before the answer.
func (s *Server) LoseNextPublishAnswer() {
	s.mu.Lock()
	s.losePublish++
	s.mu.Unlock()
}

// authenticate checks the accesstoken, instanceurl and tenantid metadata
// ("Pub/Sub API as a gRPC API": every call carries them).
func (s *Server) authenticate(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	one := func(k string) string {
		if v := md.Get(k); len(v) == 1 {
			return v[0]
		}
		return ""
	}
	tok, inst, tenant := one("accesstoken"), one("instanceurl"), one("tenantid")
	s.mu.Lock()
	refused, expired := s.refuse, s.expired[tok]
	s.mu.Unlock()
	switch {
	case refused:
		return status.Error(codes.Unauthenticated, "the session is not allowed to use the Pub/Sub API")
	case tok == "" || expired || !slices.Contains(s.org.IssuedTokens(), tok):
		return status.Error(codes.Unauthenticated, "the access token is not valid")
	case inst != s.org.StandardURL:
		return status.Error(codes.Unauthenticated, "instanceurl does not match the token's instance")
	case tenant != s.orgID:
		return status.Error(codes.Unauthenticated, "tenantid does not match the token's org")
	}
	return nil
}

// GetTopic implements the PubSub service.
func (s service) GetTopic(ctx context.Context, req *pb.TopicRequest) (*pb.TopicInfo, error) {
	if err := s.authenticate(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[req.GetTopicName()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such topic: "+req.GetTopicName())
	}
	return &pb.TopicInfo{TopicName: t.name, TenantGuid: s.orgID, CanPublish: !strings.HasPrefix(t.name, "/data/"),
		CanSubscribe: true, SchemaId: t.schemaID, RpcId: "fake"}, nil
}

// GetSchema implements the PubSub service.
func (s service) GetSchema(ctx context.Context, req *pb.SchemaRequest) (*pb.SchemaInfo, error) {
	if err := s.authenticate(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	js, ok := s.schemas[req.GetSchemaId()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such schema: "+req.GetSchemaId())
	}
	s.schemaFetches[req.GetSchemaId()]++
	return &pb.SchemaInfo{SchemaJson: js, SchemaId: req.GetSchemaId(), RpcId: "fake"}, nil
}

// Publish implements the PubSub service.
func (s service) Publish(ctx context.Context, req *pb.PublishRequest) (*pb.PublishResponse, error) {
	if err := s.authenticate(ctx); err != nil {
		return nil, err
	}
	resp, err := s.publish(req)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	lose := s.losePublish > 0
	if lose {
		s.losePublish--
	}
	s.mu.Unlock()
	if lose {
		return nil, status.Error(codes.Unavailable, "the connection was lost")
	}
	return resp, nil
}

func (s *Server) publish(req *pb.PublishRequest) (*pb.PublishResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.topics[req.GetTopicName()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such topic: "+req.GetTopicName())
	}
	if strings.HasPrefix(t.name, "/data/") {
		return nil, status.Error(codes.PermissionDenied, "change event topics cannot be published to")
	}
	resp := &pb.PublishResponse{SchemaId: t.schemaID, RpcId: "fake"}
	for _, ev := range req.GetEvents() {
		r := &pb.PublishResult{CorrelationKey: ev.GetId()}
		if ev.GetSchemaId() != t.schemaID {
			r.Error = &pb.Error{Code: pb.ErrorCode_PUBLISH, Msg: "schema_id is not the topic's schema"}
		} else {
			r.ReplayId = s.storeLocked(t, ev)
		}
		resp.Results = append(resp.Results, r)
	}
	return resp, nil
}

// PublishStream implements the PubSub service.
func (s service) PublishStream(stream grpc.BidiStreamingServer[pb.PublishRequest, pb.PublishResponse]) error {
	if err := s.authenticate(stream.Context()); err != nil {
		return err
	}
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil // io.EOF, or the client went away
		}
		resp, err := s.publish(req)
		if err != nil {
			return err
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// Subscribe implements the PubSub service.
func (s service) Subscribe(stream grpc.BidiStreamingServer[pb.FetchRequest, pb.FetchResponse]) error {
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
	t, ok := s.topics[first.GetTopicName()]
	var at int
	if ok {
		switch first.GetReplayPreset() {
		case pb.ReplayPreset_EARLIEST:
			at = 0
		case pb.ReplayPreset_CUSTOM:
			i := slices.IndexFunc(t.events, func(e stored) bool { return string(e.replay) == string(first.GetReplayId()) })
			if i < 0 {
				s.mu.Unlock()
				stream.SetTrailer(metadata.Pairs("error-code", "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"))
				return status.Error(codes.InvalidArgument, "the replay id is not valid or no longer retained")
			}
			at = i + 1
		default:
			at = len(t.events)
		}
	}
	s.mu.Unlock()
	if !ok {
		return status.Error(codes.NotFound, "no such topic: "+first.GetTopicName())
	}
	return s.serve(ctx, t, at, first.GetNumRequested(),
		func() (int32, *pb.CommitReplayRequest, error) {
			req, err := stream.Recv()
			return req.GetNumRequested(), nil, err
		},
		func(evs []*pb.ConsumerEvent, latest []byte, pending int32, _ *pb.CommitReplayResponse) error {
			return stream.Send(&pb.FetchResponse{Events: evs, LatestReplayId: latest, RpcId: "fake", PendingNumRequested: pending})
		}, nil)
}

// serve sends t's events from index at as the client requests them, until
// the client goes, a fault ends the stream, or send fails. recv reads the
// client's next request (more events, or a commit); send sends events, a
// keepalive (no events) or a commit's answer; commit, if set, records one.
func (s *Server) serve(ctx context.Context, t *topic, at int, first int32,
	recv func() (int32, *pb.CommitReplayRequest, error),
	send func([]*pb.ConsumerEvent, []byte, int32, *pb.CommitReplayResponse) error,
	commit func(*pb.CommitReplayRequest) *pb.CommitReplayResponse) error {
	s.mu.Lock()
	ended, keepAlive := s.ended, s.KeepAlive
	s.mu.Unlock()
	var mu sync.Mutex
	pending := int32(0)
	more := make(chan struct{}, 1)
	commits := make(chan *pb.CommitReplayRequest, 16)
	ask := func(n int32) {
		mu.Lock()
		pending += n
		p := pending
		mu.Unlock()
		s.mu.Lock()
		if n < 1 || n > 100 {
			s.violations = append(s.violations, fmt.Sprintf("num_requested %d outside 1..100", n))
		}
		if p > 100 {
			s.violations = append(s.violations, fmt.Sprintf("%d events requested ahead, more than 100", p))
		}
		s.maxPending = max(s.maxPending, p)
		s.mu.Unlock()
		select {
		case more <- struct{}{}:
		default:
		}
	}
	ask(first)
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			n, c, err := recv()
			if err != nil {
				return
			}
			if c != nil {
				select {
				case commits <- c:
				case <-ctx.Done():
					return
				}
			}
			if n != 0 || c == nil {
				ask(n)
			}
		}
	}()
	keep := time.NewTimer(keepAlive)
	defer keep.Stop()
	for {
		mu.Lock()
		n := pending
		mu.Unlock()
		s.mu.Lock()
		var batch []*pb.ConsumerEvent
		for n > 0 && at < len(t.events) {
			e := t.events[at]
			ev := e.ev
			if s.corrupt[t.name] > 0 {
				s.corrupt[t.name]--
				ev = &pb.ProducerEvent{Id: ev.Id, SchemaId: ev.SchemaId, Payload: corruptPayload}
			}
			batch = append(batch, &pb.ConsumerEvent{Event: ev, ReplayId: e.replay})
			at++
			n--
		}
		var latest []byte
		if len(t.events) > 0 {
			latest = t.events[len(t.events)-1].replay
		}
		grown := s.grown
		s.mu.Unlock()
		if len(batch) > 0 {
			mu.Lock()
			pending -= int32(len(batch))
			p := pending
			mu.Unlock()
			if err := send(batch, latest, p, nil); err != nil {
				return err
			}
			keep.Reset(keepAlive)
			continue
		}
		select {
		case <-grown:
		case <-more:
		case c := <-commits:
			if commit != nil {
				mu.Lock()
				p := pending
				mu.Unlock()
				if err := send(nil, latest, p, commit(c)); err != nil {
					return err
				}
			}
		case <-keep.C:
			mu.Lock()
			p := pending
			mu.Unlock()
			s.mu.Lock()
			s.keepalives++
			s.mu.Unlock()
			if err := send(nil, latest, p, nil); err != nil {
				return err
			}
			keep.Reset(keepAlive)
		case <-ended:
			s.mu.Lock()
			code := s.endCode
			s.mu.Unlock()
			if code == codes.OK {
				return nil
			}
			return status.Error(code, "the session expired")
		case <-gone:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// selfSigned makes the server's certificate for 127.0.0.1.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pubsubtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// corruptPayload is cut short: a long, then a string whose length runs past
// the end.
var corruptPayload = []byte{0x02, 0x7e, 'x'}
