package main

import (
	"slices"
	"testing"
	"time"
)

func TestSlotIdle(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		name         string
		waits, goods []time.Duration
		budget       int
		want         []time.Duration
	}{
		{
			name: "no budget", waits: ms(0, 10, 20), goods: ms(100, 110, 120), budget: 0, want: nil,
		},
		{
			name: "fewer pods than the budget", waits: ms(0, 10), goods: ms(100, 110), budget: 2, want: nil,
		},
		{
			// Two slots: the pods that start at 130 and 150 take the slots freed at 100 and 120.
			name: "two slots", waits: ms(0, 0, 130, 150), goods: ms(100, 120, 230, 250), budget: 2, want: ms(30, 30),
		},
		{
			// Seen out of order (watch events of different pods): the k-th good pairs with the (k+budget)-th wait.
			name: "unsorted input", waits: ms(150, 0, 130, 0), goods: ms(120, 250, 100, 230), budget: 2, want: ms(30, 30),
		},
		{
			// One slot refilled before the pod that freed it was seen good (the bench's watch behind the
			// controller's) counts as idle for no time, not less.
			name: "refilled before seen", waits: ms(0, 90), goods: ms(100, 200), budget: 1, want: ms(0),
		},
		{
			// The last pods turning good free slots nobody takes: they are not idle slots of the rollout.
			name: "tail", waits: ms(0, 0, 0, 140), goods: ms(100, 110, 120, 240), budget: 3, want: ms(40),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			waits, goods := slices.Clone(c.waits), slices.Clone(c.goods)
			got := slotIdle(c.waits, c.goods, c.budget)
			if !slices.Equal(got, c.want) {
				t.Errorf("slotIdle = %v, want %v", got, c.want)
			}
			if !slices.Equal(waits, c.waits) || !slices.Equal(goods, c.goods) {
				t.Errorf("slotIdle reordered its input")
			}
		})
	}
}

func TestRollingBudget(t *testing.T) {
	for nodes, want := range map[int]int{1: 1, 10: 1, 11: 2, 1000: 100, 3000: 300, 5001: 501} {
		got, err := rollingBudget(nodes)
		if err != nil || got != want {
			t.Errorf("rollingBudget(%d) = %d, %v; want %d", nodes, got, err, want)
		}
	}
}

func TestStatsOf(t *testing.T) {
	d := []time.Duration{4 * time.Second, 1 * time.Second, 3 * time.Second, 2 * time.Second}
	got := statsOf(d)
	want := durationStats{MeanSeconds: 2.5, P50Seconds: 3, P90Seconds: 4}
	if got != want {
		t.Errorf("statsOf = %+v, want %+v", got, want)
	}
	if d[0] != 4*time.Second {
		t.Errorf("statsOf reordered its input")
	}
}
