package dashboard

import (
	"sync"
	"time"
)

// SignInLimits slow down password guessing. After Threshold failures for
// an account (or AddressThreshold from one client address), further
// attempts are refused for LockFor, doubling with every failure after
// that up to MaxLock. Failures are forgotten Forget after the last one, and
// an account's count is cleared by a successful sign-in.
type SignInLimits struct {
	Threshold        int           // per account (0: 5)
	AddressThreshold int           // per client address (0: 20)
	LockFor          time.Duration // first lock (0: 1 minute)
	MaxLock          time.Duration // longest lock (0: 1 hour)
	Forget           time.Duration // (0: 24 hours)
}

func (l SignInLimits) withDefaults() SignInLimits {
	if l.Threshold <= 0 {
		l.Threshold = 5
	}
	if l.AddressThreshold <= 0 {
		l.AddressThreshold = 20
	}
	if l.LockFor <= 0 {
		l.LockFor = time.Minute
	}
	if l.MaxLock <= 0 {
		l.MaxLock = time.Hour
	}
	if l.Forget <= 0 {
		l.Forget = 24 * time.Hour
	}
	return l
}

// limiter counts failed sign-ins per key ("login:wang", "addr:192.0.2.1")
// in memory: a restart forgets them (and a lock), which costs a guesser
// far more time than it gains.
type limiter struct {
	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	n           int
	last, until time.Time
}

// maxEntries bounds the memory a flood of made-up logins can take.
const maxEntries = 10000

func newLimiter() *limiter { return &limiter{entries: map[string]*failures{}} }

// lockedFor says how long key stays locked at now (0: not locked).
func (l *limiter) lockedFor(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.entries[key]
	if !ok || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// fail counts a failure for key; once threshold is reached, the key is
// locked for lim.LockFor, doubled for each failure beyond it.
func (l *limiter) fail(key string, threshold int, lim SignInLimits, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.entries[key]
	if ok && now.Sub(f.last) > lim.Forget {
		ok = false
	}
	if !ok {
		if len(l.entries) >= maxEntries {
			l.prune(now, lim.Forget)
		}
		f = &failures{}
		l.entries[key] = f
	}
	f.n++
	f.last = now
	if f.n >= threshold {
		lock := lim.LockFor
		for i := threshold; i < f.n && lock < lim.MaxLock; i++ {
			lock *= 2
		}
		f.until = now.Add(min(lock, lim.MaxLock))
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// prune forgets old and unlocked entries; if that is not enough, all of
// the unlocked ones (locked keys stay locked).
func (l *limiter) prune(now time.Time, forget time.Duration) {
	for k, f := range l.entries {
		if now.Sub(f.last) > forget || (!now.Before(f.until) && f.n < 2) {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= maxEntries {
		for k, f := range l.entries {
			if !now.Before(f.until) {
				delete(l.entries, k)
			}
		}
	}
}
