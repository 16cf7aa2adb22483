// Package i18n holds envoi's French and English catalogues and the French and
// English number and date formats (SPEC §13.7: "French and English (per user),
// French number and date formats in French").
//
// A Catalog is loaded once from the embedded locales/*.json files and is then
// read-only, so one Catalog is shared by every request. A Printer is a
// Catalog seen in one language; it is immutable and safe for concurrent use.
//
// Invariants, enforced by the tests: both catalogues hold exactly the same
// keys, no message is empty, and a message uses the same template fields
// ({{.Count}}, {{.Name}}…) in both languages. Keys are dotted, grouped by
// screen or concern: nav.contacts, login.title, error.forbidden.
//
// Formats follow CLDR as browsers show it today: French groups thousands with
// a narrow no-break space (U+202F), uses a decimal comma and writes "12,5 %"
// with U+202F before the percent sign. golang.org/x/text/number is not used
// because its CLDR data still separates French thousands with U+00A0.
package i18n
