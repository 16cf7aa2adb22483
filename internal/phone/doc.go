// Package phone normalises phone numbers to E.164 (+33612345678), the form
// contacts store and unique keys compare (SPEC §4.1, §4.3), and tells mobiles
// (which can receive SMS) and countries apart.
//
// Normalize accepts what people type — 06 12 34 56 78, +33 6 12 34 56 78,
// 0033612345678, (0)6.12.34.56.78, +33 (0)6 12 34 56 78, 612345678 from a
// spreadsheet that dropped the zero — with the account's default country
// for numbers written without a country code, and refuses what is not a
// valid number of its country, with the reason, as fault.Invalid on the
// field "phone". The numbering plans are those of
// github.com/nyaruka/phonenumbers (Google's libphonenumber metadata). Two
// additions: 00 is read as the international prefix whatever the default
// country, and French overseas numbers dialled in the French plan are found
// (0692 12 34 56 from Paris is +262692123456, La Réunion; 06 12 34 56 78 from
// La Réunion is metropolitan).
//
// Speed. The library's parser costs about 8 µs a number (regular
// expressions, 60 allocations), too much for 1M-row imports. Normalize first
// cleans the input itself, then, for the usual shapes (+ or 00 and a calling
// code, a national number with a plain national prefix or none), checks the
// number against the library's own metadata with a DFA built lazily from its
// patterns (dfa.go), one pass over the digits for all number types at once:
// about 0.1 µs (bench/RESULTS.md). Everything else — Italian leading zeros,
// regions whose national prefix is rewritten (Argentina, Brazil…),
// non-geographic codes, every invalid number — goes to the library. Tests
// check that both paths agree on every region's example numbers and their
// neighbours, and FuzzNormalize on whatever it finds.
package phone
