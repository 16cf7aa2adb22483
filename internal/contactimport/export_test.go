package contactimport

// Test hooks (compiled into tests only).
func SetBatchRows(n int) func() { old := batchRows; batchRows = n; return func() { batchRows = old } }

func SetAfterBatch(fn func(int) error) func() { afterBatch = fn; return func() { afterBatch = nil } }
