package activity

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/fault"
)

// Types envoi records itself (SPEC §6.3, §12.1).
const (
	EmailSent       = "email.sent"
	EmailOpened     = "email.opened"
	EmailClicked    = "email.clicked"
	EmailBounced    = "email.bounced"
	SMSSent         = "sms.sent"
	SMSClicked      = "sms.clicked"
	FormSubmitted   = "form.submitted"
	WebVisit        = "web.visit"
	WebblockClicked = "webblock.clicked"
	// Purchase is the one predefined type clients record.
	Purchase = "purchase"
)

// reserved are the namespaces of the types envoi records itself: a client
// may not record them, so criteria and scores can trust them.
var reserved = []string{"email", "sms", "form", "web", "webblock", "score"}

// MaxData bounds an event's data (a JSON object), in bytes.
const MaxData = 16 << 10

var typePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// Event is one behaviour event of a contact.
type Event struct {
	AccountID  int64
	ID         int64 // given by Record when 0
	ContactID  contact.ID
	Type       string
	At         time.Time
	CampaignID int64 // an emailing or SMS campaign; 0 for none
	FormID     int64 // 0 for none
	URL        string
	Amount     *Amount         // nil for none
	Data       json.RawMessage // a JSON object; empty is {}
	CreatedAt  time.Time       // when it was recorded; zero is At
}

// CheckType says whether a client may record an event of type t: purchase
// or a name of the account's own (^[a-z][a-z0-9_.-]{0,63}$), outside the
// namespaces envoi records itself.
func CheckType(t string) error {
	if t == "" {
		return fmt.Errorf("is required: purchase or a type of your own such as order.shipped")
	}
	if !typePattern.MatchString(t) {
		return fmt.Errorf("%q is not a type name: start with a lower-case letter, then up to 63 of a-z, 0-9, _ . - (e.g. order.shipped)", t)
	}
	ns, _, _ := strings.Cut(t, ".")
	for _, r := range reserved {
		if ns == r {
			return fmt.Errorf("%q is recorded by envoi itself: the types email.*, sms.*, form.*, web.*, webblock.* and score.* "+
				"cannot be sent through the API; use purchase or a type of your own such as order.shipped", t)
		}
	}
	return nil
}

// CheckData checks and compacts an event's data: a JSON object of at most
// MaxData bytes; nothing (or null) is {}.
func CheckData(raw json.RawMessage) (json.RawMessage, error) {
	if s := strings.TrimSpace(string(raw)); s == "" || s == "null" {
		return json.RawMessage("{}"), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("must be a JSON object such as {\"order\": \"A-1042\"}")
	}
	out, err := json.Marshal(obj) // compact, keys sorted
	if err != nil {
		return nil, fmt.Errorf("must be a JSON object: %v", err)
	}
	if len(out) > MaxData {
		return nil, fmt.Errorf("is too large: %d bytes once compacted, at most %d (16 KiB)", len(out), MaxData)
	}
	return out, nil
}

// recordChunk is how many events one INSERT carries: 11 parameters each,
// well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const recordChunk = 500

const eventColumns = 11

var insertSQL sync.Map // insertKey → statement text

type insertKey struct {
	dialect database.Dialect
	rows    int
}

// insertEvents is the INSERT of rows events. On SQLite its placeholders are
// anonymous (?), not the numbered ?NNN that $n becomes: modernc's driver
// looks each numbered parameter's name up in a list, which makes binding
// a 5,500-parameter statement quadratic (80% of the time of a batch).
func insertEvents(d database.Dialect, rows int) string {
	key := insertKey{d, rows}
	if s, ok := insertSQL.Load(key); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO events (account_id, id, contact_id, type, at, campaign_id, form_id, url, amount, data, created_at) VALUES `)
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range eventColumns {
			if c > 0 {
				b.WriteByte(',')
			}
			if d == database.SQLite {
				b.WriteByte('?')
				continue
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(r*eventColumns + c + 1))
		}
		b.WriteByte(')')
	}
	s := b.String()
	insertSQL.Store(key, s)
	return s
}

// Record appends events within q's transaction, in multi-row inserts of
// up to 500 events. Events without an id get fresh ones (written back into
// events). It trusts its caller for the contact (tracking resolves it from
// a signed token, the API looks it up) and checks only what the table
// needs: an account, a contact, a type, a time and data within MaxData.
func Record(ctx context.Context, q database.Querier, events []Event) error {
	missing := 0
	for i := range events {
		e := &events[i]
		switch {
		case e.AccountID == 0 || e.ContactID == 0:
			return fmt.Errorf("record event %d: no account or contact", i)
		case e.Type == "" || e.At.IsZero():
			return fmt.Errorf("record event %d: no type or time", i)
		case len(e.Data) > MaxData:
			return fault.Invalidf("data", "is larger than %d bytes", MaxData)
		}
		if e.ID == 0 {
			missing++
		}
	}
	if missing > 0 {
		ids, err := database.NewIDs(ctx, q, missing)
		if err != nil {
			return err
		}
		for i := range events {
			if events[i].ID == 0 {
				events[i].ID, ids = ids[0], ids[1:]
			}
		}
	}
	args := make([]any, 0, min(len(events), recordChunk)*eventColumns)
	var full *database.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for start := 0; start < len(events); start += recordChunk {
		chunk := events[start:min(start+recordChunk, len(events))]
		args = args[:0]
		for _, e := range chunk {
			data := "{}"
			if len(e.Data) > 0 {
				data = string(e.Data)
			}
			created := e.CreatedAt
			if created.IsZero() {
				created = e.At
			}
			var amount any
			if e.Amount != nil {
				amount = int64(*e.Amount)
			}
			args = append(args, e.AccountID, e.ID, int64(e.ContactID), e.Type, e.At.UnixMilli(), nullID(e.CampaignID),
				nullID(e.FormID), e.URL, amount, data, created.UnixMilli())
		}
		var err error
		switch {
		case len(chunk) < recordChunk:
			_, err = q.Exec(ctx, insertEvents(q.Dialect(), len(chunk)), args...)
		default:
			// Full chunks share one prepared statement: a group commit of
			// thousands of events parses the long INSERT once.
			if full == nil {
				if full, err = q.Prepare(ctx, insertEvents(q.Dialect(), recordChunk)); err != nil {
					return fmt.Errorf("record events: %w", err)
				}
			}
			_, err = full.Exec(ctx, args...)
		}
		if err != nil {
			return fmt.Errorf("record events: %w", err)
		}
	}
	return nil
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}
