package store

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// PeriodLength is how long a roll-up period is.
func PeriodLength(period string) (time.Duration, error) {
	switch period {
	case Hour:
		return time.Hour, nil
	case Day:
		return 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("roll-up period %q is not hour or day", period)
}

// Sample is one raw result as the backends read it to roll up: status 0
// up, 1 warn, 2 down; times in microseconds.
type Sample struct {
	Status        int
	RTT, Delivery int64
	HasDelivery   bool
}

// Aggregate sums up one monitor's samples of a period; rtt figures are
// over the tests that did not fail (a timeout's rtt is the timeout, not the
// server's speed). Every backend rolls up with it.
func Aggregate(ss []Sample) Rollup {
	var r Rollup
	var rtts, dels []int64
	for _, s := range ss {
		r.Tests++
		switch s.Status {
		case 0:
			r.Up++
		case 1:
			r.Warn++
		default:
			r.Down++
		}
		if s.Status != 2 {
			rtts = append(rtts, s.RTT)
		}
		if s.HasDelivery {
			dels = append(dels, s.Delivery)
		}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	stats := func(v []int64) (minV, avg, p95, maxV time.Duration) {
		if len(v) == 0 {
			return
		}
		sort.Slice(v, func(a, b int) bool { return v[a] < v[b] })
		var sum int64
		for _, x := range v {
			sum += x
		}
		return us(v[0]), us(sum / int64(len(v))), us(v[(len(v)*95+99)/100-1]), us(v[len(v)-1])
	}
	r.RTTMin, r.RTTAvg, r.RTTP95, r.RTTMax = stats(rtts)
	r.Delivered = len(dels)
	_, r.DeliveryAvg, r.DeliveryP95, r.DeliveryMax = stats(dels)
	return r
}

// RollUpBuckets is RollUp for every backend: hours calls hours once for
// the hourly buckets that start in [from, to), each monitor's results read
// once for all of them (a read costs a seek a monitor, whatever the
// range); days calls day for each daily bucket, from its hours.
func RollUpBuckets(ctx context.Context, period string, from, to time.Time, hours func(ctx context.Context, from, to time.Time) error, day func(ctx context.Context, period string, start, end time.Time) error) error {
	step, err := PeriodLength(period)
	if err != nil {
		return err
	}
	from, to = Truncate(period, from), Truncate(period, to)
	if !from.Before(to) {
		return nil
	}
	if period == Hour {
		return hours(ctx, from, to)
	}
	for b := from; b.Before(to); b = b.Add(step) {
		if err := day(ctx, period, b, b.Add(step)); err != nil {
			return err
		}
	}
	return nil
}
