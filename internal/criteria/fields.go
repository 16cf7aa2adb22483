package criteria

// coreField is a core or derived field and how it is stored.
type coreField struct {
	FieldInfo
	col       string // the contacts column (core fields)
	timestamp bool   // a BIGINT unix-ms column compared by day in the account's time zone
	nullable  bool
}

// coreFields are the columns of contacts criteria can test, then the
// derived values (SPEC §4.1), in the builder's order.
var coreFields = []coreField{
	{FieldInfo: FieldInfo{Key: "email", Label: "Email", Type: Text}, col: "email"},
	{FieldInfo: FieldInfo{Key: "phone", Label: "Mobile phone", Type: Text}, col: "phone"},
	{FieldInfo: FieldInfo{Key: "civility", Label: "Civility", Type: Text}, col: "civility"},
	{FieldInfo: FieldInfo{Key: "first_name", Label: "First name", Type: Text}, col: "first_name"},
	{FieldInfo: FieldInfo{Key: "last_name", Label: "Last name", Type: Text}, col: "last_name"},
	{FieldInfo: FieldInfo{Key: "birth_date", Label: "Birth date", Type: Date}, col: "birth_date"},
	{FieldInfo: FieldInfo{Key: "address", Label: "Address", Type: Text}, col: "address"},
	{FieldInfo: FieldInfo{Key: "postal_code", Label: "Postal code", Type: Text}, col: "postal_code"},
	{FieldInfo: FieldInfo{Key: "city", Label: "City", Type: Text}, col: "city"},
	{FieldInfo: FieldInfo{Key: "country", Label: "Country", Type: Text}, col: "country"},
	{FieldInfo: FieldInfo{Key: "company", Label: "Company", Type: Text}, col: "company"},
	{FieldInfo: FieldInfo{Key: "job", Label: "Job", Type: Text}, col: "job"},
	{FieldInfo: FieldInfo{Key: "language", Label: "Language", Type: Text}, col: "language"},
	{FieldInfo: FieldInfo{Key: "consent_source", Label: "Consent source", Type: Text}, col: "consent_source"},
	{FieldInfo: FieldInfo{Key: "consent_at", Label: "Consent date", Type: Date}, col: "consent_at", timestamp: true, nullable: true},
	{FieldInfo: FieldInfo{Key: "created_at", Label: "Creation date", Type: Date}, col: "created_at", timestamp: true},
	{FieldInfo: FieldInfo{Key: "updated_at", Label: "Last update", Type: Date}, col: "updated_at", timestamp: true},
	{FieldInfo: FieldInfo{Key: "age", Label: "Age", Type: Number, Kind: Derived}},
	{FieldInfo: FieldInfo{Key: "department", Label: "Department", Type: Text, Kind: Derived}},
	{FieldInfo: FieldInfo{Key: "email_domain", Label: "Email domain", Type: Text, Kind: Derived}},
}

var coreByKey = func() map[string]coreField {
	m := make(map[string]coreField, len(coreFields))
	for i := range coreFields {
		if coreFields[i].Kind == "" {
			coreFields[i].Kind = Core
		}
		m[coreFields[i].Key] = coreFields[i]
	}
	return m
}()

// CoreFields returns the core and derived fields (what every account has).
func CoreFields() []FieldInfo {
	out := make([]FieldInfo, len(coreFields))
	for i, f := range coreFields {
		out[i] = f.FieldInfo
	}
	return out
}

// isTimestamp reports whether a field is a unix-ms column compared by day.
func isTimestamp(f FieldInfo) bool {
	c, ok := coreByKey[f.Key]
	return ok && f.Kind == Core && c.timestamp
}
