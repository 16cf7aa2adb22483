// Package smtpsink is a real SMTP server that records what it receives, for
// tests, the end-to-end suite and benchmarks: it listens on 127.0.0.1 on a
// free port, speaks SMTP over real TCP (github.com/emersion/go-smtp), and
// keeps each message's envelope and raw data in memory.
//
// Options make it require AUTH PLAIN, offer STARTTLS or speak implicit TLS
// with a self-signed certificate (CertPool gives clients the root to trust),
// and Reject makes it answer a chosen 4xx or 5xx code for a recipient, so
// callers can test retries and bounces. It never relays anything.
package smtpsink
