package criteria

import "envoi/internal/database"

// SetExistsStyle switches a dialect's subqueries to correlated EXISTS
// (true) or uncorrelated IN (false), for BenchmarkCount; it returns a
// function restoring the previous style.
func SetExistsStyle(d database.Dialect, exists bool) func() {
	old := styles[d]
	if exists {
		styles[d] = styleExists
	} else {
		styles[d] = styleIn
	}
	return func() { styles[d] = old }
}
