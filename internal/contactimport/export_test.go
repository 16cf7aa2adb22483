package contactimport

import "envoi/internal/database"

// Test hooks (compiled into tests only).
func SetBatchRows(n int) func() {
	old := batchRows
	batchRows = map[database.Dialect]int{database.SQLite: n, database.Postgres: n}
	return func() { batchRows = old }
}

func SetAfterBatch(fn func(int) error) func() { afterBatch = fn; return func() { afterBatch = nil } }
