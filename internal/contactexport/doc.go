// Package contactexport writes a list, a segment or the whole base of an account's
// contacts to a file (SPEC §4.4): CSV with chosen fields, the same for
// French Excel, or hashed emails and phones for ad-platform audiences.
//
// # Life of an export
//
// Start checks the request (format; fields, each a core, derived or
// custom key, the offending one named fields[i]; the list, or the segment,
// whose criteria must still validate) and the right its scope takes —
// contacts editor for a list or a segment, approver for the whole base, a
// validation (SPEC §2.3) — then records the export and enqueues a durable
// job in the same transaction. A segment is compiled by Service.Segments
// (the segment package) once per attempt of the job: its pages are the
// contacts matching it as they are read (SPEC §6: segments are live).
//
// The job (Handle) counts the contacts once (the total of the progress),
// then reads them in pages of 5,000 by id (keyset: every page costs what
// the first does), the custom values of a page with one more query, and
// writes each page as one chunk of the file into export_chunks, in the
// same transaction as the checkpoint (last id, rows, chunks) and the job's
// progress. A retried attempt resumes after the last committed page, so
// the file never holds a row twice. Memory holds one page whatever the
// size of the base. Contacts added during the export with a higher id
// are included; the row count can then pass the total. Completing marks
// the export done, sets its expiry and records the one history entry
// `contact.export` (category contacts), all in one transaction: exports
// are security-relevant. The job acts for the person who started the
// export with their rights at that moment: suspended, or without the right
// any more, the export fails.
//
// # Download and expiry
//
// Open checks the same right as Start (and the account: another account's
// export is not found) and Stream copies the chunks, one at a time, to the
// response. Files are kept Retention (7 days) after they are finished: an
// export past its expiry reads as expired at once, and the periodic
// Cleanup job (hourly, wired in the app) deletes the chunks of expired
// exports and of exports that never finished within the retention.
//
// # Formats
//
// See CSV, Excel and Hashed. Values are written as the API gives them in
// CSV; Excel uses French conventions and neutralises text that Excel would
// take for a formula (CSV injection) — numbers are written by envoi itself
// and never neutralised, so -12,5 stays a number. Multiple choices are
// joined by ", " (the import splits them again).
package contactexport
