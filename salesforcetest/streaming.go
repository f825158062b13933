package salesforcetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
	"github.com/sfmtls/sfmtls/salesforcetest/internal/eventbus"
)

// The Streaming API (CometD/Bayeux long-polling) on the org's API port, as
// the Streaming API Developer Guide documents it:
//
//   - endpoint /cometd/<version>, version 37.0 or later for durable replay
//     ("Message Durability",
//     https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/using_streaming_api_durability.htm);
//   - the replay extension in a subscribe's ext: -1 new events, -2 every
//     retained event, or a replay id still retained; any other id is refused
//     with "400::The replayId {id} you provided was invalid. ..." ("Streaming
//     API Error Codes",
//     https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/streaming_error_codes.htm);
//   - retention of 72 hours for change and platform events, 24 hours for
//     PushTopic and generic events, on the org's clock (Config.Now);
//   - an unknown client id gets "403::Unknown client" with advice
//     reconnect=handshake, a rejected session "401::Authentication invalid"
//     with reconnect=none, and a handshake under one "403::Handshake denied"
//     with ext.sfdc.failureReason "401::Authentication invalid" ("Handling
//     Streaming API Errors",
//     https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/streaming_handling_errors.htm).
//
// Faults: DropStreamingConnection, ExpireStreamingClients,
// LoseStreamingRetention.

// Retention windows ("Message Durability").
const (
	highVolumeRetention = 72 * time.Hour // change events, platform events
	pushTopicRetention  = 24 * time.Hour // PushTopic and generic events
)

// Bounds of the fake's streaming.
const (
	streamMaxPerStream  = 200_000 // events retained per stream, whatever the window
	streamMaxBatch      = 1000    // events per connect answer
	streamMaxClients    = 1000
	streamMaxRequest    = 1 << 20
	streamConnectTimout = 110 * time.Second // the advice's timeout, as Salesforce sends it
	changeStream        = "/data/ChangeEvents"
)

// streaming is the org's Streaming API state.
type streaming struct {
	bus *eventbus.Bus

	mu       sync.Mutex
	clients  map[string]*cometClient
	events   map[string]*platformEvent // platform events by lower-case name
	topics   map[string]*pushTopic
	generic  map[string]string // lower-case /u/ channel → its name
	cdc      map[string]bool   // objects selected for Change Data Capture
	feed     *data.Subscription
	dropNext int
}

// closeStreaming ends the change feed's subscription, if streaming was used.
func (o *Org) closeStreaming() {
	o.streamOnce.Do(func() {}) // orders the read below after any first use
	if o.streamState != nil {
		o.streamState.close()
	}
}

// close ends the change feed's subscription.
func (s *streaming) close() {
	s.mu.Lock()
	feed := s.feed
	s.mu.Unlock()
	if feed != nil {
		feed.Close()
	}
}

type cometClient struct {
	id       string
	subs     map[string]*cometSub
	lastSeen time.Time
	gone     chan struct{} // closed when the server forgets the client
}

type cometSub struct {
	stream, tag string
	after       int64
}

// stream returns the org's streaming state, made on first use.
func (o *Org) stream() *streaming {
	o.streamOnce.Do(func() {
		o.streamState = &streaming{bus: eventbus.New(o.now, streamMaxPerStream), clients: map[string]*cometClient{},
			events: map[string]*platformEvent{}, topics: map[string]*pushTopic{}, generic: map[string]string{}, cdc: map[string]bool{}}
	})
	return o.streamState
}

// DropStreamingConnection cuts the next Streaming API connect that carries
// events after the events are taken from the client's subscriptions: the
// client gets no answer, and must resubscribe from its last replay id to
// receive them.
func (fa Faults) DropStreamingConnection() {
	s := fa.o.stream()
	s.mu.Lock()
	s.dropNext++
	s.mu.Unlock()
}

// ExpireStreamingClients forgets every CometD client, as the server does
// after a client's connection was lost for longer than its timeout: their
// next request, and a connect in flight, get "403::Unknown client".
func (fa Faults) ExpireStreamingClients() {
	s := fa.o.stream()
	s.mu.Lock()
	for id, c := range s.clients {
		close(c.gone)
		delete(s.clients, id)
	}
	s.mu.Unlock()
}

// LoseStreamingRetention drops every retained event, as the end of the
// retention window does: a subscription with a saved replay id is then
// refused, and -2 replays nothing older.
func (fa Faults) LoseStreamingRetention() { fa.o.stream().bus.Forget() }

// bayeuxMsg is a Bayeux message in either direction.
type bayeuxMsg struct {
	Channel                  string          `json:"channel"`
	ID                       json.RawMessage `json:"id,omitempty"`
	ClientID                 string          `json:"clientId,omitempty"`
	Subscription             string          `json:"subscription,omitempty"`
	Successful               *bool           `json:"successful,omitempty"`
	Error                    string          `json:"error,omitempty"`
	Version                  string          `json:"version,omitempty"`
	SupportedConnectionTypes []string        `json:"supportedConnectionTypes,omitempty"`
	Advice                   map[string]any  `json:"advice,omitempty"`
	Ext                      json.RawMessage `json:"ext,omitempty"`
	Data                     json.RawMessage `json:"data,omitempty"`
}

