package contact_test

// A generator of realistic French contacts for the search benchmark
// (search_bench_test.go): names with accents and the capitalisations
// imports bring (Title, UPPER with or without accents, lower), contacts
// without names, emails derived from the names at the usual providers,
// mobile and landline phones, statuses, lists, creation and update times.
// Rows go in with multi-row INSERTs in large transactions, secondary indexes
// dropped during the load and built again after it, as a bulk load would.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"envoi/internal/account"
	"envoi/internal/contact"
	"envoi/internal/database"
	"envoi/internal/phone"
	"envoi/internal/rights"
	"envoi/internal/user"
)

// commonLastNames are frequent French last names with relative weights
// (Martin first, as in France, but about four times as frequent here: a
// pessimistic "common name").
var commonLastNames = []struct {
	name   string
	weight float64
}{
	{"Martin", 1}, {"Bernard", .55}, {"Thomas", .5}, {"Petit", .47}, {"Robert", .46}, {"Richard", .45}, {"Durand", .44},
	{"Dubois", .43}, {"Moreau", .42}, {"Laurent", .41}, {"Simon", .4}, {"Michel", .39}, {"Lefèvre", .38}, {"Leroy", .37},
	{"Roux", .36}, {"David", .35}, {"Bertrand", .34}, {"Morel", .33}, {"Fournier", .32}, {"Girard", .31}, {"Bonnet", .3},
	{"Dupont", .3}, {"Lambert", .29}, {"Fontaine", .29}, {"Rousseau", .28}, {"Vincent", .28}, {"Müller", .1}, {"Mercier", .27},
	{"Boyer", .26}, {"Blanc", .26}, {"Guérin", .25}, {"Faure", .25}, {"André", .25}, {"Chevalier", .24}, {"François", .24},
	{"Legrand", .24}, {"Gauthier", .23}, {"Garcia", .23}, {"Perrin", .23}, {"Robin", .22}, {"Clément", .22}, {"Morin", .22},
	{"Nicolas", .21}, {"Henry", .21}, {"Roussel", .21}, {"Mathieu", .21}, {"Gautier", .2}, {"Masson", .2}, {"Marchand", .2},
	{"Duval", .2}, {"Denis", .19}, {"Dumont", .19}, {"Marie", .19}, {"Lemaire", .19}, {"Noël", .19}, {"Meyer", .18},
	{"Dufour", .18}, {"Meunier", .18}, {"Brun", .18}, {"Blanchard", .18}, {"Giraud", .17}, {"Joly", .17}, {"Rivière", .17},
	{"Lucas", .17}, {"Brunet", .17}, {"Gaillard", .17}, {"Barbier", .16}, {"Arnaud", .16}, {"Martinez", .16}, {"Gérard", .16},
	{"Roche", .16}, {"Renard", .16}, {"Schmitt", .15}, {"Roy", .15}, {"Leroux", .15}, {"Colin", .15}, {"Vidal", .15},
	{"Caron", .15}, {"Picard", .15}, {"Roger", .14}, {"Fabre", .14}, {"Aubert", .14}, {"Lemoine", .14}, {"Renaud", .14},
	{"Dumas", .14}, {"Lacroix", .14}, {"Olivier", .13}, {"Philippe", .13}, {"Bourgeois", .13}, {"Pierre", .13}, {"Benoît", .13},
	{"Rey", .13}, {"Leclerc", .13}, {"Payet", .13}, {"Rolland", .12}, {"Leclercq", .12}, {"Guillaume", .12}, {"Lecomte", .12},
	{"Lopez", .12}, {"Jean", .12}, {"Dupuy", .12}, {"Guillot", .12}, {"Hubert", .12}, {"Berger", .12}, {"Carpentier", .11},
	{"Sanchez", .11}, {"Dupuis", .11}, {"Moulin", .11}, {"Louis", .11}, {"Deschamps", .11}, {"Huet", .11}, {"Vasseur", .11},
	{"Perez", .11}, {"Boucher", .11}, {"Fleury", .11}, {"Royer", .1}, {"Klein", .1}, {"Jacquet", .1}, {"Adam", .1},
	{"Paris", .1}, {"Poirier", .1}, {"Marty", .1}, {"Aubry", .1}, {"Guyot", .1}, {"Carré", .1}, {"Charles", .1},
	{"Renault", .1}, {"Charpentier", .1}, {"Ménard", .1}, {"Maillard", .1}, {"Baron", .1}, {"Bertin", .1}, {"Bailly", .1},
	{"Hervé", .1}, {"Schneider", .1}, {"Fernandez", .1}, {"Le Gall", .1}, {"Collet", .1}, {"Léger", .1}, {"Bouvier", .1},
	{"Julien", .1}, {"Prévost", .1}, {"Millet", .1}, {"Perrot", .1}, {"Daniel", .1}, {"Le Roux", .1}, {"Cousin", .1},
	{"Germain", .1}, {"Breton", .1}, {"Besson", .1}, {"Langlois", .1}, {"Rémy", .1}, {"Le Goff", .1}, {"Pelletier", .1},
	{"Lévêque", .1}, {"Perrier", .1}, {"Leblanc", .1}, {"Barré", .1}, {"Lebrun", .1}, {"Marchal", .1}, {"Weber", .1},
	{"Mallet", .1}, {"Hamon", .1}, {"Boulanger", .1}, {"Jacob", .1}, {"Monnier", .1}, {"Michaud", .1}, {"Rodriguez", .1},
	{"Guichard", .1}, {"Gillet", .1}, {"Étienne", .1}, {"Grondin", .1}, {"Poulain", .1}, {"Tessier", .1}, {"Chevallier", .1},
	{"Collin", .1}, {"Chauvin", .1}, {"Da Silva", .1}, {"Bouchet", .1}, {"Gay", .1}, {"Lemaître", .1}, {"Bénard", .1},
	{"Maréchal", .1}, {"Humbert", .1}, {"Reynaud", .1}, {"Antoine", .1}, {"Hoarau", .1}, {"Perret", .1}, {"Barthélemy", .1},
	{"Cordier", .1}, {"Pichon", .1}, {"Lejeune", .1}, {"Gilbert", .1}, {"Lamy", .1}, {"Delaunay", .1}, {"Pasquier", .1},
	{"Carlier", .1}, {"Laporte", .1},
}

