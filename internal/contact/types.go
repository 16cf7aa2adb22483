package contact

import (
	"time"
)

// ID identifies a contact within an account.
type ID int64

// FieldID identifies a custom field; ListID a list.
type (
	FieldID int64
	ListID  int64
)

// Email statuses (SPEC §4.2).
const (
	EmailValid        = "valid"
	EmailSoftBounced  = "soft_bounced"
	EmailHardBounced  = "hard_bounced"
	EmailUnsubscribed = "unsubscribed"
	EmailComplained   = "complained"
)

// SMS statuses.
const (
	SMSValid   = "valid"
	SMSInvalid = "invalid"
	SMSStopped = "stopped"
)

// Contact is one person of the base.
type Contact struct {
	ID            ID
	Email         string
	Phone         string // E.164
	Civility      string
	FirstName     string
	LastName      string
	BirthDate     string // YYYY-MM-DD or ""
	Address       string
	PostalCode    string
	City          string
	Country       string // ISO 3166 alpha-2
	Company       string
	Job           string
	Language      string
	EmailStatus   string
	SMSStatus     string
	ConsentSource string
	ConsentAt     *time.Time
	Fields        map[string]any // custom field key → string, float64 (numbers), bool, []string (multi choice), "YYYY-MM-DD"
	Lists         []ListID
	Blacklisted   bool // the email, its domain or the phone is on the blacklist
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64
}

// Input creates or changes a contact; nil fields are left unchanged (on
// create, empty). Fields holds custom values by key (nil value clears).
type Input struct {
	Email         *string
	Phone         *string
	Civility      *string
	FirstName     *string
	LastName      *string
	BirthDate     *string
	Address       *string
	PostalCode    *string
	City          *string
	Country       *string
	Company       *string
	Job           *string
	Language      *string
	EmailStatus   *string
	SMSStatus     *string
	ConsentSource *string
	Fields        map[string]any
	Lists         []ListID // on create: lists to add the contact to
}

// FieldType is the type of a custom field.
type FieldType string

const (
	Text        FieldType = "text"
	Number      FieldType = "number"
	Date        FieldType = "date"
	Boolean     FieldType = "boolean"
	Choice      FieldType = "choice"
	MultiChoice FieldType = "multi_choice"
)

// Field is a custom field of the account.
type Field struct {
	ID      FieldID
	Key     string
	Label   string
	Type    FieldType
	Choices []string
	Version int64
}

// List is a static list of contacts.
type List struct {
	ID          ListID
	Name        string
	Description string
	Count       int64
	Version     int64
	UpdatedAt   time.Time
}

// BlacklistEntry is an email, domain or phone that never receives anything.
type BlacklistEntry struct {
	ID        int64
	Type      string // email, domain, phone
	Value     string
	CreatedAt time.Time
}

// Settings are the account's contact settings (SPEC §4.3).
type Settings struct {
	UniqueKey        string // "email", "phone" or a custom field key
	RefuseDuplicates bool
	DefaultCountry   string
}

// Filter selects contacts for the list page and the API (search.go).
type Filter struct {
	Query  string // "starts with" on the last name (and "first last"), email or phone
	List   ListID
	Status string // an email status
	Sort   Sort   // "" is SortID
	Cursor string // the Cursor of the previous page
	After  ID     // in id order without Cursor: contacts with a greater id
	Limit  int
	// Segment narrows the listing to a segment's contacts (the segment
	// package compiles it: contact does not know criteria).
	Segment Condition
}

// Condition is an SQL condition over `contacts c` whose placeholders are
// numbered from firstArg, with its arguments.
type Condition func(firstArg int) (where string, args []any, err error)

// Page is one page of contacts and the cursor of the next ("": none).
type Page struct {
	Contacts []Contact
	Cursor   string
	Next     ID // the last contact's id when there is a next page
}
