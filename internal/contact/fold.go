package contact

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Name search ignores case and accents ("lefevre" finds Lefèvre, LEFÈVRE
// and LEFEVRE) while names are stored as people typed them and indexed in
// binary order. A folded query is a sequence of classes of characters: the
// stored characters that fold to each of its letters. The strings starting
// with one character of each class, in order, form a "language" whose
// members are scattered over the index; matchingPrefixes (search.go) visits
// only the parts of the index that hold members, by seeking from one to the
// smallest member after it (pattern.next), as a skip scan does. Folding is
// per character: a ligature (œ) or a decomposed accent (e + U+0301) matches
// only itself and its case variants.

// foldRune is the folded form of r: lower case without accent, ’ as '.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return unicode.ToLower(r)
	}
	switch r {
	case '’', '‘', 'ʼ':
		return '\''
	}
	if d := norm.NFD.String(string(r)); d != "" {
		base, _ := utf8.DecodeRuneInString(d)
		r = base
	}
	return unicode.ToLower(r)
}

// classes maps a folded character to the characters of the Latin blocks
// that fold to it, in code point order.
var classes = func() map[rune][]rune {
	m := map[rune][]rune{}
	add := func(r rune) {
		f := foldRune(r)
		if !slices.Contains(m[f], r) {
			m[f] = append(m[f], r)
		}
	}
	for r := rune(0x20); r <= 0x24f; r++ {
		if unicode.IsPrint(r) {
			add(r)
		}
	}
	for _, r := range "’‘ʼẞ" {
		add(r)
	}
	for f := range m {
		slices.Sort(m[f])
	}
	return m
}()

// classOf returns the sorted characters that a query character matches.
func classOf(r rune) []rune {
	f := foldRune(r)
	out := slices.Clone(classes[f])
	// Outside the Latin blocks: the character and its case variants.
	for _, x := range []rune{r, f} {
		for c := x; ; {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
			if c = unicode.SimpleFold(c); c == x {
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// pattern is a folded prefix: position i matches any character of
// pattern[i]. Strings compare in code point order (the binary order of
// UTF-8, that of SQLite and of PostgreSQL's C collation).
type pattern [][]rune

// newPattern is the pattern of a query: spaces collapsed, each character
// matched with its case and accent variants.
func newPattern(q string) pattern {
	var p pattern
	for _, r := range strings.Join(strings.Fields(norm.NFC.String(q)), " ") {
		p = append(p, classOf(r))
	}
	return p
}

// first is the smallest string the pattern matches.
func (p pattern) first() string {
	var sb strings.Builder
	for _, c := range p {
		sb.WriteRune(c[0])
	}
	return sb.String()
}

// match reports whether s starts with a string of the pattern, and
// returns that prefix.
func (p pattern) match(s string) (string, bool) {
	rs := []rune(s)
	if len(rs) < len(p) {
		return "", false
	}
	for i, c := range p {
		if _, ok := slices.BinarySearch(c, rs[i]); !ok {
			return "", false
		}
	}
	return string(rs[:len(p)]), true
}

// next returns the smallest string that starts with a string of the
// pattern and is greater than s, where s starts with none; ok is false
// when there is none.
func (p pattern) next(s string) (string, bool) {
	rs := []rune(s)
	fill := func(prefix []rune, from int) string {
		out := slices.Clone(prefix)
		for _, c := range p[from:] {
			out = append(out, c[0])
		}
		return string(out)
	}
	for i, c := range p {
		if i == len(rs) {
			// s is a prefix of strings of the pattern: the smallest of them.
			return fill(rs, i), true
		}
		if _, ok := slices.BinarySearch(c, rs[i]); ok {
			continue
		}
		// Position i fails: the next character of its class, or else
		// the next one at an earlier position.
		for j := i; j >= 0; j-- {
			k, found := slices.BinarySearch(p[j], rs[j])
			if found {
				k++
			}
			if k < len(p[j]) {
				return fill(append(slices.Clone(rs[:j]), p[j][k]), j+1), true
			}
		}
		return "", false
	}
	return "", false // s matches: not for next
}

// after returns the smallest string greater than every string starting
// with prefix (prefix non-empty): its last character incremented.
func after(prefix string) string {
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i] + 1
		if r >= 0xd800 && r <= 0xdfff {
			r = 0xe000
		}
		if r <= unicode.MaxRune {
			rs[i] = r
			return string(rs[:i+1])
		}
	}
	return string(unicode.MaxRune) // not reached for valid text
}
