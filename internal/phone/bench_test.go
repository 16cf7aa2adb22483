package phone

import (
	"fmt"
	"testing"
)

// benchInputs are phone columns as they come in imports: mostly French
// mobiles and landlines written every usual way, distinct numbers.
func benchInputs(n int) []string {
	forms := []string{"0%d %02d %02d %02d %02d", "+33%d%02d%02d%02d%02d", "+33 (0)%d %02d %02d %02d %02d", "0033%d%02d%02d%02d%02d", "0%d.%02d.%02d.%02d.%02d", "%d%02d%02d%02d%02d"}
	prefixes := []int{6, 7, 1, 2, 3, 4, 5, 9}
	out := make([]string, n)
	for i := range out {
		p := prefixes[i%len(prefixes)]
		second := 10 + (i/7)%20 // not all of 06 is assigned (0639 is Mayotte)
		if p == 7 {
			second = 30 + (i/7)%70 // 073…079
		}
		out[i] = fmt.Sprintf(forms[i%len(forms)], p, second, (i/3)%100, (i/11)%100, i%100)
	}
	return out
}

// BenchmarkNormalize measures Normalize on French numbers in mixed forms
// (the import case), already-E.164 input, and the library alone for
// comparison.
func BenchmarkNormalize(b *testing.B) {
	in := benchInputs(4096)
	for _, s := range in {
		if _, err := Normalize(s, "FR"); err != nil {
			b.Fatalf("%q: %v", s, err)
		}
	}
	b.Run("mixed", func(b *testing.B) {
		i := 0
		for b.Loop() {
			Normalize(in[i%len(in)], "FR")
			i++
		}
	})
	e164 := make([]string, len(in))
	for i, s := range in {
		e164[i], _ = Normalize(s, "FR")
	}
	b.Run("e164", func(b *testing.B) {
		i := 0
		for b.Loop() {
			Normalize(e164[i%len(e164)], "FR")
			i++
		}
	})
	b.Run("library", func(b *testing.B) {
		i := 0
		for b.Loop() {
			plus, digits, _ := clean(in[i%len(in)])
			slow(plus, digits, "FR")
			i++
		}
	})
	b.Run("IsMobile", func(b *testing.B) {
		i := 0
		for b.Loop() {
			IsMobile(e164[i%len(e164)])
			i++
		}
	})
}
