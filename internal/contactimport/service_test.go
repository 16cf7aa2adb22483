package contactimport_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/contactimport"
	"envoi/internal/database"
	"envoi/internal/dbtest"
	"envoi/internal/fault"
	"envoi/internal/history"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// draft uploads a small file as a draft import.
func (f *fixture) draft(t *testing.T, svc *contactimport.Service, name string) contactimport.Import {
	t.Helper()
	imp, _, err := svc.Upload(context.Background(), f.by, name, strings.NewReader("email\n"+name+"@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

// started uploads and starts an import (no worker runs it).
func (f *fixture) started(t *testing.T, svc *contactimport.Service, name string) contactimport.Import {
	t.Helper()
	imp := f.draft(t, svc, name)
	if _, err := svc.Start(context.Background(), f.by, imp.ID, map[string]string{"email": "email"}, contact.ModeUpsert, 0); err != nil {
		t.Fatal(err)
	}
	return imp
}

// failJob makes the import's job give up, as a job out of attempts does.
func (f *fixture) failJob(t *testing.T, id int64) {
	t.Helper()
	if _, err := f.db.Write().Exec(context.Background(), `UPDATE jobs SET state = 'failed', last_error = 'boom'
		WHERE id = (SELECT job_id FROM imports WHERE account_id = $1 AND id = $2)`, f.by.AccountID, id); err != nil {
		t.Fatal(err)
	}
}

// stored counts what an import keeps in the database: file chunks and line
// errors.
func (f *fixture) stored(t *testing.T, id int64) (chunks, errs int) {
	t.Helper()
	ctx, q := context.Background(), f.db.Read()
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM import_chunks WHERE account_id = $1 AND import_id = $2`, f.by.AccountID, id).Scan(&chunks); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM import_errors WHERE account_id = $1 AND import_id = $2`, f.by.AccountID, id).Scan(&errs); err != nil {
		t.Fatal(err)
	}
	return chunks, errs
}

// otherAccount is the owner of a second account.
func otherAccount(t *testing.T, db *database.DB) rights.Actor {
	t.Helper()
	ctx := context.Background()
	acc, u, err := (&account.Service{DB: db, Now: time.Now}).Create(ctx, account.New{Name: "Other", Admin: user.New{Email: "other@example.com", Password: "other password 1"}})
	if err != nil {
		t.Fatal(err)
	}
	by, err := account.ActorFor(ctx, db.Read(), acc.ID, u, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return by
}

func TestListPagesNewestFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var want []int64
		for i := range 5 {
			want = append(want, f.draft(t, f.imports, fmt.Sprintf("file%d", i)).ID)
		}
		slices.Reverse(want)
		var got []int64
		var before int64
		pages := 0
		for {
			page, err := f.imports.List(ctx, f.by, before, 2)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, imp := range page.Imports {
				got = append(got, imp.ID)
				if imp.State != "draft" || imp.FileName == "" || imp.Size == 0 || len(imp.Header) != 1 {
					t.Errorf("listed import: %+v", imp)
				}
			}
			if page.Next == 0 || pages > 5 {
				break
			}
			before = page.Next
		}
		if !slices.Equal(got, want) || pages != 3 {
			t.Errorf("pages of 2: %v in %d pages, want %v in 3", got, pages, want)
		}
		// A page that ends exactly at the last import says so.
		page, err := f.imports.List(ctx, f.by, 0, 5)
		if err != nil || len(page.Imports) != 5 || page.Next != 0 {
			t.Errorf("a page of all 5: %d imports, next %d, %v", len(page.Imports), page.Next, err)
		}
		page, err = f.imports.List(ctx, otherAccount(t, db), 0, 50)
		if err != nil || len(page.Imports) != 0 {
			t.Errorf("another account lists %d imports (%v)", len(page.Imports), err)
		}
		if _, err := f.imports.List(ctx, rights.Actor{AccountID: f.by.AccountID}, 0, 50); !fault.Is(err, fault.Forbidden) {
			t.Errorf("listing without the contacts right: %v", err)
		}
	})
}

