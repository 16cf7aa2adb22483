package database

import "testing"

func TestRewritePlaceholders(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = $1 AND b = $2", "SELECT * FROM t WHERE a = ?1 AND b = ?2"},
		{"SELECT '$1' , $10", "SELECT '$1' , ?10"},
		{`SELECT "a$1" FROM t WHERE x=$3`, `SELECT "a$1" FROM t WHERE x=?3`},
		{"SELECT 'it''s $2', $1", "SELECT 'it''s $2', ?1"},
		{"SELECT $ FROM t", "SELECT $ FROM t"},
	}
	for _, tt := range tests {
		if got := rewritePlaceholders(tt.in); got != tt.want {
			t.Errorf("rewrite(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRewritePlaceholders(f *testing.F) {
	f.Add("SELECT $1, '$2' FROM t WHERE a = $3")
	f.Fuzz(func(t *testing.T, q string) {
		out := rewritePlaceholders(q)
		if len(out) != len(q) {
			t.Fatalf("rewrite changed the length: %q → %q", q, out)
		}
	})
}
