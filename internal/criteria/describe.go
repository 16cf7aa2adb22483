package criteria

// Describe returns what the builder offers for an account: its fields
// (core, derived, custom — custom ones when cat is a FieldLister, as
// NewCatalog's is), each with the operators it accepts; the operators of
// each type with the shape of their value and an i18n key
// ("criteria.op.<op>"); the named event types with their filters and an
// i18n key ("criteria.event.<type with _ for .>"); and the statuses.
func Describe(cat Catalog) Vocabulary {
	fields := CoreFields()
	if l, ok := cat.(FieldLister); ok {
		fields = l.Fields()
	}
	v := Vocabulary{
		Fields:        make([]FieldInfo, len(fields)),
		Operators:     map[string][]Operator{},
		EmailStatuses: append([]string(nil), EmailStatuses...),
		SMSStatuses:   append([]string(nil), SMSStatuses...),
	}
	for i, f := range fields {
		f.Ops = fieldOps(f)
		v.Fields[i] = f
	}
	for typ, ops := range typeOps {
		for _, op := range ops {
			v.Operators[typ] = append(v.Operators[typ], Operator{Op: op, Key: opKeyPrefix + op, Value: opShape[op]})
		}
	}
	for _, op := range scoreOps {
		v.Operators["score"] = append(v.Operators["score"], Operator{Op: op, Key: opKeyPrefix + op, Value: opShape[op]})
	}
	for _, e := range namedEvents {
		v.Events = append(v.Events, EventType{Type: e.Type, Key: eventKeyPrefix + underscore(e.Type), Filters: append([]string(nil), e.Filters...)})
	}
	return v
}

const (
	opKeyPrefix    = "criteria.op."
	eventKeyPrefix = "criteria.event."
)

func underscore(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '.' {
			b[i] = '_'
		}
	}
	return string(b)
}