const bayeuxCookie = "BAYEUX_BROWSER"

func (o *Org) handleCometD(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	version := strings.TrimPrefix(r.URL.Path, "/cometd/")
	body, err := io.ReadAll(io.LimitReader(r.Body, streamMaxRequest+1))
	var in []bayeuxMsg
	if err != nil || len(body) > streamMaxRequest || json.Unmarshal(body, &in) != nil {
		var one bayeuxMsg
		if err != nil || len(body) > streamMaxRequest || json.Unmarshal(body, &one) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		in = []bayeuxMsg{one}
	}
	v, verr := strconv.ParseFloat(version, 64)
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	_, valid := o.sessionFor(token)
	valid = valid && o.mutualAuthOK(r)
	var cookie string
	if c, err := r.Cookie(bayeuxCookie); err == nil {
		cookie = c.Value
	}
	s := o.stream()
	var out []bayeuxMsg
	for _, m := range in {
		switch {
		case verr != nil || !strings.Contains(version, "."):
			out = append(out, bayeuxFailed(m, "400::API version in the URI is mandatory. URI format: '/cometd/"+APIVersion+"'", nil))
		case v < 37:
			out = append(out, bayeuxFailed(m, "400::Unsupported API version. Only API versions '37.0' and later are supported. URI format: '/cometd/"+APIVersion+"'", nil))
		case !valid && m.Channel == "/meta/handshake":
			f := bayeuxFailed(m, "403::Handshake denied", map[string]any{"reconnect": "none"})
			f.Ext = json.RawMessage(`{"sfdc":{"failureReason":"401::Authentication invalid"}}`)
			out = append(out, f)
		case !valid:
			out = append(out, bayeuxFailed(m, "401::Authentication invalid", map[string]any{"reconnect": "none", "interval": 0}))
		case m.Channel == "/meta/handshake":
			id := randomID()
			s.mu.Lock()
			s.evictClients()
			s.clients[id] = &cometClient{id: id, subs: map[string]*cometSub{}, lastSeen: time.Now(), gone: make(chan struct{})}
			s.mu.Unlock()
			http.SetCookie(w, &http.Cookie{Name: bayeuxCookie, Value: id, Path: "/", Secure: true, HttpOnly: true})
			ok := true
			out = append(out, bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: id, Successful: &ok, Version: "1.0",
				SupportedConnectionTypes: []string{"long-polling"},
				Advice:                   map[string]any{"reconnect": "retry", "interval": 0, "timeout": streamConnectTimout.Milliseconds()},
				Ext:                      json.RawMessage(`{"replay":true,"payload.format":true}`)})
		default:
			s.mu.Lock()
			c := s.clients[m.ClientID]
			if c != nil {
				c.lastSeen = time.Now()
			}
			s.mu.Unlock()
			switch {
			case c == nil:
				out = append(out, bayeuxFailed(m, "403::Unknown client", map[string]any{"reconnect": "handshake", "interval": 0}))
			case cookie == "":
				out = append(out, bayeuxFailed(m, "400::Client "+c.id+" has established a session, but no "+bayeuxCookie+" cookie present", nil))
			case m.Channel == "/meta/subscribe":
				out = append(out, o.cometSubscribe(s, c, m))
			case m.Channel == "/meta/unsubscribe":
				s.mu.Lock()
				delete(c.subs, m.Subscription)
				s.mu.Unlock()
				ok := true
				out = append(out, bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: c.id, Subscription: m.Subscription, Successful: &ok})
			case m.Channel == "/meta/disconnect":
				s.mu.Lock()
				if s.clients[c.id] == c {
					close(c.gone)
					delete(s.clients, c.id)
				}
				s.mu.Unlock()
				ok := true
				out = append(out, bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: &ok})
			case m.Channel == "/meta/connect":
				events, reply, drop := o.cometConnect(r, s, c, m, token)
				if drop {
					panic(http.ErrAbortHandler)
				}
				out = append(out, events...)
				out = append(out, reply)
			default:
				out = append(out, bayeuxFailed(m, "400::Unknown channel "+m.Channel, nil))
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func bayeuxFailed(m bayeuxMsg, errField string, advice map[string]any) bayeuxMsg {
	no := false
	return bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: m.ClientID, Subscription: m.Subscription,
		Successful: &no, Error: errField, Advice: advice}
}

