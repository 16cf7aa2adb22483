package criteria

// Operator value shapes.
const (
	valueNone = "none" // empty, not_empty
	valueOne  = "one"  // one value of the field's type
	valueTwo  = "two"  // [low, high], inclusive
	valueList = "list" // a non-empty list
	valueDays = "days" // a whole number of days ≥ 0
)

// opShape is the value shape of each operator.
var opShape = map[string]string{
	"eq": valueOne, "ne": valueOne, "contains": valueOne, "starts_with": valueOne,
	"empty": valueNone, "not_empty": valueNone, "in": valueList, "not_in": valueList,
	"lt": valueOne, "lte": valueOne, "gt": valueOne, "gte": valueOne, "between": valueTwo,
	"before": valueOne, "after": valueOne, "last_days": valueDays, "next_days": valueDays, "anniversary_days": valueDays,
}

// typeOps are the operators of each field type, in the builder's order.
var typeOps = map[string][]string{
	Text:        {"eq", "ne", "contains", "starts_with", "in", "not_in", "empty", "not_empty"},
	Number:      {"eq", "ne", "lt", "lte", "gt", "gte", "between", "empty", "not_empty"},
	Date:        {"eq", "before", "after", "between", "last_days", "next_days", "anniversary_days", "empty", "not_empty"},
	Boolean:     {"eq", "empty", "not_empty"},
	Choice:      {"eq", "ne", "in", "not_in", "empty", "not_empty"},
	MultiChoice: {"in", "not_in", "empty", "not_empty"},
}

// scoreOps are the operators of a score criterion (a contact without a
// result has 0, so a score is never empty).
var scoreOps = []string{"eq", "ne", "lt", "lte", "gt", "gte", "between"}

// fieldOps returns the operators a field accepts: its type's, less
// anniversary_days on the timestamp columns (consent, creation, update).
func fieldOps(f FieldInfo) []string {
	ops := typeOps[f.Type]
	if isTimestamp(f) {
		out := make([]string, 0, len(ops))
		for _, op := range ops {
			if op != "anniversary_days" {
				out = append(out, op)
			}
		}
		return out
	}
	return ops
}

// Email and SMS statuses (migration 0007's CHECK constraints, SPEC §4.2).
var (
	EmailStatuses = []string{"valid", "soft_bounced", "hard_bounced", "unsubscribed", "complained"}
	SMSStatuses   = []string{"valid", "invalid", "stopped"}
)

// Behaviour event types criteria know by name (SPEC §6.3). Any other type
// of the events table's form (a custom type such as order.shipped) is
// accepted too.
const (
	EventEmailOpened     = "email.opened"
	EventEmailClicked    = "email.clicked"
	EventEmailNotOpened  = "email.not_opened" // a criterion, not a recorded type: received and not opened
	EventSMSClicked      = "sms.clicked"
	EventFormSubmitted   = "form.submitted"
	EventWebVisit        = "web.visit"
	EventWebblockClicked = "webblock.clicked"
	EventPurchase        = "purchase"
	// EventEmailReceived is the recorded type that means "received" for
	// email.not_opened: the sender records email.sent per recipient
	// (package activity).
	EventEmailReceived = "email.sent"
)

// Event filters.
const (
	filterCampaign = "campaign"
	filterForm     = "form"
	filterURL      = "url"
	filterCount    = "min_count"
	filterWithin   = "within_days"
	filterFrom     = "from"
	filterTo       = "to"
	filterAmount   = "min_amount"
)

var period = []string{filterCount, filterWithin, filterFrom, filterTo}

// namedEvents are the builder's event types, with their filters.
var namedEvents = []EventType{
	{Type: EventEmailOpened, Filters: append([]string{filterCampaign}, period...)},
	{Type: EventEmailClicked, Filters: append([]string{filterCampaign, filterURL}, period...)},
	{Type: EventEmailNotOpened, Filters: append([]string{filterCampaign}, period...)},
	{Type: EventSMSClicked, Filters: append([]string{filterCampaign, filterURL}, period...)},
	{Type: EventFormSubmitted, Filters: append([]string{filterForm}, period...)},
	{Type: EventWebVisit, Filters: append([]string{filterURL}, period...)},
	{Type: EventWebblockClicked, Filters: append([]string{filterURL}, period...)},
	{Type: EventPurchase, Filters: append([]string{filterAmount}, period...)},
}

// eventFilters returns the filters an event type accepts: the named
// types' own; by namespace for other email./sms. (campaign), form.
// (form) and web./webblock. (url) types; url and min_amount for custom
// types.
func eventFilters(typ string) []string {
	for _, e := range namedEvents {
		if e.Type == typ {
			return e.Filters
		}
	}
	switch ns := namespace(typ); ns {
	case "email", "sms":
		return append([]string{filterCampaign}, period...)
	case "form":
		return append([]string{filterForm}, period...)
	case "web", "webblock":
		return append([]string{filterURL}, period...)
	case "score":
		return period
	}
	return append([]string{filterURL, filterAmount}, period...)
}

func namespace(typ string) string {
	for i := 0; i < len(typ); i++ {
		if typ[i] == '.' {
			return typ[:i]
		}
	}
	return ""
}
