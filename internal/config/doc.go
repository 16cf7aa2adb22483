// Package config holds envoi's process configuration (SPEC §1.1, §13.6):
// the settings every subcommand shares, read from command-line flags and
// ENVOI_* environment variables.
//
// Precedence is flag, then environment variable, then built-in default:
// Bind registers each flag with the environment's value as its default, so a
// flag given on the command line wins. Validate then parses and checks the
// derived values (SMTP URL, durations, log level…) and reports every bad
// setting at once, each error naming the variable and flag to fix.
//
// The package is pure: the environment is passed in as a getenv function and
// nothing is read from or written to the process. Secrets (the SMTP password
// and any password in the database URL) never appear in String or LogValue
// output.
package config
