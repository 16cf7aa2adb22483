// Package app wires envoi together by hand: configuration in, a database,
// the domain services, the HTTP faces (web UI and API) and the workers out.
// It is the only place that knows every part; nothing imports it but cli.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"envoi/internal/account"
	"envoi/internal/activity"
	"envoi/internal/api"
	"envoi/internal/auth"
	"envoi/internal/config"
	"envoi/internal/contact"
	"envoi/internal/contactexport"
	"envoi/internal/contactimport"
	"envoi/internal/database"
	"envoi/internal/i18n"
	"envoi/internal/instance"
	"envoi/internal/job"
	"envoi/internal/live"
	"envoi/internal/notify"
	"envoi/internal/outbox"
	"envoi/internal/score"
	"envoi/internal/segment"
	"envoi/internal/server"
	"envoi/internal/smtprelay"
	"envoi/internal/user"
	"envoi/internal/web"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// App is a configured envoi.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	DB        *database.DB
	Accounts  *account.Service
	Auth      *auth.Service
	Members   *account.Members
	Contacts  *contact.Service
	Imports   *contactimport.Service
	Exports   *contactexport.Service
	Activity  *activity.Service
	Segments  *segment.Service
	Scores    *score.Service
	Jobs      *job.Worker
	Scheduler *job.Scheduler
	API       *api.API
	Web       *web.Web
	Live      *live.Hub
	Notifier  *notify.Notifier // system emails: invitations, password resets
	Metrics   *prometheus.Registry
	now       func() time.Time
}

// New opens and migrates the database and builds the services. Migration
// refuses a schema newer than this binary.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	db, err := database.Open(ctx, database.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	secret, err := instance.Secret(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	now := time.Now
	a := &App{Config: cfg, Log: log, DB: db, now: now}
	a.Accounts = &account.Service{DB: db, Now: now}
	a.Auth = &auth.Service{DB: db, Keys: user.NewKeys(secret), Throttle: user.NewThrottle(), TOTP: user.NewTOTP(secret), Now: now}
	a.Members = &account.Members{DB: db, Now: now, BaseURL: cfg.BaseURL}
	a.Jobs = job.NewWorker(db, log, job.Options{})
	a.Scheduler = job.NewScheduler(db, log, job.SchedulerOptions{})
	a.Contacts = &contact.Service{DB: db, Now: now, Erasers: []contact.Eraser{
		func(ctx context.Context, q database.Querier, accountID int64, id contact.ID) error {
			return activity.Forget(ctx, q, accountID, id)
		},
		func(ctx context.Context, q database.Querier, accountID int64, id contact.ID) error {
			return score.Forget(ctx, q, accountID, int64(id))
		},
	}, InUse: segment.RefuseInUse}
	a.Imports = &contactimport.Service{DB: db, Now: now}
	a.Jobs.Register(contactimport.JobKind, a.Imports.Handle)
	a.Jobs.Register(contactimport.CleanupKind, a.Imports.Cleanup)
	a.Scheduler.Every(contactimport.CleanupKind, time.Hour, job.New{Kind: contactimport.CleanupKind}) // abandoned drafts
	a.Segments = &segment.Service{DB: db, Now: now, Scores: score.Exists}
	a.Scores = &score.Service{DB: db, Now: now, Segments: a.Segments}
	a.Jobs.Register(score.JobKind, a.Scores.Handle)
	a.Jobs.Register(score.ScheduleKind, a.Scores.HandleSchedule)
	a.Scheduler.Every(score.ScheduleKind, score.SchedulePeriod, job.New{Kind: score.ScheduleKind}) // automatic score calculations
	a.Exports = &contactexport.Service{DB: db, Now: now, Segments: a.Segments}
	a.Activity = &activity.Service{DB: db, Now: now}
	a.Jobs.Register(contactexport.JobKind, a.Exports.Handle)
	a.Jobs.Register(contactexport.CleanupKind, a.Exports.Cleanup)
	a.Scheduler.Every(contactexport.CleanupKind, time.Hour, job.New{Kind: contactexport.CleanupKind}) // expired export files
	a.API = api.New(api.Deps{Auth: a.Auth, Members: a.Members, Contacts: a.Contacts, Imports: a.Imports, Exports: a.Exports, Activity: a.Activity, Segments: a.Segments, Scores: a.Scores, Now: now})
	catalog, err := i18n.New()
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Live = live.New(live.Config{DB: db, Log: log, Now: now})
	a.Notifier = &notify.Notifier{Mailer: mailer(cfg, db, now), From: sender(cfg.BaseURL), BaseURL: cfg.BaseURL, I18n: catalog}
	a.Members.Inviter = a.Notifier
	resets := &auth.Resets{DB: db, Mailer: a.Notifier, Throttle: user.NewResetThrottle(), Now: now}
	a.Web, err = web.New(web.Deps{Auth: a.Auth, Members: a.Members, DB: db, I18n: catalog, Log: log, SecureCookies: cfg.SecureCookies(), Now: now, Live: a.Live, Resets: resets, Contacts: a.Contacts, Imports: a.Imports, Exports: a.Exports, Activity: a.Activity, Segments: a.Segments, Scores: a.Scores})
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Metrics = prometheus.NewRegistry()
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return a, nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler is the whole HTTP surface: API, web UI, health and metrics.
func (a *App) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	a.API.Register(mux)
	a.Web.Register(mux)
	return server.Handler(server.HandlerConfig{
		App:          mux,
		Log:          a.Log,
		Metrics:      a.Metrics,
		MaxBodyBytes: a.Config.MaxBodyBytes,
		Ready:        a.ready,
		RedactPaths:  []string{user.ResetPath, "/invitation/"},
	})
}

