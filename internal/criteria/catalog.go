package criteria

import (
	"context"
	"encoding/json"
	"fmt"

	"envoi/internal/database"
)

// FieldLister is a Catalog that can list its fields (Describe uses it;
// the catalog of NewCatalog is one).
type FieldLister interface {
	Fields() []FieldInfo
}

// NewCatalog loads what an account has: the core and derived fields, its
// custom fields and its lists. Segments, personas and scores are looked up
// through seg when a tree refers to them (nil: none exist), with ctx and
// q, once per id. A lookup error makes the reference look absent and is
// returned by Validate, Compile, Count and Match (through Err).
func NewCatalog(ctx context.Context, q database.Querier, accountID int64, seg SegmentSource) (Catalog, error) {
	c := &dbCatalog{ctx: ctx, q: q, account: accountID, src: seg,
		fields: map[string]FieldInfo{}, lists: map[int64]bool{},
		segments: map[int64]*Node{}, personas: map[int64]*Node{}, scores: map[int64]bool{}}
	for _, f := range coreFields {
		c.fields[f.Key] = f.FieldInfo
		c.ordered = append(c.ordered, f.FieldInfo)
	}
	rows, err := q.Query(ctx, `SELECT id, key, label, type, choices FROM fields WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("criteria: load fields: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		f := FieldInfo{Kind: Custom}
		var choices string
		if err := rows.Scan(&f.ID, &f.Key, &f.Label, &f.Type, &choices); err != nil {
			return nil, fmt.Errorf("criteria: load fields: %w", err)
		}
		if err := json.Unmarshal([]byte(choices), &f.Choices); err != nil {
			return nil, fmt.Errorf("criteria: field %s choices: %w", f.Key, err)
		}
		if _, core := c.fields[f.Key]; core {
			continue // contact refuses core keys for custom fields
		}
		c.fields[f.Key] = f
		c.ordered = append(c.ordered, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("criteria: load fields: %w", err)
	}
	rows.Close()
	lrows, err := q.Query(ctx, `SELECT id FROM lists WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("criteria: load lists: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var id int64
		if err := lrows.Scan(&id); err != nil {
			return nil, fmt.Errorf("criteria: load lists: %w", err)
		}
		c.lists[id] = true
	}
	if err := lrows.Err(); err != nil {
		return nil, fmt.Errorf("criteria: load lists: %w", err)
	}
	return c, nil
}

type dbCatalog struct {
	ctx      context.Context
	q        database.Querier
	account  int64
	src      SegmentSource
	fields   map[string]FieldInfo
	ordered  []FieldInfo
	lists    map[int64]bool
	segments map[int64]*Node // nil value: looked up, absent
	personas map[int64]*Node
	scores   map[int64]bool
	err      error
}

func (c *dbCatalog) Field(key string) (FieldInfo, bool) {
	f, ok := c.fields[key]
	return f, ok
}

// Fields lists the core, derived and custom fields, in the builder's order.
func (c *dbCatalog) Fields() []FieldInfo { return c.ordered }

func (c *dbCatalog) ListExists(id int64) bool { return c.lists[id] }

func (c *dbCatalog) Segment(id int64) (Node, bool) {
	return c.lookup(c.segments, id, c.srcSegment)
}

func (c *dbCatalog) Persona(id int64) (Node, bool) {
	return c.lookup(c.personas, id, c.srcPersona)
}

func (c *dbCatalog) srcSegment(id int64) (Node, bool, error) {
	return c.src.Segment(c.ctx, c.q, c.account, id)
}

func (c *dbCatalog) srcPersona(id int64) (Node, bool, error) {
	return c.src.Persona(c.ctx, c.q, c.account, id)
}

func (c *dbCatalog) lookup(cache map[int64]*Node, id int64, get func(int64) (Node, bool, error)) (Node, bool) {
	if n, seen := cache[id]; seen {
		if n == nil {
			return Node{}, false
		}
		return *n, true
	}
	if c.src == nil {
		return Node{}, false
	}
	n, ok, err := get(id)
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return Node{}, false
	}
	if !ok {
		cache[id] = nil
		return Node{}, false
	}
	cache[id] = &n
	return n, true
}

func (c *dbCatalog) ScoreExists(id int64) bool {
	if ok, seen := c.scores[id]; seen {
		return ok
	}
	if c.src == nil {
		return false
	}
	ok, err := c.src.ScoreExists(c.ctx, c.q, c.account, id)
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		return false
	}
	c.scores[id] = ok
	return ok
}

// Err is the first lookup error met (a database failure), if any.
func (c *dbCatalog) Err() error { return c.err }

// WithSegment returns cat with segment id's criteria replaced by n: to
// check a segment before saving it, validate Node{Segment: id} against
// WithSegment(cat, id, n), which refuses a cycle through the new criteria.
func WithSegment(cat Catalog, id int64, n Node) Catalog {
	return override{Catalog: cat, kind: "segment", id: id, n: n}
}

// WithPersona is WithSegment for a persona.
func WithPersona(cat Catalog, id int64, n Node) Catalog {
	return override{Catalog: cat, kind: "persona", id: id, n: n}
}

type override struct {
	Catalog
	kind string
	id   int64
	n    Node
}

func (o override) Segment(id int64) (Node, bool) {
	if o.kind == "segment" && id == o.id {
		return o.n, true
	}
	return o.Catalog.Segment(id)
}

func (o override) Persona(id int64) (Node, bool) {
	if o.kind == "persona" && id == o.id {
		return o.n, true
	}
	return o.Catalog.Persona(id)
}

func (o override) Fields() []FieldInfo {
	if l, ok := o.Catalog.(FieldLister); ok {
		return l.Fields()
	}
	return CoreFields()
}

func (o override) Err() error {
	if e, ok := o.Catalog.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}
