package user

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"envoi/internal/fault"
)

// Throttle limits login attempts per client IP and per login email, so
// neither one address guessing many passwords nor many addresses hammering
// one login get far. It is per process: several nodes each apply it.
type Throttle struct {
	mu      sync.Mutex
	byIP    map[string]*rate.Limiter
	byEmail map[string]*rate.Limiter
	ipRate  rate.Limit
	ipBurst int
	emRate  rate.Limit
	emBurst int
}

// NewThrottle allows each IP 30 attempts then one every 5 s, and each email
// 5 attempts then one a minute.
func NewThrottle() *Throttle {
	return &Throttle{
		byIP: map[string]*rate.Limiter{}, byEmail: map[string]*rate.Limiter{},
		ipRate: rate.Every(5 * time.Second), ipBurst: 30,
		emRate: rate.Every(time.Minute), emBurst: 5,
	}
}

func limiter(m map[string]*rate.Limiter, key string, r rate.Limit, burst int) *rate.Limiter {
	l, ok := m[key]
	if !ok {
		if len(m) > 50_000 {
			clear(m) // bounded memory under a flood; limits restart, still bounded by burst
		}
		l = rate.NewLimiter(r, burst)
		m[key] = l
	}
	return l
}

// Allow reserves one attempt or returns a TooMany fault saying when to retry.
func (t *Throttle) Allow(ip, email string, now time.Time) error {
	email = strings.ToLower(strings.TrimSpace(email))
	t.mu.Lock()
	defer t.mu.Unlock()
	ipl := limiter(t.byIP, ip, t.ipRate, t.ipBurst)
	eml := limiter(t.byEmail, email, t.emRate, t.emBurst)
	ipr := ipl.ReserveN(now, 1)
	emr := eml.ReserveN(now, 1)
	wait := max(ipr.DelayFrom(now), emr.DelayFrom(now))
	if wait > 0 {
		ipr.CancelAt(now)
		emr.CancelAt(now)
		minutes := int(math.Ceil(wait.Minutes()))
		return (&fault.Error{Kind: fault.TooMany, Key: "login.too_many_attempts", Args: map[string]any{"Count": minutes},
			Message: "too many login attempts, try again in " + plural(minutes, "minute")})
	}
	return nil
}

// Succeeded forgets the email's failures after a good login.
func (t *Throttle) Succeeded(email string) {
	t.mu.Lock()
	delete(t.byEmail, strings.ToLower(strings.TrimSpace(email)))
	t.mu.Unlock()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