var firstNames = []string{
	"Jean", "Marie", "Pierre", "Michel", "André", "Philippe", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise",
	"Christine", "Monique", "Nicolas", "Stéphane", "Sébastien", "Julien", "Élodie", "Hélène", "Chloé", "Zoé", "Léa", "Manon",
	"Camille", "Inès", "Jérôme", "François", "Gaëlle", "Noémie", "Mélanie", "Céline", "Valérie", "Frédéric", "Thérèse",
	"Agnès", "Cécile", "Aurélie", "Clément", "Théo", "Hugo", "Lucas", "Louis", "Gabriel", "Raphaël", "Anaïs", "Maëlle",
	"Joël", "Benoît", "Loïc", "Hervé", "Rémi", "Jérémy", "Anne", "Paul", "Jacques", "Alain", "Thomas", "Laura", "Emma",
	"Sarah", "Julie", "Pauline", "Marion", "Lucie", "Océane", "Jean-Pierre", "Jean-Luc", "Marie-Claude", "Anne-Sophie",
	"Éric", "Émilie", "Ève", "Yannick", "Gwenaëlle", "Maxime", "Antoine", "Alexandre", "Vincent", "Olivier", "Christophe",
	"David", "Laurent", "Patrick", "Daniel", "Bernard", "Martine", "Christiane", "Sophie", "Caroline", "Sandrine",
	"Véronique", "Audrey", "Margaux", "Clémence", "Jade", "Louise", "Alice", "Lina", "Rose",
}

// Syllables of the long tail of rarer last names (2,240 of them).
var (
	tailStart  = []string{"Ber", "Chal", "Dau", "Esc", "Fav", "Gour", "Hou", "Jac", "Lab", "Mar", "Nau", "Pey", "Quen", "Ros", "Sau", "Tal", "Vau", "Bré", "Gré", "Thé"}
	tailMiddle = []string{"", "a", "e", "i", "o", "ou", "é"}
	tailEnd    = []string{"nard", "lin", "det", "mont", "ville", "court", "gnac", "rat", "zac", "tier", "chon", "lard", "teau", "deau", "quet", "bert"}
)