func (a *App) ready(ctx context.Context) error {
	if err := a.DB.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	return a.DB.CheckSchema(ctx)
}

// Serve listens, calls started with the base URL (and the first-run setup
// URL when the installation has no account yet), and serves until ctx is
// cancelled, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, started func(baseURL, setupURL string)) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	// Open live streams end when shutdown starts, or it would wait for them.
	srv := server.New(server.Config{Addr: a.Config.Addr, Handler: h, Log: a.Log, OnShutdown: []func(){a.Live.Close}})
	addr, err := srv.Listen()
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	base := a.baseURL(addr)
	a.Notifier.BaseURL = base // links in emails follow the real address when the port was 0
	setupURL := ""
	token, err := instance.IssueSetupToken(ctx, a.DB)
	if err != nil {
		return err
	}
	if token != "" {
		setupURL = base + "/setup?token=" + token
	}
	a.Log.Info("envoi started", "addr", addr.String(), "database", a.DB.Dialect().String(), "config", a.Config)
	a.Members.BaseURL = base
	if started != nil {
		started(base, setupURL)
	}
	// The web server and the workers run side by side; the first to fail
	// stops the others, and a cancelled ctx stops all (graceful shutdown).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- srv.Serve(ctx) }()
	go func() { errs <- a.Work(ctx) }()
	hub := make(chan error, 1)
	go func() { hub <- a.Live.Run(ctx) }() // tails the history for the open streams
	err = <-errs
	cancel()
	return errors.Join(err, <-errs, <-hub)
}

// Work runs the background job workers and the scheduler until ctx is
// cancelled, letting running jobs finish.
func (a *App) Work(ctx context.Context) error {
	errs := make(chan error, 2)
	go func() { errs <- a.Jobs.Run(ctx) }()
	go func() { errs <- a.Scheduler.Run(ctx) }()
	err := <-errs
	return errors.Join(err, <-errs)
}

// baseURL is the configured public URL, or the real listening address when
// the configuration asked for port 0.
func (a *App) baseURL(addr net.Addr) string {
	base := a.Config.BaseURL
	if strings.HasSuffix(base, ":0") {
		base = "http://" + addr.String()
	}
	return base
}

// GeneratePassword returns a random 16-character password of letters and
// digits.
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// mailer is the local outbox when no SMTP relay is configured (SPEC §1.1),
// else the relay.
func mailer(cfg config.Config, db *database.DB, now func() time.Time) notify.Mailer {
	if cfg.SMTPURL == "" {
		return &outbox.Store{DB: db, Now: now}
	}
	return &smtprelay.Relay{SMTP: cfg.SMTP, Now: now}
}

// sender is the From of system emails: envoi@ the host of the public URL
// (localhost when that is an IP address).
func sender(baseURL string) string {
	host := "localhost"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		host = u.Hostname()
	}
	return "envoi <envoi@" + host + ">"
}
