package database

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// Querier runs SQL written with $n placeholders, inside or outside a
// transaction. Store functions take one as their first argument after ctx.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *Row
	// Prepare compiles a statement once for many executions (bulk
	// imports); close it when done.
	Prepare(ctx context.Context, query string) (*Stmt, error)
	Dialect() Dialect
}

type executor interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

type querier struct {
	ex      executor
	dialect Dialect
	conn    *sql.Conn // the transaction's connection on PostgreSQL (COPY), else nil
}

func (q querier) Dialect() Dialect { return q.dialect }

func (q querier) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := q.ex.ExecContext(ctx, q.rewrite(query), args...)
	return res, mapError(err)
}

func (q querier) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := q.ex.QueryContext(ctx, q.rewrite(query), args...)
	return rows, mapError(err)
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{row: q.ex.QueryRowContext(ctx, q.rewrite(query), args...)}
}

func (q querier) Prepare(ctx context.Context, query string) (*Stmt, error) {
	st, err := q.ex.PrepareContext(ctx, q.rewrite(query))
	if err != nil {
		return nil, mapError(err)
	}
	return &Stmt{st: st}, nil
}

// Stmt is a prepared statement with driver errors mapped to faults.
type Stmt struct{ st *sql.Stmt }

// Exec runs the statement with args.
func (s *Stmt) Exec(ctx context.Context, args ...any) (sql.Result, error) {
	res, err := s.st.ExecContext(ctx, args...)
	return res, mapError(err)
}

// QueryRow runs the statement for one row.
func (s *Stmt) QueryRow(ctx context.Context, args ...any) *Row {
	return &Row{row: s.st.QueryRowContext(ctx, args...)}
}

// Close releases the statement.
func (s *Stmt) Close() error { return s.st.Close() }

func (q querier) rewrite(query string) string {
	if q.dialect != SQLite {
		return query
	}
	return rewritePlaceholders(query)
}

// Row is sql.Row with driver errors mapped to faults. sql.ErrNoRows passes
// through unchanged so callers can turn it into their own NotFound.
type Row struct{ row *sql.Row }

// Scan copies the row's columns into dest.
func (r *Row) Scan(dest ...any) error { return mapError(r.row.Scan(dest...)) }

var rewritten sync.Map // query text → SQLite text

// rewritePlaceholders turns $1 into ?1 outside string literals and quoted
// identifiers. Results are cached: store code uses constant statements.
func rewritePlaceholders(query string) string {
	if v, ok := rewritten.Load(query); ok {
		return v.(string)
	}
	if !strings.Contains(query, "$") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			b.WriteByte(c)
		case c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('?')
			b.WriteString(query[i+1 : j])
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	rewritten.Store(query, out)
	return out
}