func randomID() string {
	var b [13]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// evictClients bounds the clients kept: the least recently seen go first.
// Called with s.mu held.
func (s *streaming) evictClients() {
	for len(s.clients) >= streamMaxClients {
		var oldest *cometClient
		for _, c := range s.clients {
			if oldest == nil || c.lastSeen.Before(oldest.lastSeen) {
				oldest = c
			}
		}
		close(oldest.gone)
		delete(s.clients, oldest.id)
	}
}

// channelStream resolves a channel to its stream and tag, or reports that
// the channel does not exist.
func (o *Org) channelStream(s *streaming, channel string) (stream, tag string, ok bool) {
	switch {
	case channel == changeStream:
		return changeStream, "", true
	case strings.HasPrefix(channel, "/data/") && strings.HasSuffix(channel, "ChangeEvent"):
		entity := strings.TrimSuffix(strings.TrimPrefix(channel, "/data/"), "ChangeEvent")
		if strings.HasSuffix(entity, "__") {
			entity += "c"
		}
		name, known := o.object(entity)
		s.mu.Lock()
		selected := s.cdc[name]
		s.mu.Unlock()
		if !known || !selected {
			return "", "", false
		}
		return changeStream, name, true
	case strings.HasPrefix(channel, "/event/"):
		s.mu.Lock()
		pe, known := s.events[strings.ToLower(strings.TrimPrefix(channel, "/event/"))]
		s.mu.Unlock()
		if !known {
			return "", "", false
		}
		return "/event/" + pe.Name, "", true
	case strings.HasPrefix(channel, "/topic/"):
		s.mu.Lock()
		t, known := s.topics[strings.ToLower(strings.TrimPrefix(channel, "/topic/"))]
		s.mu.Unlock()
		if !known {
			return "", "", false
		}
		return "/topic/" + t.Name, "", true
	case strings.HasPrefix(channel, "/u/"):
		s.mu.Lock()
		name, known := s.generic[strings.ToLower(channel)]
		s.mu.Unlock()
		return name, "", known
	}
	return "", "", false
}

func (o *Org) cometSubscribe(s *streaming, c *cometClient, m bayeuxMsg) bayeuxMsg {
	if m.Subscription == "" {
		return bayeuxFailed(m, "400::Channel name not specified", nil)
	}
	if !strings.HasPrefix(m.Subscription, "/") {
		return bayeuxFailed(m, "400::Channel subscriptions must start with a leading '/'", nil)
	}
	stream, tag, ok := o.channelStream(s, m.Subscription)
	if !ok {
		return bayeuxFailed(m, "400::The channel you requested to subscribe to does not exist {"+m.Subscription+"}", nil)
	}
	replay := int64(-1)
	if len(m.Ext) > 0 {
		var ext struct {
			Replay map[string]int64 `json:"replay"`
		}
		if json.Unmarshal(m.Ext, &ext) == nil {
			if id, ok := ext.Replay[m.Subscription]; ok {
				replay = id
			}
		}
	}
	var after int64
	switch {
	case replay == -1:
		after = s.bus.Last()
	case replay == -2:
		after = 0
	case replay >= 0 && s.bus.Retained(stream, replay):
		after = replay
	default:
		return bayeuxFailed(m, "400::The replayId {"+strconv.FormatInt(replay, 10)+"} you provided was invalid.  "+
			"Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.", nil)
	}
	s.mu.Lock()
	c.subs[m.Subscription] = &cometSub{stream: stream, tag: tag, after: after}
	s.mu.Unlock()
	ok = true
	return bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: c.id, Subscription: m.Subscription, Successful: &ok}
}

// cometConnect long-polls: it answers at once with the events waiting on the
// client's subscriptions, or waits for one until the advised timeout.
func (o *Org) cometConnect(r *http.Request, s *streaming, c *cometClient, m bayeuxMsg, token string) ([]bayeuxMsg, bayeuxMsg, bool) {
	timer := time.NewTimer(streamConnectTimout)
	defer timer.Stop()
	ok := true
	advice := map[string]any{"reconnect": "retry", "interval": 0, "timeout": streamConnectTimout.Milliseconds()}
	for {
		if _, valid := o.sessionFor(token); !valid {
			return nil, bayeuxFailed(m, "401::Authentication invalid", map[string]any{"reconnect": "none", "interval": 0}), false
		}
		var out []bayeuxMsg
		var wake <-chan struct{}
		s.mu.Lock()
		for channel, sub := range c.subs {
			evs, w := s.bus.Read(sub.stream, sub.tag, sub.after, streamMaxBatch-len(out))
			wake = w
			for _, ev := range evs {
				out = append(out, bayeuxMsg{Channel: channel, Data: ev.Data})
				sub.after = ev.ID
			}
		}
		drop := len(out) > 0 && s.dropNext > 0
		if drop {
			s.dropNext--
		}
		s.mu.Unlock()
		if len(out) > 0 {
			return out, bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: &ok, Advice: advice}, drop
		}
		if wake == nil {
			_, wake = s.bus.Read("", "", 0, 0)
		}
		select {
		case <-wake:
		case <-c.gone:
			return nil, bayeuxFailed(m, "403::Unknown client", map[string]any{"reconnect": "handshake", "interval": 0}), false
		case <-timer.C:
			return nil, bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: &ok, Advice: advice}, false
		case <-r.Context().Done():
			return nil, bayeuxMsg{Channel: m.Channel, ID: m.ID, ClientID: c.id, Successful: &ok, Advice: advice}, false
		}
	}
}

// StreamingSubscribers returns how many CometD clients are subscribed to
// channel, for tests that must wait until a listener is in place.
func (da Data) StreamingSubscribers(channel string) int {
	s := da.o.stream()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.clients {
		if _, ok := c.subs[channel]; ok {
			n++
		}
	}
	return n
}
