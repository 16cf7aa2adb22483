// Command import measures contact imports (SPEC §4.4, issue 4 performance):
// a CSV of realistic French contacts, 10 columns, imported through the real
// service and its durable job, first creating every contact, then again in
// create-or-update mode over the same rows.
//
// It writes the file to a temporary directory (or reads -file), builds envoi
// in this process with app.New (a fresh SQLite database in the temporary
// directory, or -db for an empty PostgreSQL database), creates an account
// with a custom number field, and runs the app's job worker. For each mode
// it times the upload (the file is stored in the database for the job) and
// the import itself, from Start until the job is done, and prints rows/s,
// the counts of the report, and memory: the process's peak RSS during the
// phase (VmHWM, reset before each phase through /proc/self/clear_refs) and
// the largest RSS sampled while the job ran.
//
//	go run ./bench/import                          # 1,000,000 rows, SQLite
//	go run ./bench/import -rows 200000 -db postgres://…/empty_db
//	go run ./bench/import -rows 100000 -cpuprofile /tmp/import   # /tmp/import-create.pprof, …-upsert.pprof
//	go run ./bench/import -generate /tmp/contacts.csv -rows 1000000   # only write the file
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"envoi/internal/account"
	"envoi/internal/app"
	"envoi/internal/config"
	"envoi/internal/contact"
	"envoi/internal/contactimport"
	"envoi/internal/rights"
	"envoi/internal/user"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows to generate")
	file := flag.String("file", "", "import this CSV instead of generating one (10 columns as the generator writes them)")
	generate := flag.String("generate", "", "only write the generated CSV to this path, then exit")
	dbURL := flag.String("db", "", "PostgreSQL URL of an empty database (default: SQLite in a temporary directory)")
	modes := flag.String("modes", "create,upsert", "import modes to run one after the other on the same file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of each import to PREFIX-MODE.pprof")
	timeout := flag.Duration("timeout", 60*time.Minute, "give up after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var err error
	if *generate != "" {
		var n int64
		start := time.Now()
		if n, err = writeFile(*generate, *rows); err == nil {
			fmt.Printf("wrote %s: %d rows, %.1f MB in %v\n", *generate, *rows, float64(n)/1e6, time.Since(start).Round(time.Millisecond))
		}
	} else {
		err = run(ctx, *rows, *file, *dbURL, strings.Split(*modes, ","), *cpuprofile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "import:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, rows int, file, dbURL string, modes []string, cpuprofile string) error {
	dir, err := os.MkdirTemp("", "envoi-bench-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if file == "" {
		file = filepath.Join(dir, "contacts.csv")
		start := time.Now()
		n, err := writeFile(file, rows)
		if err != nil {
			return err
		}
		fmt.Printf("generated %d rows (10 columns, %.1f MB) in %v\n", rows, float64(n)/1e6, time.Since(start).Round(time.Millisecond))
	}

	args := []string{"--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"}
	if dbURL != "" {
		args = append(args, "--db", dbURL)
	}
	cfg, _, err := config.Load(args, func(string) string { return "" })
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Printf("database: %s, Go %s, %d CPUs, GOMAXPROCS %d\n", a.DB.Dialect(), runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))

	acc, admin, err := a.Accounts.Create(ctx, account.New{Name: "Bench", Language: "fr",
		Admin: user.New{Email: "admin@example.com", Password: app.GeneratePassword(), FirstName: "Alice"}})
	if err != nil {
		return err
	}
	by, err := account.ActorFor(ctx, a.DB.Read(), acc.ID, admin, 0, nil)
	if err != nil {
		return err
	}
	points, err := a.Contacts.CreateField(ctx, by, contact.Field{Key: "points", Label: "Points", Type: contact.Number})
	if err != nil {
		return err
	}

	// The app's worker, with the import handler the app registers.
	workCtx, stopWork := context.WithCancel(ctx)
	worked := make(chan error, 1)
	go func() { worked <- a.Jobs.Run(workCtx) }()
	defer func() { stopWork(); <-worked }()

	for _, m := range modes {
		mode, err := contact.ParseImportMode(strings.TrimSpace(m))
		if err != nil {
			return err
		}
		if err := importOnce(ctx, a, by, file, mode, []contact.Field{points}, cpuprofile); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
	}
	var n int64
	if err := a.DB.Read().QueryRow(ctx, `SELECT COUNT(*) FROM contacts WHERE account_id = $1`, int64(acc.ID)).Scan(&n); err != nil {
		return err
	}
	fmt.Printf("contacts in the base: %d\n", n)
	return nil
}

// importOnce uploads the file and imports it in mode, printing the figures.
func importOnce(ctx context.Context, a *app.App, by rights.Actor, file string, mode contact.ImportMode, fields []contact.Field, cpuprofile string) error {
	resetPeak()
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	imp, pv, err := a.Imports.Upload(ctx, by, filepath.Base(file), f)
	if err != nil {
		return err
	}
	upload := time.Since(start)
	mapping := contactimport.SuggestMapping(pv.Header, fields)
	for col, field := range mapping {
		if field == "" {
			return fmt.Errorf("no field suggested for column %q", col)
		}
	}
	uploadPeak := peakRSS()

	resetPeak()
	if cpuprofile != "" {
		out, err := os.Create(cpuprofile + "-" + string(mode) + ".pprof")
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start = time.Now()
	if _, err := a.Imports.Start(ctx, by, imp.ID, mapping, mode, 0); err != nil {
		return err
	}
	var maxRSS int64
	var samples []string
	nextSample := 0.1
	for {
		got, err := a.Imports.Get(ctx, by, imp.ID)
		if err != nil {
			return err
		}
		rss := currentRSS()
		maxRSS = max(maxRSS, rss)
		if got.Progress >= nextSample && got.State == "running" {
			samples = append(samples, fmt.Sprintf("%.0f%%:%dMB", got.Progress*100, rss>>20))
			for nextSample <= got.Progress {
				nextSample += 0.2
			}
		}
		if got.State == "failed" {
			return fmt.Errorf("the import failed: %s", got.LastError)
		}
		if got.State == "done" {
			elapsed := time.Since(start)
			pprof.StopCPUProfile()
			fmt.Printf("%-6s rows %d: created %d, updated %d, skipped %d, rejected %d, match rate %.1f%% | upload %v (%.1f MB stored), import %v = %.0f rows/s | peak RSS upload %d MB, import %d MB (sampled max %d MB; %s)\n",
				mode, got.Rows, got.Created, got.Updated, got.Skipped, got.Rejected, got.MatchRate*100,
				upload.Round(time.Millisecond), float64(got.Size)/1e6, elapsed.Round(time.Millisecond), float64(got.Rows)/elapsed.Seconds(),
				uploadPeak>>20, peakRSS()>>20, maxRSS>>20, strings.Join(samples, " "))
			if got.ErrorCount > 0 {
				fmt.Printf("       first errors: %+v\n", got.Errors[:min(3, len(got.Errors))])
			}
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ---- Memory ----------------------------------------------------------------

// resetPeak resets the process's peak RSS (VmHWM), Linux only.
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes; currentRSS VmRSS (0 when unknown).
func peakRSS() int64    { return procStatus("VmHWM:") }
func currentRSS() int64 { return procStatus("VmRSS:") }

func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// ---- The generator ---------------------------------------------------------

// writeFile writes n realistic French contacts as a CSV of 10 columns, the
// way Excel saves one in France (`;`, CRLF), UTF-8. Every email and phone
// is unique, so a first import creates every row.
func writeFile(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	g := newGenerator(1)
	w.WriteString("Civilité;Prénom;Nom;Email;Téléphone;Date de naissance;Adresse;Code postal;Ville;Points\r\n")
	var line []byte
	for i := range n {
		line = g.row(line[:0], i)
		w.Write(line)
	}
	err = errors.Join(w.Flush(), f.Sync())
	st, serr := f.Stat()
	err = errors.Join(err, serr, f.Close())
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// generator makes rows from a small deterministic random source.
type generator struct{ state uint64 }

func newGenerator(seed uint64) *generator { return &generator{state: seed*0x9E3779B97F4A7C15 + 1} }

// next is splitmix64.
func (g *generator) next() uint64 {
	g.state += 0x9E3779B97F4A7C15
	z := g.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (g *generator) pick(list []string) string { return list[g.next()%uint64(len(list))] }

var (
	women = []string{"Marie", "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Laura", "Élodie", "Céline",
		"Sophie", "Nathalie", "Isabelle", "Sylvie", "Anne", "Hélène", "Zoé", "Océane", "Clémence", "Maëlle", "Agnès", "Françoise"}
	men = []string{"Jean", "Pierre", "Nicolas", "Thomas", "Julien", "Antoine", "Lucas", "Hugo", "Louis", "Mathieu", "Sébastien",
		"François", "Stéphane", "Éric", "Jérôme", "Benoît", "Gaël", "Théo", "Noé", "Loïc", "Cédric", "Hervé", "Yannick", "Raphaël"}
	lastNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
		"Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André",
		"Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
		"Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont",
		"Lopez", "Fontaine", "Chevalier", "Robin", "Le Goff", "Le Gall", "Kervella", "Héraud", "Bénard", "Lemaître", "Pérez"}
	places = [][2]string{{"75011", "Paris"}, {"75015", "Paris"}, {"69003", "Lyon"}, {"13008", "Marseille"}, {"31000", "Toulouse"},
		{"06000", "Nice"}, {"44000", "Nantes"}, {"67000", "Strasbourg"}, {"34000", "Montpellier"}, {"33000", "Bordeaux"},
		{"59000", "Lille"}, {"35000", "Rennes"}, {"51100", "Reims"}, {"42000", "Saint-Étienne"}, {"83000", "Toulon"},
		{"38000", "Grenoble"}, {"21000", "Dijon"}, {"49000", "Angers"}, {"30000", "Nîmes"}, {"63000", "Clermont-Ferrand"},
		{"25000", "Besançon"}, {"29200", "Brest"}, {"20000", "Ajaccio"}, {"97400", "Saint-Denis"}, {"87000", "Limoges"},
		{"37000", "Tours"}, {"80000", "Amiens"}, {"57000", "Metz"}, {"64000", "Pau"}, {"74000", "Annecy"}}
	streets = []string{"rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta", "place de l’Église",
		"rue Pasteur", "allée des Tilleuls", "chemin des Vignes", "rue du Général de Gaulle", "impasse des Lilas", "quai Voltaire"}
	domains = []string{"gmail.com", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "hotmail.fr", "wanadoo.fr", "yahoo.fr", "outlook.fr", "example.com"}
)

// mobileBlocks are the second digits of valid French mobile numbers 06 X…
// (063 and 069 are partly unallocated).
var mobileBlocks = []uint64{0, 1, 2, 4, 5, 6, 7, 8}

// asciiLower makes the local part of an email from a name: "Élodie" → "elodie".
var asciiLower = strings.NewReplacer("é", "e", "è", "e", "ê", "e", "ë", "e", "à", "a", "â", "a", "ç", "c", "î", "i", "ï", "i",
	"ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "É", "e", "Œ", "oe", "œ", "oe", " ", "", "'", "")

// row appends row i (0-based) to b.
func (g *generator) row(b []byte, i int) []byte {
	civility, first := "M.", g.pick(men)
	if g.next()%2 == 0 {
		civility, first = "Mme", g.pick(women)
	}
	last := g.pick(lastNames)
	place := places[g.next()%uint64(len(places))]
	// Unique email and phone per row: the row number in the email, and a
	// permutation of the row number modulo 8·10^7 in the mobile number.
	local := strings.ToLower(asciiLower.Replace(first) + "." + asciiLower.Replace(last))
	idx := (uint64(i)*104_729 + 12_345_678) % 80_000_000
	mobile := 600_000_000 + mobileBlocks[idx/10_000_000]*10_000_000 + idx%10_000_000
	birth := time.Date(1940+int(g.next()%66), time.Month(1+g.next()%12), 1+int(g.next()%28), 0, 0, 0, 0, time.UTC)
	b = append(b, civility...)
	b = append(b, ';')
	b = append(b, first...)
	b = append(b, ';')
	b = append(b, last...)
	b = append(b, ';')
	b = append(b, local...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, '@')
	b = append(b, g.pick(domains)...)
	b = append(b, ";0"...)
	digits := strconv.FormatUint(mobile, 10) // 9 digits: 6xxxxxxxx
	b = append(b, digits[0])
	for k := 1; k < 9; k += 2 {
		b = append(b, ' ', digits[k], digits[k+1])
	}
	b = append(b, ';')
	b = birth.AppendFormat(b, "02/01/2006")
	b = append(b, ';')
	b = strconv.AppendInt(b, int64(1+g.next()%180), 10)
	b = append(b, ' ')
	b = append(b, g.pick(streets)...)
	b = append(b, ';')
	b = append(b, place[0]...)
	b = append(b, ';')
	b = append(b, place[1]...)
	b = append(b, ';')
	pts := g.next() % 10000
	b = strconv.AppendUint(b, pts/10, 10)
	if pts%10 != 0 {
		b = append(b, ',')
		b = strconv.AppendUint(b, pts%10, 10)
	}
	return append(b, '\r', '\n')
}
