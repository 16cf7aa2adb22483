//go:build race

package phone

// raceEnabled: the race detector slows the library's regular expressions
// twentyfold; single-goroutine equivalence tests sample instead.
const raceEnabled = true
