package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/client"
	"github.com/sfmtls/sfmtls/soql"
)

// poller is one Run of a Trigger: its configuration and where it stands.
type poller struct {
	cfg     *triggerConfig
	st      triggerPosition
	deliver func(context.Context, Event) error
}

// polled is one record a query returned.
type polled struct {
	id      string
	created time.Time
	stamp   time.Time // the timestamp field the query orders by
	second  time.Time // stamp truncated to the second
	data    json.RawMessage
}

// poll reads once what changed since the position, bounded by one batch per
// query and one span of Get Deleted, and delivers it. more says a batch was
// full: the next poll should follow at once.
func (p *poller) poll(ctx context.Context) (more bool, err error) {
	cutoff := p.cfg.now().UTC().Add(-p.cfg.lag)
	if p.cfg.create || p.cfg.update {
		if more, err = p.pollModified(ctx, cutoff.Truncate(time.Second)); err != nil || more {
			return more, err
		}
	}
	if p.cfg.delete {
		return p.pollDeleted(ctx, cutoff)
	}
	return false, nil
}

// stampField is the field a poll orders by: CreatedDate when only creations
// are asked for (updated records do not match at all), else SystemModstamp,
// which Salesforce updates on every change, including system ones (Get
// Updated's rule too).
func (p *poller) stampField() string {
	if p.cfg.create && !p.cfg.update {
		return "CreatedDate"
	}
	return "SystemModstamp"
}

