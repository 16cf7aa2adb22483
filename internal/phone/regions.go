package phone

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// region is what the fast path needs of one region's metadata.
type region struct {
	id    string // ISO 3166 alpha-2
	cc    int
	ccStr string
	meta  *phonenumbers.PhoneMetadata

	nationalPrefix string         // plain national prefix to strip ("0"), if any
	nppRE          *regexp.Regexp // prefix-for-parsing needing the library, if any
	idd00          bool           // the international prefix is exactly "00"
	iddRE          *regexp.Regexp // otherwise the international prefix, anchored
	leading        *machine       // leading digits choosing this region among those sharing its code
	same           bool           // same mobile and fixed-line patterns

	once      sync.Once
	types     *machine   // typePatterns, compiled on first use
	lens      [11]uint32 // bit n: length n possible for typePatterns[i]
	localOnly uint32     // bit n: general length n is local-only
}

// Index of each description in the type machine, in the order the library
// tests them (getNumberTypeHelper).
const (
	tGeneral = iota
	tPremium
	tTollFree
	tShared
	tVoip
	tPersonal
	tPager
	tUAN
	tVoicemail
	tFixed
	tMobile
)

func (r *region) descs() [11]*phonenumbers.PhoneNumberDesc {
	m := r.meta
	return [11]*phonenumbers.PhoneNumberDesc{
		m.GetGeneralDesc(), m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(),
		m.GetVoip(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(),
		m.GetVoicemail(), m.GetFixedLine(), m.GetMobile(),
	}
}

func lengthMask(ls []int32) uint32 {
	if len(ls) == 0 {
		return ^uint32(0)
	}
	var mask uint32
	for _, l := range ls {
		if l >= 0 && l < 32 {
			mask |= 1 << l
		}
	}
	return mask
}

// typeMachine returns the region's compiled patterns, nil if they cannot be
// walked (then the library decides).
func (r *region) typeMachine() *machine {
	r.once.Do(func() {
		ds := r.descs()
		patterns := make([]string, len(ds))
		for i, d := range ds {
			patterns[i] = d.GetNationalNumberPattern()
			r.lens[i] = lengthMask(d.GetPossibleLength())
		}
		r.localOnly = lengthMask(ds[tGeneral].GetPossibleLengthLocalOnly())
		if len(ds[tGeneral].GetPossibleLengthLocalOnly()) == 0 {
			r.localOnly = 0
		}
		if m, ok := newMachine(patterns); ok {
			r.types = m
		}
	})
	return r.types
}

// typeOf is the library's getNumberTypeHelper for a national significant
// number of this region; ok is false when the machine cannot tell.
func (r *region) typeOf(nsn string) (phonenumbers.PhoneNumberType, bool) {
	m := r.typeMachine()
	if m == nil || len(nsn) >= 32 {
		return phonenumbers.UNKNOWN, false
	}
	mask, ok := m.match(nsn)
	if !ok {
		return phonenumbers.UNKNOWN, false
	}
	n := uint(len(nsn))
	has := func(i int) bool { return mask>>i&1 == 1 && r.lens[i]>>n&1 == 1 }
	switch {
	case !has(tGeneral):
		return phonenumbers.UNKNOWN, true
	case has(tPremium):
		return phonenumbers.PREMIUM_RATE, true
	case has(tTollFree):
		return phonenumbers.TOLL_FREE, true
	case has(tShared):
		return phonenumbers.SHARED_COST, true
	case has(tVoip):
		return phonenumbers.VOIP, true
	case has(tPersonal):
		return phonenumbers.PERSONAL_NUMBER, true
	case has(tPager):
		return phonenumbers.PAGER, true
	case has(tUAN):
		return phonenumbers.UAN, true
	case has(tVoicemail):
		return phonenumbers.VOICEMAIL, true
	case has(tFixed):
		if r.same || has(tMobile) {
			return phonenumbers.FIXED_LINE_OR_MOBILE, true
		}
		return phonenumbers.FIXED_LINE, true
	case !r.same && has(tMobile):
		return phonenumbers.MOBILE, true
	}
	return phonenumbers.UNKNOWN, true
}

// strippable reports whether the library, holding nsn after removing a
// national prefix, keeps it: the general pattern matches it (so stripping is
// not refused) and its length is possible, not local-only.
func (r *region) strippable(nsn string) (bool, bool) {
	m := r.typeMachine()
	if m == nil || len(nsn) >= 32 {
		return false, false
	}
	mask, ok := m.match(nsn)
	if !ok {
		return false, false
	}
	n := uint(len(nsn))
	return mask&1 == 1 && r.lens[tGeneral]>>n&1 == 1 && r.localOnly>>n&1 == 0, true
}

// tables is every geographic region, by id and by country calling code (in
// the library's order), and the set of known calling codes.
type tables struct {
	byID   map[string]*region
	byCC   map[int][]*region
	codes  map[int]bool
	failed bool
}

var loadTables = sync.OnceValue(func() *tables {
	t := &tables{byID: map[string]*region{}, byCC: map[int][]*region{}, codes: map[int]bool{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.failed = true // every number goes to the library
		return t
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		t.codes[cc] = true
	}
	for _, m := range coll.GetMetadata() {
		id := m.GetId()
		if id == "001" || id == "" {
			continue // non-geographic entities: left to the library
		}
		r := &region{id: id, cc: int(m.GetCountryCode()), meta: m, same: m.GetSameMobileAndFixedLinePattern()}
		r.ccStr = strconv.Itoa(r.cc)
		npp, rule := m.GetNationalPrefixForParsing(), m.GetNationalPrefixTransformRule()
		switch {
		case npp == "":
		case rule == "" && isDigits(npp):
			r.nationalPrefix = npp
		default:
			r.nppRE = regexp.MustCompile("^(?:" + npp + ")")
		}
		switch idd := m.GetInternationalPrefix(); {
		case idd == "00":
			r.idd00 = true
		case idd != "":
			r.iddRE = regexp.MustCompile("^(?:" + idd + ")")
		}
		if ld := m.GetLeadingDigits(); ld != "" {
			lm, ok := newMachine([]string{ld})
			if !ok {
				continue
			}
			r.leading = lm
		}
		t.byID[id] = r
	}
	for cc := range t.codes {
		for _, id := range phonenumbers.GetRegionCodesForCountryCode(cc) {
			if r := t.byID[id]; r != nil {
				t.byCC[cc] = append(t.byCC[cc], r)
			}
		}
	}
	// A code whose regions are not all modelled is left to the library.
	for cc, rs := range t.byCC {
		if len(rs) != len(phonenumbers.GetRegionCodesForCountryCode(cc)) {
			delete(t.byCC, cc)
		}
	}
	return t
})

// regionOf is the library's GetRegionCodeForNumber: the region among those
// sharing cc that the number belongs to, nil if none; ok is false when only
// the library can tell.
func (t *tables) regionOf(cc int, nsn string) (*region, bool) {
	rs := t.byCC[cc]
	switch len(rs) {
	case 0:
		return nil, false
	case 1:
		return rs[0], true
	}
	for _, r := range rs {
		if r.leading != nil {
			found, ok := r.leading.matchPrefix(nsn)
			if !ok {
				return nil, false
			}
			if found {
				return r, true
			}
			continue
		}
		typ, ok := r.typeOf(nsn)
		if !ok {
			return nil, false
		}
		if typ != phonenumbers.UNKNOWN {
			return r, true
		}
	}
	return nil, true
}

// numberType is the library's GetNumberType for +cc nsn (nsn without a
// leading zero); ok is false when only the library can tell.
func (t *tables) numberType(cc int, nsn string) (*region, phonenumbers.PhoneNumberType, bool) {
	r, ok := t.regionOf(cc, nsn)
	if !ok {
		return nil, phonenumbers.UNKNOWN, false
	}
	if r == nil {
		return nil, phonenumbers.UNKNOWN, true
	}
	typ, ok := r.typeOf(nsn)
	return r, typ, ok
}

// splitE164 splits "+" digits into a known calling code and the national
// significant number, as the library does; ok is false if it cannot.
func (t *tables) splitE164(s string) (cc int, ccStr, nsn string, ok bool) {
	if len(s) < 2 || s[0] != '+' {
		return 0, "", "", false
	}
	return t.splitCC(s[1:])
}

// splitCC splits digits that follow a + or an international prefix.
func (t *tables) splitCC(digits string) (cc int, ccStr, nsn string, ok bool) {
	if digits == "" || digits[0] == '0' || !isDigits(digits) {
		return 0, "", "", false
	}
	for i := 1; i <= 3 && i <= len(digits); i++ {
		cc, _ := strconv.Atoi(digits[:i])
		if t.codes[cc] {
			return cc, digits[:i], digits[i:], true
		}
	}
	return 0, "", "", false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// upperRegion upper-cases an ISO code without allocating when it already is.
func upperRegion(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}