var (
	emailDomains = []string{"gmail.com", "gmail.com", "gmail.com", "orange.fr", "orange.fr", "free.fr", "hotmail.fr", "laposte.net",
		"sfr.fr", "wanadoo.fr", "yahoo.fr", "outlook.fr", "icloud.com", "bbox.fr", "acme-industrie.fr", "mairie-lyon.fr"}
	cities = []struct{ postal, city string }{{"75011", "Paris"}, {"69003", "Lyon"}, {"13008", "Marseille"}, {"31000", "Toulouse"},
		{"06000", "Nice"}, {"44000", "Nantes"}, {"67000", "Strasbourg"}, {"34000", "Montpellier"}, {"33000", "Bordeaux"},
		{"59000", "Lille"}, {"35000", "Rennes"}, {"25000", "Besançon"}, {"21000", "Dijon"}, {"30000", "Nîmes"}, {"29200", "Brest"}}
)

// rareLastName is given to exactly rareCount contacts: the "rare name"
// searched by the benchmark.
const (
	rareLastName = "Quéméneur"
	rareCount    = 12
)

// searchData describes a generated base.
type searchData struct {
	lists     map[string]contact.ListID // Newsletter ≈ 60 %, Clients ≈ 10 %, Salon ≈ 1 %, VIP 200 members
	emails    []string                  // a few generated emails
	phones    []string                  // a few generated phones (E.164)
	contacts  int                       // in the benchmarked account
	lastNames int                       // distinct last names
}

var phoneNormalize = phone.Normalize

// asciiFold removes accents: the local part of generated emails.
func asciiFold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, _ := transform.String(t, s)
	return out
}

