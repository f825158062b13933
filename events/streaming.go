package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/internal/retry"
)

// Streaming is the Source of one Streaming API channel, reached at
// https://<My Domain>:8443/cometd/<version> through the Client's transport:
// the same client certificate, the same token cache. Channels are
// /topic/<PushTopic>, /event/<Platform_Event__e>, /data/<Object>ChangeEvent
// (or /data/ChangeEvents, /data/<Channel>__chn) and /u/<generic channel>.
//
// Its position is the replay id of the last event handled. It reconnects as
// the server advises (a new handshake after "403::Unknown client"), refreshes
// the token once when the session is rejected (401), and resumes from the
// last event handled; failures without an answer are retried with the SDK's
// backoff, a few minutes at most, before Run returns the error.
type Streaming struct {
	// Client is the client whose transport, token and API version (at
	// least 37.0, where durable streaming begins) the channel is reached with.
	Client *client.Client
	// Channel is the channel to listen to, such as "/data/AccountChangeEvent".
	Channel string
	// Logger receives the reconnections at debug level; nil discards them.
	Logger *slog.Logger
}

// Key implements Source: "streaming:" and the channel.
func (s *Streaming) Key() string { return "streaming:" + s.Channel }

// Run implements Source.
func (s *Streaming) Run(ctx context.Context, pos []byte, start Replay, deliver func(context.Context, Event) error) error {
	if s.Client == nil {
		return errors.New("events: Streaming.Client is nil")
	}
	if !validChannel(s.Channel) {
		return fmt.Errorf("events: Streaming.Channel %q is not a Streaming API channel (/topic/, /event/, /data/ or /u/ and a name)", s.Channel)
	}
	replay := int64(replayNewID)
	switch {
	case pos != nil:
		id, err := strconv.ParseInt(string(pos), 10, 64)
		if err != nil || id < 0 {
			return fmt.Errorf("events: the saved position of %s is not a replay id", s.Key())
		}
		replay = id
	case start == ReplayAll:
		replay = replayAllID
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &cometd{cl: s.Client, channel: s.Channel, log: log, replay: replay}
	return c.run(ctx, deliver)
}

func validChannel(ch string) bool {
	for _, p := range []string{"/topic/", "/event/", "/data/", "/u/"} {
		if name, ok := strings.CutPrefix(ch, p); ok {
			return name != "" && !strings.ContainsAny(name, "*?# ")
		}
	}
	return false
}

// cometd is one listening session: a Bayeux client id, its cookies, the
// server's advice, and the replay id to resume from.
type cometd struct {
	cl      *client.Client
	channel string
	log     *slog.Logger

	url      *url.URL // the endpoint, for the cookies
	path     string   // /cometd/<version>
	cookies  map[string]string
	clientID string
	adv      advice
	replay   int64 // the last event handled, or -1/-2 before the first
	nextID   atomic.Int64
	poll     *connectPoller // the connects, one answer ahead; nil between sessions
	// refreshed is set when a rejected session made us refresh the token,
	// and cleared by a successful connect: a second rejection in a row
	// is final.
	refreshed bool
}

// step is what a failure calls for.
type step int

const (
	stepRetry     step = iota // wait (advice or backoff), connect again
	stepHandshake             // a new handshake and subscription, from c.replay
	stepRefresh               // refresh the token, then a new handshake
	stepFail                  // stop with the error
)

// Reconnection pacing, with the SDK's one backoff: about four minutes of
// failures in a row before Run gives up.
var streamBackoff = retry.Backoff{MaxAttempts: 12, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second,
	MaxRetryAfter: 5 * time.Minute}

// Timeouts of the requests: a connect is held by the server for its advised
// timeout (110s by default), plus a margin for the answer to arrive.
const (
	requestTimeout       = 30 * time.Second
	defaultConnectTimout = 110 * time.Second
	connectMargin        = 30 * time.Second
)

func (c *cometd) run(ctx context.Context, deliver func(context.Context, Event) error) error {
	version, err := c.cl.APIVersion(ctx)
	if err != nil {
		return err
	}
	if v, _ := strconv.ParseFloat(version, 64); v < 37 {
		return fmt.Errorf("events: the Streaming API's durable replay needs API version 37.0 or later; the client uses %s", version)
	}
	c.path = "/cometd/" + version
	base, err := c.cl.InstanceURL(ctx)
	if err != nil {
		return err
	}
	c.url = base.ResolveReference(&url.URL{Path: c.path})
	defer c.close(ctx)

	failures := 0
	next := stepHandshake
	for {
		var err error
		switch next {
		case stepRefresh:
			if err = c.refresh(ctx); err != nil {
				return err
			}
			fallthrough
		case stepHandshake:
			next, err = c.handshake(ctx)
			if err == nil {
				next, err = c.subscribe(ctx)
			}
		default:
			next, err = c.connect(ctx, deliver)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err == nil:
			failures = 0
			continue
		case next == stepFail:
			return err
		case next == stepRetry:
			failures++
			wait, again := streamBackoff.Backoff(failures, retry.Failure{Err: err})
			if !again {
				return fmt.Errorf("events: %s: giving up after %d failures in a row: %w", c.channel, failures, err)
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "events: Streaming API failure; retrying",
				slog.String("channel", c.channel), slog.Any("cause", err), slog.Duration("wait", wait))
			if err := retry.Sleep(ctx, wait); err != nil {
				return err
			}
			// A failed connect may have carried events the server counts
			// as sent: only a new subscription from the last event handled
			// is sure to lose none.
			next = stepHandshake
		default:
			c.log.LogAttrs(ctx, slog.LevelDebug, "events: Streaming API session lost; handshaking again",
				slog.String("channel", c.channel), slog.Int64("replayId", c.replay), slog.Any("cause", err))
		}
	}
}

func (c *cometd) id() string {
	return strconv.FormatInt(c.nextID.Add(1), 10)
}

// handshake opens a Bayeux session; on success the next step is connect.
func (c *cometd) handshake(ctx context.Context) (step, error) {
	c.stopPoller()
	c.clientID = ""
	ms, err := c.send(ctx, requestTimeout, request{Channel: metaHandshake, ID: c.id(), Version: "1.0", MinimumVersion: "1.0",
		SupportedConnectionTypes: []string{"long-polling"}, Ext: map[string]any{"replay": true}})
	if err != nil {
		return transportStep(err), err
	}
	m, ok := reply(ms, metaHandshake)
	if !ok {
		return stepRetry, errors.New("events: the handshake got no /meta/handshake reply")
	}
	c.setAdvice(m.Advice)
	if !m.Successful {
		code, msg := bayeuxCode(m.Error)
		serr := &StreamingError{Channel: metaHandshake, Subscription: c.channel, Code: code, Message: msg}
		switch {
		case code == 401 || handshakeFailure(m.Ext) == 401:
			return stepRefresh, serr
		case m.Advice != nil && m.Advice.Reconnect == "none":
			return stepFail, serr
		}
		return stepRetry, serr
	}
	if m.ClientID == "" {
		return stepRetry, errors.New("events: the handshake's reply has no clientId")
	}
	c.clientID = m.ClientID
	return stepRetry, nil
}

// subscribe subscribes to the channel from c.replay. A replay id that is
// no longer retained is refused with 400, as are other faults (a channel
// that does not exist): a subscription with -1 tells them apart by
// structure, never by the message's words.
func (c *cometd) subscribe(ctx context.Context) (step, error) {
	serr, next, err := c.trySubscribe(ctx, c.replay)
	if err != nil {
		return next, err
	}
	if serr == nil {
		return stepRetry, nil
	}
	if serr.Code == 400 && c.replay >= 0 {
		if probe, _, err := c.trySubscribe(ctx, replayNewID); err == nil && probe == nil {
			c.unsubscribe(ctx)
			return stepFail, fmt.Errorf("events: %s: replay id %d: %w (%w)", c.channel, c.replay, ErrPositionGone, serr)
		}
	}
	return next, serr
}

// trySubscribe sends one subscribe; it returns the refusal, if any, with
// the step it calls for, or a transport error.
func (c *cometd) trySubscribe(ctx context.Context, replay int64) (*StreamingError, step, error) {
	ms, err := c.send(ctx, requestTimeout, request{Channel: metaSubscribe, ID: c.id(), ClientID: c.clientID,
		Subscription: c.channel, Ext: map[string]any{"replay": map[string]int64{c.channel: replay}}})
	if err != nil {
		return nil, transportStep(err), err
	}
	m, ok := reply(ms, metaSubscribe)
	if !ok {
		return nil, stepHandshake, errors.New("events: the subscribe got no /meta/subscribe reply")
	}
	if m.Successful {
		return nil, stepRetry, nil
	}
	code, msg := bayeuxCode(m.Error)
	serr := &StreamingError{Channel: metaSubscribe, Subscription: c.channel, Code: code, Message: msg}
	return serr, c.refusalStep(code, m.Advice), nil
}

// refusalStep is the step a refused connect or subscribe calls for.
func (c *cometd) refusalStep(code int, adv *advice) step {
	switch {
	case code == 401:
		return stepRefresh
	case code == 403: // 403::Unknown client: the server forgot this session
		return stepHandshake
	case adv != nil && adv.Reconnect == "handshake":
		return stepHandshake
	case adv != nil && adv.Reconnect == "none", code == 400:
		return stepFail
	}
	return stepRetry
}

// connect takes the next answer of the poller and delivers its events in
// order.
func (c *cometd) connect(ctx context.Context, deliver func(context.Context, Event) error) (step, error) {
	if c.poll == nil {
		c.startPoller(ctx)
	}
	var a answer
	select {
	case a = <-c.poll.answers:
	case <-ctx.Done():
		return stepFail, ctx.Err()
	}
	if a.err != nil {
		c.stopPoller()
		return transportStep(a.err), a.err
	}
	// Events first, in the order sent: the connect reply may come before or
	// after them in the array.
	for _, m := range a.ms {
		if m.Channel != c.channel || len(m.Data) == 0 {
			continue
		}
		ev, err := parseEvent(c.channel, m.Data)
		if err != nil {
			c.stopPoller()
			return stepFail, err
		}
		if c.replay >= 0 && ev.ReplayID <= c.replay {
			continue // already handled: a server that resends after a reconnection
		}
		if err := deliver(ctx, ev); err != nil {
			c.stopPoller()
			return stepFail, err
		}
		c.replay = ev.ReplayID
	}
	m, ok := reply(a.ms, metaConnect)
	if !ok {
		return stepRetry, nil // an answer of events alone; the poller connects again
	}
	if !m.Successful {
		c.stopPoller()
		code, msg := bayeuxCode(m.Error)
		return c.refusalStep(code, m.Advice), &StreamingError{Channel: metaConnect, Subscription: c.channel, Code: code, Message: msg}
	}
	c.refreshed = false
	return stepRetry, nil
}

// answer is the outcome of one connect.
type answer struct {
	ms  []message
	err error
}

// connectPoller long-polls /meta/connect one answer ahead of the handler: while the
// handler works through one answer's events, the next connect is on its
// way, so that the server's work and the handler's overlap. It holds at most
// one answer beside the one being handled (memory stays within two
// answers), and stops after a failed connect. While it runs, only it sends.
type connectPoller struct {
	cancel  context.CancelFunc
	answers chan answer
	done    chan struct{}
}

func (c *cometd) startPoller(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	p := &connectPoller{cancel: cancel, answers: make(chan answer, 1), done: make(chan struct{})}
	adv := c.adv // the poller's own copy, updated by the replies it reads
	go func() {
		defer close(p.done)
		for {
			timeout := time.Duration(adv.Timeout) * time.Millisecond
			if timeout <= 0 {
				timeout = defaultConnectTimout
			}
			ms, err := c.send(ctx, timeout+connectMargin, request{Channel: metaConnect, ID: c.id(), ClientID: c.clientID,
				ConnectionType: "long-polling"})
			select {
			case p.answers <- answer{ms, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			if m, ok := reply(ms, metaConnect); ok {
				if !m.Successful {
					return
				}
				adv = boundAdvice(adv, m.Advice)
			}
			if adv.Interval > 0 && retry.Sleep(ctx, time.Duration(adv.Interval)*time.Millisecond) != nil {
				return
			}
		}
	}()
	c.poll = p
}

// stopPoller stops the poller and drops what it read ahead: a new
// subscription resumes after the last event handled.
func (c *cometd) stopPoller() {
	if c.poll == nil {
		return
	}
	c.poll.cancel()
	<-c.poll.done
	c.poll = nil
}

// refresh has the transport replace a rejected token, once in a row: a REST
// call under the same token is rejected too, and the transport refreshes it
// for every concurrent caller at once (one token request) and replays the
// call.
func (c *cometd) refresh(ctx context.Context) error {
	if c.refreshed {
		return &StreamingError{Channel: metaConnect, Subscription: c.channel, Code: 401,
			Message: "the session was rejected again after the token was refreshed"}
	}
	c.refreshed = true
	version := strings.TrimPrefix(c.path, "/cometd/")
	if err := c.cl.Do(ctx, http.MethodGet, "/services/data/v"+version+"/", nil, nil); err != nil {
		return fmt.Errorf("events: refreshing the session: %w", err)
	}
	return nil
}

// setAdvice keeps the server's advice, within bounds.
func (c *cometd) setAdvice(a *advice) { c.adv = boundAdvice(c.adv, a) }

// boundAdvice applies a to cur, within bounds.
func boundAdvice(cur advice, a *advice) advice {
	if a == nil {
		return cur
	}
	if a.Timeout > 0 {
		cur.Timeout = min(a.Timeout, maxAdviceTimeout.Milliseconds())
	}
	if a.Interval >= 0 {
		cur.Interval = min(a.Interval, maxAdviceInterval.Milliseconds())
	}
	cur.Reconnect = a.Reconnect
	return cur
}

// unsubscribe and close end the session politely; failures do not matter
// (the server forgets the client after its timeout).
func (c *cometd) unsubscribe(ctx context.Context) {
	_, _ = c.send(ctx, requestTimeout, request{Channel: metaUnsubscribe, ID: c.id(), ClientID: c.clientID, Subscription: c.channel})
}

func (c *cometd) close(ctx context.Context) {
	c.stopPoller()
	if c.clientID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	c.unsubscribe(ctx)
	_, _ = c.send(ctx, requestTimeout, request{Channel: metaDisconnect, ID: c.id(), ClientID: c.clientID})
	c.clientID = ""
}

// send posts messages and reads the answer, within bounds.
func (c *cometd) send(ctx context.Context, timeout time.Duration, reqs ...request) ([]message, error) {
	body, err := json.Marshal(reqs)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	if len(c.cookies) > 0 {
		var b strings.Builder
		for name, value := range c.cookies {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(name + "=" + value)
		}
		h.Set("Cookie", b.String())
	}
	resp, err := c.cl.Raw(ctx, http.MethodPost, c.path, bytes.NewReader(body), h)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if c.cookies == nil {
			c.cookies = map[string]string{}
		}
		if len(c.cookies) < 16 { // bounded: a server cannot grow it without end
			c.cookies[ck.Name] = ck.Value
		} else if _, ok := c.cookies[ck.Name]; ok {
			c.cookies[ck.Name] = ck.Value
		}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxAnswer {
		return nil, errAnswerTooLarge
	}
	return parseMessages(raw)
}

// transportStep is the step after a request that failed without a Bayeux
// answer.
func transportStep(err error) step {
	var api *client.APIError
	if errors.As(err, &api) {
		switch {
		case api.StatusCode == http.StatusUnauthorized:
			return stepRefresh
		case api.StatusCode == http.StatusTooManyRequests || api.StatusCode >= 500:
			return stepRetry
		}
		return stepFail
	}
	if retry.Classify(err) == retry.Final {
		return stepFail
	}
	return stepRetry
}

// reply finds the reply on a meta channel in an answer.
func reply(ms []message, channel string) (message, bool) {
	for _, m := range ms {
		if m.Channel == channel {
			return m, true
		}
	}
	return message{}, false
}
