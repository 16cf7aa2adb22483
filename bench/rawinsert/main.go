// Command rawinsert measures how fast modernc SQLite can insert contacts
// into variants of the contacts schema, with no envoi code in the way: the
// ceiling the import job works against (bench/RESULTS.md).
//
//	go run ./bench/rawinsert -v rowid-wr-partial -n 400000 -batch 25000 -cache 262144
//
// -v combines words: rowid (contacts keyed by an INTEGER PRIMARY KEY),
// wr (contact_values WITHOUT ROWID), partial (partial value indexes),
// noidx (no secondary contact index), few (the unique index only), noemail
// (no email index), novals (no custom values), seq (keys in ascending
// order instead of random), json (rows through json_each instead of one
// prepared INSERT per row). PS sets the page size, PROF a CPU profile file.
package main

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

func main() {
	variant := flag.String("v", "base", "")
	n := flag.Int("n", 200000, "")
	per := flag.Int("per", 1, "rows per INSERT")
	cache := flag.Int("cache", 2000, "cache KiB")
	batchF := flag.Int("batch", 20000, "")
	flag.Parse()
	if f := os.Getenv("PROF"); f != "" {
		pf, _ := os.Create(f)
		pprof.StartCPUProfile(pf)
		defer pprof.StopCPUProfile()
	}
	path := "/tmp/raw.db"
	os.Remove(path)
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	db, _ := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-"+fmt.Sprint(*cache)+")&_pragma=page_size("+pageSize()+")")
	db.SetMaxOpenConns(1)
	pk := "PRIMARY KEY (account_id, id)"
	idcol := "id BIGINT NOT NULL"
	if strings.Contains(*variant, "rowid") {
		pk = "UNIQUE (account_id, id)"
		idcol = "id INTEGER PRIMARY KEY"
		pk = ""
	}
	cols := `account_id BIGINT NOT NULL, ` + idcol + `, email TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '', civility TEXT NOT NULL DEFAULT '', first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL DEFAULT '', birth_date TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '', postal_code TEXT NOT NULL DEFAULT '', city TEXT NOT NULL DEFAULT '', country TEXT NOT NULL DEFAULT '', company TEXT NOT NULL DEFAULT '', job TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT '', email_status TEXT NOT NULL DEFAULT 'valid', sms_status TEXT NOT NULL DEFAULT 'valid', consent_source TEXT NOT NULL DEFAULT '', consent_at BIGINT, unique_value TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, updated_by BIGINT, version BIGINT NOT NULL DEFAULT 1`
	if pk != "" {
		cols += ", " + pk
	}
	must(db.Exec(`CREATE TABLE contacts (` + cols + `)`))
	idx := []string{
		`CREATE UNIQUE INDEX contacts_unique ON contacts (account_id, unique_value) WHERE unique_value IS NOT NULL`,
		`CREATE INDEX contacts_email ON contacts (account_id, email)`,
		`CREATE INDEX contacts_phone ON contacts (account_id, phone)`,
		`CREATE INDEX contacts_name ON contacts (account_id, last_name, first_name)`,
	}
	if strings.Contains(*variant, "noidx") {
		idx = nil
	}
	if strings.Contains(*variant, "noemail") {
		idx = []string{idx[0], idx[2], idx[3]}
	}
	if strings.Contains(*variant, "few") {
		idx = idx[:1]
	}
	for _, s := range idx {
		must(db.Exec(s))
	}
	vt := `CREATE TABLE contact_values (account_id BIGINT NOT NULL, field_id BIGINT NOT NULL, contact_id BIGINT NOT NULL, text_value TEXT, num_value BIGINT, PRIMARY KEY (account_id, field_id, contact_id))`
	if strings.Contains(*variant, "wr") {
		vt += " WITHOUT ROWID"
	}
	must(db.Exec(vt))
	if strings.Contains(*variant, "partial") {
		must(db.Exec(`CREATE INDEX contact_values_num ON contact_values (account_id, field_id, num_value) WHERE num_value IS NOT NULL`))
		must(db.Exec(`CREATE INDEX contact_values_text ON contact_values (account_id, field_id, text_value) WHERE text_value IS NOT NULL`))
	} else if !strings.Contains(*variant, "novals") {
		must(db.Exec(`CREATE INDEX contact_values_num ON contact_values (account_id, field_id, num_value)`))
		must(db.Exec(`CREATE INDEX contact_values_text ON contact_values (account_id, field_id, text_value)`))
		must(db.Exec(`CREATE INDEX contact_values_contact ON contact_values (account_id, contact_id)`))
	}
	seq := strings.Contains(*variant, "seq")
	vals := !strings.Contains(*variant, "novals")
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	id := 0
	batch := *batchF
	one := "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	for done := 0; done < *n; done += batch {
		tx, _ := db.Begin()
		ins, err := tx.Prepare(`INSERT INTO contacts (account_id, id, email, phone, civility, first_name, last_name, birth_date, address, postal_code, city, country, company, job, language, email_status, sms_status, consent_source, consent_at, unique_value, created_at, updated_at) VALUES ` + strings.TrimSuffix(strings.Repeat(one+",", *per), ","))
		if err != nil {
			panic(err)
		}
		vone := "(?,?,?,?,?)"
		vins, err := tx.Prepare(`INSERT INTO contact_values (account_id, field_id, contact_id, text_value, num_value) VALUES ` + strings.TrimSuffix(strings.Repeat(vone+",", *per), ","))
		if err != nil {
			panic(err)
		}
		if strings.Contains(*variant, "json") {
			jins, err := tx.Prepare(`INSERT INTO contacts (account_id, id, email, phone, civility, first_name, last_name, birth_date, address, postal_code, city, country, company, job, language, email_status, sms_status, consent_source, consent_at, unique_value, created_at, updated_at)
			SELECT 1, j.value->>0, j.value->>1, j.value->>2, '', j.value->>3, j.value->>4, j.value->>5, '', j.value->>6, j.value->>7, '', j.value->>8, '', '', 'valid', 'valid', 'import', 1, j.value->>1, 1, 1 FROM json_each(?) j`)
			if err != nil {
				panic(err)
			}
			var buf []byte
			for i := 0; i < batch; i++ {
				id++
				email := fmt.Sprintf("jean.martin%d.%d@example.fr", r.IntN(1000000), id)
				row := []any{id, email, fmt.Sprintf("+336%08d", r.IntN(100000000)), "Jean", fmt.Sprintf("Martin%d", r.IntN(5000)), "1980-01-02", fmt.Sprintf("%05d", r.IntN(95000)), "Lyon", "Société 12"}
				b, _ := json.Marshal(row)
				if len(buf) == 0 {
					buf = append(buf, '[')
				} else {
					buf = append(buf, ',')
				}
				buf = append(buf, b...)
				if (i+1)%1000 == 0 {
					buf = append(buf, ']')
					if _, err := jins.Exec(string(buf)); err != nil {
						panic(err)
					}
					buf = buf[:0]
				}
			}
			if err := tx.Commit(); err != nil {
				panic(err)
			}
			continue
		}
		args := make([]any, 0, 22**per)
		vargs := make([]any, 0, 5**per)
		for i := 0; i < batch; i++ {
			id++
			email := fmt.Sprintf("jean.martin%d.%d@example.fr", r.IntN(1000000), id)
			phone := fmt.Sprintf("+336%08d", r.IntN(100000000))
			last := fmt.Sprintf("Martin%d", r.IntN(5000))
			if seq {
				email = fmt.Sprintf("jean.martin%09d@example.fr", id)
				phone = fmt.Sprintf("+336%08d", id)
				last = fmt.Sprintf("Martin%09d", id)
			}
			args = append(args, 1, id, email, phone, "", "Jean", last, "1980-01-02", "", fmt.Sprintf("%05d", r.IntN(95000)), "Lyon", "", "Société 12", "", "", "valid", "valid", "import", 1, email, 1, 1)
			vargs = append(vargs, 1, 7, id, "client fidèle", nil)
			if len(args) == cap(args) {
				_, err := ins.Exec(args...)
				if err != nil {
					panic(err)
				}
				args = args[:0]
				if vals {
					if _, err := vins.Exec(vargs...); err != nil {
						panic(err)
					}
				}
				vargs = vargs[:0]
			}
		}
		if err := tx.Commit(); err != nil {
			panic(err)
		}
	}
	el := time.Since(start)
	fmt.Printf("batch=%d %s per=%d cache=%d: %d rows in %v = %.0f rows/s\n", *batchF, *variant, *per, *cache, *n, el.Round(time.Millisecond), float64(*n)/el.Seconds())
}

func must(_ sql.Result, err error) {
	if err != nil {
		panic(err)
	}
}

func pageSize() string {
	if ps := os.Getenv("PS"); ps != "" {
		return ps
	}
	return "4096"
}