// generateContacts bulk-inserts n contacts into the account (and n/20 into
// other, a second account, so plans must use account_id), with lists made
// through the service. Ids start at 1e9 so they never meet the sequence.
func generateContacts(tb testing.TB, db *database.DB, svc *contact.Service, by rights.Actor, other int64, n int) searchData {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 2))
	data := searchData{lists: map[string]contact.ListID{}}
	for _, name := range []string{"Newsletter", "Clients", "Salon 2026", "VIP"} {
		l, err := svc.CreateList(ctx, by, name, "")
		if err != nil {
			tb.Fatal(err)
		}
		data.lists[name] = l.ID
	}
	// Cumulative weights of the common names (50 % of the named contacts).
	total := 0.0
	for _, c := range commonLastNames {
		total += c.weight
	}
	cumulative := make([]float64, len(commonLastNames))
	acc := 0.0
	for i, c := range commonLastNames {
		acc += c.weight / total
		cumulative[i] = acc
	}
	pickCommon := func() string {
		x := rng.Float64()
		for i, c := range cumulative {
			if x <= c {
				return commonLastNames[i].name
			}
		}
		return commonLastNames[0].name
	}
	distinct := map[string]bool{}
	used := make(map[string]bool, n+n/20)
	start := time.Date(2023, 1, 1, 8, 0, 0, 0, time.UTC).UnixMilli()
	span := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC).UnixMilli() - start
	rarePositions := map[int]bool{}
	for len(rarePositions) < rareCount {
		rarePositions[rng.IntN(n)] = true
	}

	const cols = 16
	perInsert := 200
	if db.Dialect() == database.SQLite {
		perInsert = 10
	}
	statement := func(table string, columns []string, rows int) string {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
		for i := range rows {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(")
			for c := range columns {
				if c > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "$%d", i*len(columns)+c+1)
			}
			sb.WriteString(")")
		}
		return sb.String()
	}
	contactCols := []string{"account_id", "id", "email", "phone", "civility", "first_name", "last_name", "postal_code", "city",
		"country", "language", "email_status", "sms_status", "unique_value", "created_at", "updated_at"}
	memberCols := []string{"account_id", "list_id", "contact_id", "added_at"}
	fullContacts := statement("contacts", contactCols, perInsert)
	fullMembers := statement("list_members", memberCols, perInsert)

	indexes := secondaryIndexes(tb, db, "contacts", "list_members")
	for name := range indexes {
		if _, err := db.Write().Exec(ctx, `DROP INDEX `+name); err != nil {
			tb.Fatal(err)
		}
	}
	defer func() {
		for _, def := range indexes {
			if _, err := db.Write().Exec(ctx, def); err != nil {
				tb.Fatal(err)
			}
		}
		stmts := []string{`VACUUM ANALYZE contacts`, `VACUUM ANALYZE list_members`}
		if db.Dialect() == database.SQLite {
			// Production SQLite files are never analysed (no sqlite_stat1):
			// the plans must not depend on statistics.
			stmts = nil
		}
		for _, s := range stmts {
			if _, err := db.Write().Exec(ctx, s); err != nil {
				tb.Fatal(err)
			}
		}
	}()

	type member struct{ list, contact int64 }
	row := func(i int, account int64, args []any, members []member) ([]any, []member) {
		id := int64(1_000_000_000 + i)
		var first, last string
		switch x := rng.IntN(100); {
		case x < 8: // email only
		case x < 10:
			first = firstNames[rng.IntN(len(firstNames))]
		default:
			first = firstNames[rng.IntN(len(firstNames))]
			if rng.IntN(2) == 0 {
				last = pickCommon()
			} else {
				last = tailStart[rng.IntN(len(tailStart))] + tailMiddle[rng.IntN(len(tailMiddle))] + tailEnd[rng.IntN(len(tailEnd))]
			}
		}
		if account == by.AccountID && rarePositions[i] {
			first, last = firstNames[rng.IntN(len(firstNames))], rareLastName
		}
		plainFirst, plainLast := strings.ToLower(asciiFold(first)), strings.ToLower(asciiFold(last))
		plainFirst = strings.ReplaceAll(plainFirst, " ", "")
		plainLast = strings.ReplaceAll(plainLast, " ", "")
		switch x := rng.IntN(100); {
		case x < 15:
			last = strings.ToUpper(last)
			if rng.IntN(5) < 2 {
				last = strings.ToUpper(asciiFold(last))
			}
		case x < 18:
			first, last = strings.ToLower(first), strings.ToLower(last)
		}
		if last != "" {
			distinct[last] = true
		}
		// Email: from the names when there are some, unique.
		var email string
		if rng.IntN(100) >= 5 || last == "" && first == "" {
			var local string
			switch x := rng.IntN(100); {
			case plainFirst == "" && plainLast == "":
				local = []string{"contact", "info", "hello", "bonjour", "moi", "pro"}[rng.IntN(6)] + strconv.Itoa(rng.IntN(100_000))
			case plainLast == "":
				local = plainFirst + strconv.Itoa(rng.IntN(1000))
			case x < 45:
				local = plainFirst + "." + plainLast
			case x < 65:
				local = plainFirst[:1] + plainLast
			case x < 80:
				local = plainFirst + plainLast + strconv.Itoa(rng.IntN(100))
			default:
				local = plainLast + "." + plainFirst
			}
			email = local + "@" + emailDomains[rng.IntN(len(emailDomains))]
			for try := 0; used[email]; try++ {
				suffix := strconv.Itoa(rng.IntN(100))
				if try > 2 {
					suffix = strconv.Itoa(i)
				}
				email = local + suffix + "@" + emailDomains[rng.IntN(len(emailDomains))]
			}
			used[email] = true
		}
		var phone string
		if email == "" || rng.IntN(100) < 75 {
			// Numbers that are French as dialled from France (not 0639…,
			// which is Mayotte's, nor unassigned ranges).
			for phone == "" {
				p := fmt.Sprintf("+33%d%08d", 1+rng.IntN(5), rng.IntN(100_000_000))
				if rng.IntN(5) > 0 {
					p = fmt.Sprintf("+33%d%08d", 6+rng.IntN(2), rng.IntN(100_000_000))
				}
				if e, err := phoneNormalize("0"+p[3:], "FR"); err == nil && e == p {
					phone = p
				}
			}
		}
		status := contact.EmailValid
		switch x := rng.IntN(1000); {
		case x < 15:
			status = contact.EmailSoftBounced
		case x < 30:
			status = contact.EmailHardBounced
		case x < 45:
			status = contact.EmailUnsubscribed
		case x < 50:
			status = contact.EmailComplained
		}
		civility := ""
		if first != "" {
			civility = []string{"M.", "Mme"}[rng.IntN(2)]
		}
		city := cities[rng.IntN(len(cities))]
		created := start + span*int64(i%n)/int64(n)
		updated := created
		if rng.IntN(10) < 4 {
			updated += rng.Int64N(start + span - created + 1)
		}
		var unique any
		if email != "" {
			unique = email
		}
		if account == by.AccountID && len(data.emails) < 64 && email != "" && rng.IntN(1000) == 0 {
			data.emails = append(data.emails, email)
		}
		if account == by.AccountID && len(data.phones) < 64 && phone != "" && rng.IntN(1000) == 0 {
			data.phones = append(data.phones, phone)
		}
		args = append(args, account, id, email, phone, civility, first, last, city.postal, city.city, "FR", "fr", status,
			contact.SMSValid, unique, created, updated)
		if account == by.AccountID {
			x := rng.IntN(10_000)
			if x < 6000 {
				members = append(members, member{int64(data.lists["Newsletter"]), id})
			}
			if x%10 == 0 {
				members = append(members, member{int64(data.lists["Clients"]), id})
			}
			if x%100 == 1 {
				members = append(members, member{int64(data.lists["Salon 2026"]), id})
			}
			if i%(n/200) == 0 {
				members = append(members, member{int64(data.lists["VIP"]), id})
			}
		}
		return args, members
	}

	write := func(account int64, from, to int) {
		args := make([]any, 0, perInsert*cols)
		var members []member
		flush := func(q database.Querier, final bool) error {
			for len(members) >= perInsert || final && len(members) > 0 {
				batch := members[:min(perInsert, len(members))]
				margs := make([]any, 0, len(batch)*4)
				for _, m := range batch {
					margs = append(margs, account, m.list, m.contact, start)
				}
				stmt := fullMembers
				if len(batch) < perInsert {
					stmt = statement("list_members", memberCols, len(batch))
				}
				if _, err := q.Exec(ctx, stmt, margs...); err != nil {
					return err
				}
				members = members[len(batch):]
			}
			return nil
		}
		for done := from; done < to; {
			err := db.InTx(ctx, func(q database.Querier) error {
				for inTx := 0; inTx < 50_000 && done < to; {
					batch := min(perInsert, to-done)
					args = args[:0]
					for j := range batch {
						args, members = row(done+j, account, args, members)
					}
					stmt := fullContacts
					if batch < perInsert {
						stmt = statement("contacts", contactCols, batch)
					}
					if _, err := q.Exec(ctx, stmt, args...); err != nil {
						return err
					}
					if err := flush(q, false); err != nil {
						return err
					}
					done += batch
					inTx += batch
				}
				return flush(q, true)
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	write(by.AccountID, 0, n)
	write(other, n, n+n/20)
	data.contacts = n
	data.lastNames = len(distinct)
	return data
}

// secondaryIndexes returns the tables' indexes but their primary keys, by
// name, with the statements that create them.
func secondaryIndexes(tb testing.TB, db *database.DB, tables ...string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, table := range tables {
		query := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL`
		if db.Dialect() == database.Postgres {
			query = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND indexname <> $1 || '_pkey'`
		}
		rows, err := db.Read().Query(context.Background(), query, table)
		if err != nil {
			tb.Fatal(err)
		}
		for rows.Next() {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				tb.Fatal(err)
			}
			out[name] = def
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// benchAccount creates an account and returns its owner as an actor.
func benchAccount(tb testing.TB, db *database.DB, name string) rights.Actor {
	tb.Helper()
	ctx := context.Background()
	acc, owner, err := (&account.Service{DB: db, Now: time.Now}).Create(ctx, account.New{Name: name,
		Admin: user.New{Email: strings.ToLower(name) + "-owner@example.com", Password: "owner password 1", FirstName: "Olga"}})
	if err != nil {
		tb.Fatal(err)
	}
	by, err := account.ActorFor(ctx, db.Read(), acc.ID, owner, 0, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return by
}
