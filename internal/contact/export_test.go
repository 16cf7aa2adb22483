package contact

// Test hooks: the size below which sets are read whole (0 makes every
// search and filter walk the order's index), and the COLLATE "C" path of
// PostgreSQL databases whose columns do not compare in code point order.

// SetSmallSet changes smallSet and returns a function that restores it.
func SetSmallSet(n int) (restore func()) {
	old := smallSet
	smallSet = n
	return func() { smallSet = old }
}

// ForceCollateC turns the COLLATE "C" path on or off.
func ForceCollateC(on bool) { forceCollateC = on }
