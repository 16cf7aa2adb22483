package phone

import (
	"encoding/binary"
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
)

// machine matches a digit string against several regular expressions at
// once, in one pass, by walking a DFA built lazily from their compiled
// programs. The phonenumbers library matches a number against up to eleven
// patterns one regexp at a time (≈ 2 µs); this is what makes Normalize fast.
//
// Patterns come from the library's metadata: anchored, over ASCII digits, with
// no empty-width assertions (newMachine refuses others, and its caller then
// uses the library). Safe for concurrent use: readers follow atomic pointers;
// the mutex is held only while a missing transition is computed.
type machine struct {
	progs []*syntax.Prog

	mu     sync.Mutex
	states map[string]*dstate
	start  *dstate
	dead   *dstate
	full   bool // maxStates reached: stop building, report failure
}

// dstate is a set of NFA threads (pattern, pc) waiting for a digit.
type dstate struct {
	threads []uint32 // pattern<<24 | pc, sorted
	accept  uint32   // bit p: pattern p matches the digits read so far
	next    [10]atomic.Pointer[dstate]
}

// maxStates bounds a machine's memory; the metadata's patterns need a few
// hundred at most.
const maxStates = 20000

// newMachine compiles the patterns (at most 24); ok is false when one does not
// compile or uses something the walk does not model.
func newMachine(patterns []string) (*machine, bool) {
	if len(patterns) > 24 {
		return nil, false
	}
	m := &machine{states: map[string]*dstate{}}
	for _, p := range patterns {
		re, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			return nil, false
		}
		prog, err := syntax.Compile(re.Simplify())
		if err != nil {
			return nil, false
		}
		for _, in := range prog.Inst {
			if in.Op == syntax.InstEmptyWidth {
				return nil, false
			}
		}
		m.progs = append(m.progs, prog)
	}
	m.dead = &dstate{}
	for d := range m.dead.next {
		m.dead.next[d].Store(m.dead)
	}
	m.states[string(make([]byte, 4))] = m.dead // no thread, no match
	var threads []uint32
	var accept uint32
	for p, prog := range m.progs {
		threads, accept = m.closure(threads, accept, p, uint32(prog.Start))
	}
	m.start = m.intern(threads, accept)
	return m, true
}

// closure adds to threads the consuming instructions reachable from pc
// without reading a digit, and to accept the pattern if a match is.
func (m *machine) closure(threads []uint32, accept uint32, p int, pc uint32) ([]uint32, uint32) {
	prog := m.progs[p]
	stack := []uint32{pc}
	seen := map[uint32]bool{}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstMatch:
			accept |= 1 << p
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			t := uint32(p)<<24 | pc
			if !slices.Contains(threads, t) {
				threads = append(threads, t)
			}
		case syntax.InstFail:
		}
	}
	return threads, accept
}

// intern returns the state for a thread set, creating it (m.mu held, or
// during construction).
func (m *machine) intern(threads []uint32, accept uint32) *dstate {
	slices.Sort(threads)
	key := make([]byte, 0, 4+4*len(threads))
	key = binary.LittleEndian.AppendUint32(key, accept)
	for _, t := range threads {
		key = binary.LittleEndian.AppendUint32(key, t)
	}
	if s, ok := m.states[string(key)]; ok {
		return s
	}
	if len(m.states) >= maxStates {
		m.full = true
		return nil
	}
	s := &dstate{threads: threads, accept: accept}
	m.states[string(key)] = s
	return s
}

// step returns the state after reading digit d from s, nil if the machine is
// full.
func (m *machine) step(s *dstate, d int) *dstate {
	if n := s.next[d].Load(); n != nil {
		return n
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := s.next[d].Load(); n != nil {
		return n
	}
	if m.full {
		return nil
	}
	var threads []uint32
	var accept uint32
	r := rune('0' + d)
	for _, t := range s.threads {
		p, pc := int(t>>24), t&0xffffff
		in := &m.progs[p].Inst[pc]
		if in.MatchRune(r) {
			threads, accept = m.closure(threads, accept, p, in.Out)
		}
	}
	n := m.intern(threads, accept)
	if n != nil {
		s.next[d].Store(n)
	}
	return n
}

// match returns the set of patterns (bit p for pattern p) that match all of
// digits; ok is false if digits holds a non-digit or the machine is full.
func (m *machine) match(digits string) (mask uint32, ok bool) {
	s := m.start
	for i := 0; i < len(digits); i++ {
		d := int(digits[i]) - '0'
		if d < 0 || d > 9 {
			return 0, false
		}
		if s = m.step(s, d); s == nil {
			return 0, false
		}
		if s == m.dead {
			return 0, true
		}
	}
	return s.accept, true
}

// matchPrefix reports whether some pattern matches a prefix of digits (as a
// regexp anchored only at the start would); ok as for match.
func (m *machine) matchPrefix(digits string) (found, ok bool) {
	s := m.start
	for i := 0; ; i++ {
		if s.accept != 0 {
			return true, true
		}
		if i == len(digits) || s == m.dead {
			return false, true
		}
		d := int(digits[i]) - '0'
		if d < 0 || d > 9 {
			return false, false
		}
		if s = m.step(s, d); s == nil {
			return false, false
		}
	}
}
