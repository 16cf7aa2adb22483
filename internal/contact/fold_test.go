package contact

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestFoldRune(t *testing.T) {
	for in, want := range map[rune]rune{'A': 'a', 'z': 'z', 'É': 'e', 'è': 'e', 'Ç': 'c', 'ï': 'i', 'Ü': 'u', 'ñ': 'n',
		'Œ': 'œ', 'œ': 'œ', '’': '\'', '\'': '\'', '-': '-', ' ': ' ', '5': '5', 'Ø': 'ø', 'İ': 'i', 'Σ': 'σ'} {
		if got := foldRune(in); got != want {
			t.Errorf("foldRune(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassOf(t *testing.T) {
	e := classOf('e')
	for _, r := range "eEéÉèÈêÊëË" {
		if !slices.Contains(e, r) {
			t.Errorf("class of e lacks %q: %q", r, string(e))
		}
	}
	if !slices.Equal(classOf('É'), e) || !slices.IsSorted(e) {
		t.Errorf("class of É = %q, of e = %q", string(classOf('É')), string(e))
	}
	if slices.Contains(e, 'a') || slices.Contains(classOf('a'), 'e') {
		t.Error("classes of a and e overlap")
	}
	if got := string(classOf('\'')); !strings.ContainsRune(got, '’') {
		t.Errorf("class of ' = %q", got)
	}
	if got := string(classOf('σ')); !strings.ContainsRune(got, 'Σ') || !strings.ContainsRune(got, 'ς') {
		t.Errorf("class of σ (outside the Latin blocks) = %q", got)
	}
}

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		query, stored, prefix string
		ok                    bool
	}{
		{"lefevre", "Lefèvre", "Lefèvre", true},
		{"lefevre", "LEFÈVRE", "LEFÈVRE", true},
		{"Lefèvre", "LEFEVRE-DURAND", "LEFEVRE", true},
		{"lefe", "lefèvre", "lefè", true},
		{"lefevre", "Lefebvre", "", false},
		{"lefevre", "Lefèv", "", false},
		{"le  gall", "Le Gall", "Le Gall", true},
		{"d'art", "d’Artagnan", "d’Art", true},
		{"œuvre", "ŒUVRE", "ŒUVRE", true},
		{"oeuvre", "Œuvre", "", false}, // a ligature matches only itself
		{"muller", "Müller", "Müller", true},
	}
	for _, c := range cases {
		prefix, ok := newPattern(c.query).match(c.stored)
		if ok != c.ok || prefix != c.prefix {
			t.Errorf("%q matching %q = %q, %v; want %q, %v", c.query, c.stored, prefix, ok, c.prefix, c.ok)
		}
	}
}

// TestPatternNext checks next against brute force: the smallest string of
// the pattern's length that it matches and that is greater than s.
func TestPatternNext(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aAbeEéÉèzZ-' ÿ’Œœ")
	for _, query := range []string{"e", "ea", "be", "zé", "e'a", "a-b"} {
		p := newPattern(query)
		// Every string of len(p) the pattern matches, sorted.
		all := []string{""}
		for _, class := range p {
			var longer []string
			for _, s := range all {
				for _, r := range class {
					longer = append(longer, s+string(r))
				}
			}
			all = longer
		}
		slices.Sort(all)
		checked := 0
		for range 3000 {
			var sb strings.Builder
			for range rng.IntN(len(p) + 2) {
				sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
			}
			s := sb.String()
			if _, ok := p.match(s); ok {
				continue
			}
			i, _ := slices.BinarySearch(all, s)
			for i < len(all) && all[i] <= s {
				i++
			}
			got, ok := p.next(s)
			checked++
			if i == len(all) {
				if ok {
					t.Fatalf("%q: next(%q) = %q, want none", query, s, got)
				}
				continue
			}
			if !ok || got != all[i] {
				t.Fatalf("%q: next(%q) = %q, %v; want %q", query, s, got, ok, all[i])
			}
		}
		if checked < 1000 {
			t.Fatalf("%q: only %d strings checked", query, checked)
		}
	}
}

func TestAfter(t *testing.T) {
	for in, want := range map[string]string{"a": "b", "Dupont": "Duponu", "é": "ê", "a\U0010FFFF": "b", "+336": "+337"} {
		if got := after(in); got != want {
			t.Errorf("after(%q) = %q, want %q", in, got, want)
		}
	}
	// Every string starting with the prefix sorts before after(prefix).
	for _, s := range []string{"Dupont", "Dupontel", "Dupont\U0010FFFF", "Dupont-Moreau"} {
		if !(s >= "Dupont" && s < after("Dupont")) {
			t.Errorf("%q is outside [Dupont, %q)", s, after("Dupont"))
		}
	}
}

func TestPhonePrefixes(t *testing.T) {
	for _, c := range []struct {
		in, country string
		want        []string
	}{
		{"06 12 34 56 78", "FR", []string{"+33612345678"}},
		{"+33 6 12 34 56 78", "FR", []string{"+33612345678"}},
		{"0033612345678", "FR", []string{"+33612345678"}},
		{"612345678", "FR", []string{"+33612345678"}},
		{"06 12", "FR", []string{"+33612"}},
		{"+336", "FR", []string{"+336"}},
		{"0044 20", "FR", []string{"+4420"}},
		{"4420", "FR", []string{"+334420", "+4420"}},
		{"020 79", "GB", []string{"+4420" + "79"}},
		{"1", "FR", nil},
		{"06-12 x", "FR", nil},
		{"+", "FR", nil},
	} {
		if got := phonePrefixes(c.in, c.country); !slices.Equal(got, c.want) {
			t.Errorf("phonePrefixes(%q, %s) = %q, want %q", c.in, c.country, got, c.want)
		}
	}
}

func TestParseSortAndCursor(t *testing.T) {
	for _, s := range Sorts {
		o, err := parseSort(s)
		if err != nil || o.sort != s || o.cols[len(o.cols)-1].name != "id" || o.desc != strings.HasPrefix(string(s), "-") {
			t.Fatalf("parseSort(%q) = %+v, %v", s, o, err)
		}
		c := Contact{ID: 42, LastName: "Lefèvre", FirstName: "", Email: "a@b.fr"}
		cursor := o.encode(c)
		if strings.Trim(cursor, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("cursor %q is not URL-safe", cursor)
		}
		vals, err := o.decode(cursor, 0)
		if err != nil || vals[len(vals)-1] != int64(42) {
			t.Fatalf("%s: decode(encode) = %v, %v", s, vals, err)
		}
		other := SortName
		if o.sort == SortName {
			other = SortEmail
		}
		if _, err := decodeAs(t, other, cursor); err == nil {
			t.Fatalf("a %s cursor was accepted for %s", s, other)
		}
	}
	if o, err := parseSort("created"); err != nil || o.sort != SortID {
		t.Fatalf("created: %+v, %v", o, err)
	}
	if _, err := parseSort("phone"); err == nil {
		t.Fatal("an unknown sort was accepted")
	}
	id, _ := parseSort(SortID)
	if vals, err := id.decode("12345", 0); err != nil || vals[0] != int64(12345) {
		t.Fatalf("a numeric cursor (before opaque cursors): %v, %v", vals, err)
	}
	name, _ := parseSort(SortName)
	for _, bad := range []string{"12345", "abc", "!!", "WyJuYW1lIl0", "WyJuYW1lIiwxLDIsM10"} { // ["name"], ["name",1,2,3]
		if _, err := name.decode(bad, 0); err == nil {
			t.Errorf("cursor %q accepted for the name order", bad)
		}
	}
}

// decodeAs decodes cursor in the order s.
func decodeAs(t *testing.T, s Sort, cursor string) ([]any, error) {
	t.Helper()
	o, err := parseSort(s)
	if err != nil {
		t.Fatal(err)
	}
	return o.decode(cursor, 0)
}
