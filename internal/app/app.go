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
	"strings"
	"time"

	"envoi/internal/account"
	"envoi/internal/api"
	"envoi/internal/auth"
	"envoi/internal/config"
	"envoi/internal/database"
	"envoi/internal/fault"
	"envoi/internal/i18n"
	"envoi/internal/instance"
	"envoi/internal/job"
	"envoi/internal/server"
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
	Jobs      *job.Worker
	Scheduler *job.Scheduler
	API       *api.API
	Web       *web.Web
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
	a.Auth = &auth.Service{DB: db, Keys: user.NewKeys(secret), Throttle: user.NewThrottle(), Now: now}
	a.Members = &account.Members{DB: db, Now: now, BaseURL: cfg.BaseURL}
	a.Jobs = job.NewWorker(db, log, job.Options{})
	a.Scheduler = job.NewScheduler(db, log, job.SchedulerOptions{})
	a.API = api.New(api.Deps{Auth: a.Auth, Members: a.Members, Now: now})
	catalog, err := i18n.New()
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Web, err = web.New(web.Deps{Auth: a.Auth, Members: a.Members, DB: db, I18n: catalog, Log: log, SecureCookies: cfg.SecureCookies(), Now: now})
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
	srv := server.New(server.Config{Addr: a.Config.Addr, Handler: h, Log: a.Log})
	addr, err := srv.Listen()
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	base := a.baseURL(addr)
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
	err = <-errs
	cancel()
	return errors.Join(err, <-errs)
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

// Demo creates the demo account on first call, and returns its
// administrator's login; the password is new at every call.
func (a *App) Demo(ctx context.Context) (email, password string, err error) {
	email, password = "demo@example.com", GeneratePassword()
	err = a.DB.InTx(ctx, func(q database.Querier) error {
		u, err := user.ByEmail(ctx, q, email)
		if err == nil {
			return user.SetPassword(ctx, q, u.ID, password, a.now())
		}
		if !fault.Is(err, fault.NotFound) {
			return err
		}
		_, _, err = account.Create(ctx, q, account.New{Name: "Démo", Language: "fr",
			Admin: user.New{Email: email, Password: password, FirstName: "Camille", LastName: "Martin"}}, a.now())
		return err
	})
	return email, password, err
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
