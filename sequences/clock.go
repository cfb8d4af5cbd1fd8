package sequences

import (
	"sync"
	"time"
)

// Clock tells the time and waits; the scheduler never calls time.Now
// directly, so tests and the demo control time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }

// After waits d of real time.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// FakeClock is a clock that only moves when told to, or, with Jump set, moves
// forward by the whole wait whenever someone waits: the scheduler's loop then
// runs a month of sequence in a moment (`followup demo --once`, tests).
type FakeClock struct {
	mu   sync.Mutex
	now  time.Time
	Jump bool
}

// NewFakeClock starts a fake clock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// After jumps forward by d when Jump is set; otherwise it fires after d of
// real time without moving the fake clock (a tick to look again).
func (c *FakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	jump := c.Jump
	if jump {
		c.now = c.now.Add(d)
		ch <- c.now
	}
	c.mu.Unlock()
	if !jump {
		go func() { time.Sleep(min(d, 10*time.Millisecond)); ch <- c.Now() }()
	}
	return ch
}

// ScaledClock runs Factor times faster than the wall clock from Start: the
// interactive demo shows a week of follow-ups in seconds.
type ScaledClock struct {
	Start  time.Time // the clock's time at Origin
	Origin time.Time // the wall time the clock started
	Factor float64
}

// Now returns the scaled time.
func (c *ScaledClock) Now() time.Time {
	return c.Start.Add(time.Duration(float64(time.Since(c.Origin)) * c.Factor))
}

// After waits d of scaled time.
func (c *ScaledClock) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.Factor))
}