func TestDiscard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		guest := f.by
		guest.Owner, guest.Rights = false, rights.Set{rights.Contacts: rights.Guest}
		editor := f.by
		editor.Owner, editor.Rights = false, rights.Set{rights.Contacts: rights.Editor}
		tests := []struct {
			name  string
			make  func() int64
			by    rights.Actor
			kind  fault.Kind // 0: discarded
			key   string
			state string // the state history records
		}{
			{name: "draft", make: func() int64 { return f.draft(t, f.imports, "draft").ID }, by: editor, state: "draft"},
			{name: "failed", make: func() int64 {
				imp := f.started(t, f.imports, "failed")
				f.failJob(t, imp.ID)
				// Line errors a first attempt stored go with it.
				if _, err := db.Write().Exec(ctx, `INSERT INTO import_errors (account_id, import_id, line, col, reason) VALUES ($1, $2, 2, 'email', 'bad')`,
					f.by.AccountID, imp.ID); err != nil {
					t.Fatal(err)
				}
				return imp.ID
			}, by: editor, state: "failed"},
			{name: "queued", make: func() int64 { return f.started(t, f.imports, "queued").ID }, by: f.by, kind: fault.Rule, key: "imports.discard_running"},
			{name: "running", make: func() int64 {
				imp := f.started(t, f.imports, "running")
				if _, err := db.Write().Exec(ctx, `UPDATE imports SET state = 'running' WHERE account_id = $1 AND id = $2`, f.by.AccountID, imp.ID); err != nil {
					t.Fatal(err)
				}
				return imp.ID
			}, by: f.by, kind: fault.Rule, key: "imports.discard_running"},
			{name: "done", make: func() int64 {
				imp := f.started(t, f.imports, "done")
				f.run(t, imp.ID)
				return imp.ID
			}, by: f.by, kind: fault.Rule, key: "imports.discard_done"},
			{name: "a guest", make: func() int64 { return f.draft(t, f.imports, "guest").ID }, by: guest, kind: fault.Forbidden},
			{name: "another account", make: func() int64 { return f.draft(t, f.imports, "foreign").ID }, by: otherAccount(t, db), kind: fault.NotFound},
		}
		neighbour := f.draft(t, f.imports, "neighbour")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := tt.make()
				chunksBefore, _ := f.stored(t, id)
				err := f.imports.Discard(ctx, tt.by, id)
				if tt.kind != 0 {
					fe, _ := fault.As(err)
					if !fault.Is(err, tt.kind) || (tt.key != "" && (fe == nil || fe.Key != tt.key)) {
						t.Fatalf("discard: %v, want %s %s", err, tt.kind, tt.key)
					}
					if _, err := f.imports.Get(ctx, f.by, id); err != nil {
						t.Errorf("a refused discard removed the import: %v", err)
					}
					if chunks, _ := f.stored(t, id); chunks != chunksBefore {
						t.Errorf("a refused discard removed the file: %d chunks, had %d", chunks, chunksBefore)
					}
					return
				}
				if err != nil {
					t.Fatalf("discard: %v", err)
				}
				if _, err := f.imports.Get(ctx, f.by, id); !fault.Is(err, fault.NotFound) {
					t.Errorf("discarded import still readable: %v", err)
				}
				if chunks, errs := f.stored(t, id); chunks != 0 || errs != 0 {
					t.Errorf("discarded import keeps %d chunks and %d errors", chunks, errs)
				}
				entries, _, err := history.List(ctx, db.Read(), f.by.AccountID, history.Filter{ObjectType: "import", ObjectID: id})
				if err != nil || len(entries) == 0 || entries[0].Action != "contact.import.discard" || entries[0].Object.Label != tt.name ||
					len(entries[0].Changes) != 1 || entries[0].Changes[0].Before != tt.state {
					t.Errorf("history: %+v (%v)", entries, err)
				}
				if err := f.imports.Discard(ctx, tt.by, id); !fault.Is(err, fault.NotFound) {
					t.Errorf("discarding twice: %v", err)
				}
			})
		}
		if chunks, _ := f.stored(t, neighbour.ID); chunks == 0 {
			t.Error("discarding an import removed another one's file")
		}
	})
}

func TestCleanupDeletesAbandonedDrafts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		now := time.Now()
		past := &contactimport.Service{DB: db, Now: func() time.Time { return now.Add(-contactimport.DraftRetention - time.Hour) }}
		oldDraft := f.draft(t, past, "old-draft")
		oldFailed := f.started(t, past, "old-failed")
		f.failJob(t, oldFailed.ID)
		oldQueued := f.started(t, past, "old-queued")
		recentDraft := f.draft(t, f.imports, "recent-draft")
		recentFailed := f.started(t, f.imports, "recent-failed")
		f.failJob(t, recentFailed.ID)

		if err := f.imports.Cleanup(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.imports.Get(ctx, f.by, oldDraft.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("a draft older than %v survived: %v", contactimport.DraftRetention, err)
		}
		if chunks, _ := f.stored(t, oldDraft.ID); chunks != 0 {
			t.Errorf("the old draft's file survived: %d chunks", chunks)
		}
		// A failed import keeps its report, not its file.
		if imp, err := f.imports.Get(ctx, f.by, oldFailed.ID); err != nil || imp.State != "failed" {
			t.Errorf("old failed import: %+v %v", imp, err)
		}
		if chunks, _ := f.stored(t, oldFailed.ID); chunks != 0 {
			t.Errorf("the old failed import's file survived: %d chunks", chunks)
		}
		for _, imp := range []contactimport.Import{oldQueued, recentDraft, recentFailed} {
			if _, err := f.imports.Get(ctx, f.by, imp.ID); err != nil {
				t.Errorf("%s was removed: %v", imp.FileName, err)
			}
			if chunks, _ := f.stored(t, imp.ID); chunks == 0 {
				t.Errorf("%s lost its file", imp.FileName)
			}
		}
	})
}
