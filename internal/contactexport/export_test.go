package contactexport

// Test hooks (compiled into tests only).
func SetPageRows(n int) func() { old := pageRows; pageRows = n; return func() { pageRows = old } }

func SetAfterPage(fn func(int) error) func() { afterPage = fn; return func() { afterPage = nil } }