// pollModified delivers the records stamped from the watermark up to cutoff
// (a whole second, excluded): first the rest of the watermark's second in Id
// order, then the seconds after it. A batch that ends inside a second leaves
// that second for the next poll, which reads it whole in Id order.
func (p *poller) pollModified(ctx context.Context, cutoff time.Time) (bool, error) {
	wm0 := p.st.Modified
	if !wm0.Second.Before(cutoff) {
		return false, nil
	}
	field := p.stampField()
	sel := "SELECT " + strings.Join(p.cfg.fields, ", ") + " FROM " + p.cfg.object
	limit := fmt.Sprintf(" LIMIT %d", p.cfg.batch)

	// The rest of the watermark's second, in Id order.
	q, err := soql.Format(sel+" WHERE "+field+" >= ? AND "+field+" < ? AND Id > ? ORDER BY Id"+limit,
		wm0.Second, wm0.Second.Add(time.Second), wm0.ID)
	if wm0.ID == "" {
		q, err = soql.Format(sel+" WHERE "+field+" >= ? AND "+field+" < ? ORDER BY Id"+limit,
			wm0.Second, wm0.Second.Add(time.Second))
	}
	if err != nil {
		return false, err
	}
	recs, err := p.query(ctx, q, field)
	if err != nil {
		return false, err
	}
	for _, r := range recs {
		if err := p.deliverRecord(ctx, wm0, r, watermark{Second: wm0.Second, ID: r.id}); err != nil {
			return false, err
		}
	}
	if len(recs) == p.cfg.batch {
		return true, nil
	}

	// The seconds after it, up to the cutoff.
	next := wm0.Second.Add(time.Second)
	if !next.Before(cutoff) {
		p.st.Modified = watermark{Second: next}
		return false, nil
	}
	q, err = soql.Format(sel+" WHERE "+field+" >= ? AND "+field+" < ? ORDER BY "+field+", Id"+limit, next, cutoff)
	if err != nil {
		return false, err
	}
	if recs, err = p.query(ctx, q, field); err != nil {
		return false, err
	}
	full := len(recs) == p.cfg.batch
	upTo := cutoff // the seconds before it are complete
	if full {
		// The last record's second may go on past the batch.
		upTo = recs[len(recs)-1].second
	}
	recs = slices.DeleteFunc(recs, func(r polled) bool { return !r.second.Before(upTo) })
	// Within a second, the order of the watermark: by Id.
	slices.SortStableFunc(recs, func(a, b polled) int {
		if c := a.second.Compare(b.second); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, r := range recs {
		if err := p.deliverRecord(ctx, wm0, r, watermark{Second: r.second, ID: r.id}); err != nil {
			return false, err
		}
	}
	p.st.Modified = watermark{Second: upTo}
	return full, nil
}

// deliverRecord delivers r as a CREATE when it was created after wm0 (it was
// never delivered), else as an UPDATE, if that change type is asked for, and
// moves the watermark to at.
func (p *poller) deliverRecord(ctx context.Context, wm0 watermark, r polled, at watermark) error {
	change := changeUpdate
	if p.stampField() == "CreatedDate" || wm0.after(r.created.Truncate(time.Second), r.id) {
		change = changeCreate
	}
	p.st.Modified = at
	if (change == changeCreate && !p.cfg.create) || (change == changeUpdate && !p.cfg.update) {
		return nil
	}
	return p.send(ctx, Event{Time: r.stamp, Data: r.data, Change: p.header(change, r.id, r.stamp)})
}

func (p *poller) header(change, id string, at time.Time) *ChangeHeader {
	return &ChangeHeader{EntityName: p.cfg.object, RecordIDs: []string{id}, ChangeType: change, CommitTimestamp: at.UnixMilli()}
}

// send delivers ev with the position as it stands after it.
func (p *poller) send(ctx context.Context, ev Event) error {
	ev.Channel = p.cfg.key
	ev.Position = p.st.encode()
	if err := p.deliver(ctx, ev); err != nil {
		return deliverError{err}
	}
	return nil
}

// query runs q and reads each record's id and timestamps.
func (p *poller) query(ctx context.Context, q, field string) ([]polled, error) {
	var recs []polled
	for raw, err := range client.Query[json.RawMessage](ctx, p.cfg.c, q) {
		if err != nil {
			return nil, err
		}
		if len(recs) == p.cfg.batch {
			break // the LIMIT bounds it; this bounds a server that ignores it
		}
		var f struct {
			ID             string `json:"Id"`
			CreatedDate    string `json:"CreatedDate"`
			SystemModstamp string `json:"SystemModstamp"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("events: %s: a record that is not a JSON object: %w", p.cfg.key, err)
		}
		created, err1 := parseDateTime(f.CreatedDate)
		modstamp, err2 := parseDateTime(f.SystemModstamp)
		if f.ID == "" || len(f.ID) > maxIDLen || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("events: %s: a record without a valid Id, CreatedDate and SystemModstamp", p.cfg.key)
		}
		stamp := modstamp
		if field == "CreatedDate" {
			stamp = created
		}
		recs = append(recs, polled{id: f.ID, created: created, stamp: stamp, second: stamp.Truncate(time.Second),
			data: slices.Clone(raw)})
	}
	return recs, nil
}

// parseDateTime reads Salesforce's dateTime (2006-01-02T15:04:05.000+0000) or
// RFC 3339.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("events: %q is not a dateTime", s)
}

// deletedAnswer is Get Deleted's answer ("sObject Get Deleted", REST API
// Developer Guide).
type deletedAnswer struct {
	DeletedRecords []struct {
		ID          string `json:"id"`
		DeletedDate string `json:"deletedDate"`
	} `json:"deletedRecords"`
	EarliestDateAvailable string `json:"earliestDateAvailable"`
	LatestDateCovered     string `json:"latestDateCovered"`
}

// replicationDate is the errorCode of a start date Salesforce no longer
// answers for (getDeleted's INVALID_REPLICATION_DATE).
const replicationDate = "INVALID_REPLICATION_DATE"

// pollDeleted delivers the records deleted from the deletion mark up to
// what Get Deleted says it covered. The resource ignores seconds, so a call
// spans whole minutes and re-reads the mark's minute: the records up to the
// mark are skipped by (deletedDate, id).
func (p *poller) pollDeleted(ctx context.Context, cutoff time.Time) (bool, error) {
	d0 := *p.st.Deleted
	start := d0.At.Truncate(time.Minute)
	end := cutoff
	more := false
	if end.Sub(start) > maxDeletedSpan {
		end, more = start.Add(maxDeletedSpan), true
	}
	if !end.Truncate(time.Minute).After(start) {
		return false, nil // nothing the resource can cover yet
	}
	path, err := p.cfg.c.SubrequestURL(ctx, "sobjects", p.cfg.object, "deleted")
	if err != nil {
		return false, err
	}
	v := url.Values{"start": {sfDateTime(start)}, "end": {sfDateTime(end)}}
	var ans deletedAnswer
	if err := p.cfg.c.Do(ctx, "GET", path+"/?"+v.Encode(), nil, &ans); err != nil {
		var api *client.APIError
		if errors.As(err, &api) && api.HasCode(replicationDate) {
			if d0.Earliest {
				return p.moveToEarliest(ctx, time.Time{})
			}
			return false, fmt.Errorf("%w: %s: Get Deleted no longer answers from %s: %w", ErrPositionGone, p.cfg.key, sfDateTime(start), err)
		}
		return false, err
	}
	if ans.EarliestDateAvailable != "" {
		earliest, err := parseDateTime(ans.EarliestDateAvailable)
		if err != nil {
			return false, fmt.Errorf("events: %s: Get Deleted's earliestDateAvailable: %w", p.cfg.key, err)
		}
		if earliest.After(d0.At) {
			if d0.Earliest {
				return p.moveToEarliest(ctx, earliest)
			}
			return false, fmt.Errorf("%w: %s: deletions from %s on are no longer available (Get Deleted's earliest date is %s)",
				ErrPositionGone, p.cfg.key, sfDateTime(d0.At), sfDateTime(earliest))
		}
	}
	covered := end.Truncate(time.Minute)
	if ans.LatestDateCovered != "" {
		latest, err := parseDateTime(ans.LatestDateCovered)
		if err != nil {
			return false, fmt.Errorf("events: %s: Get Deleted's latestDateCovered: %w", p.cfg.key, err)
		}
		// Salesforce's advice: start the next call at latestDateCovered, which
		// stays behind a transaction still running.
		covered = latest
		if covered.After(end) {
			covered = end
		}
	}
	type deletion struct {
		id string
		at time.Time
	}
	var dels []deletion
	for _, d := range ans.DeletedRecords {
		at, err := parseDateTime(d.DeletedDate)
		if err != nil || d.ID == "" || len(d.ID) > maxIDLen {
			return false, fmt.Errorf("events: %s: Get Deleted answered a record without a valid id and deletedDate", p.cfg.key)
		}
		if d0.after(at, d.ID) && at.Before(covered) {
			dels = append(dels, deletion{d.ID, at})
		}
	}
	slices.SortFunc(dels, func(a, b deletion) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, d := range dels {
		p.st.Deleted = &deletedMark{At: d.at, ID: d.id}
		data, _ := json.Marshal(map[string]string{"Id": d.id})
		if err := p.send(ctx, Event{Time: d.at, Data: data, Change: p.header(changeDelete, d.id, d.at)}); err != nil {
			return false, err
		}
	}
	if covered.After(p.st.Deleted.At) {
		p.st.Deleted = &deletedMark{At: covered}
	}
	return more, nil
}

// moveToEarliest moves a ReplayAll start up to the earliest deletion Get
// Deleted still has (or by an hour when it refused the start without saying
// where its window begins), and polls again.
func (p *poller) moveToEarliest(ctx context.Context, earliest time.Time) (bool, error) {
	d := *p.st.Deleted
	if earliest.IsZero() {
		earliest = d.At.Add(time.Hour)
	}
	if !earliest.After(d.At) {
		return false, fmt.Errorf("events: %s: Get Deleted's window does not move", p.cfg.key)
	}
	p.st.Deleted = &deletedMark{At: earliest, Earliest: true}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return true, nil
}

// sfDateTime writes t as Get Deleted's parameters are written in its
// documentation's example (2013-05-05T00:00:00+00:00).
func sfDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05") + "+00:00"
}
