package planner

import (
	"strings"
	"testing"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func TestResolveStrategy(t *testing.T) {
	cases := []struct {
		name    string
		opts    []setOpt
		desired int
		want    strategy
		wantErr string
	}{
		{"unset strategy is RollingUpdate with maxUnavailable 1", nil, 5,
			strategy{rollingUpdate: true, maxUnavailable: 1}, ""},
		{"OnDelete", []setOpt{onDelete()}, 5, strategy{}, ""},
		{"maxUnavailable 2", []setOpt{maxUnavailable("2")}, 5,
			strategy{rollingUpdate: true, maxUnavailable: 2}, ""},
		{"maxUnavailable 20% of 5", []setOpt{maxUnavailable("20%")}, 5,
			strategy{rollingUpdate: true, maxUnavailable: 1}, ""},
		{"maxUnavailable 30% of 5 rounds up", []setOpt{maxUnavailable("30%")}, 5,
			strategy{rollingUpdate: true, maxUnavailable: 2}, ""},
		{"maxSurge 1 defaults maxUnavailable to 0", []setOpt{rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) {
			ru.MaxSurge = intOrStr("1")
		})}, 5, strategy{rollingUpdate: true, allowsSurge: true, maxSurge: 1}, ""},
		{"maxSurge 20% of 7 rounds up", []setOpt{maxSurge("20%")}, 7,
			strategy{rollingUpdate: true, allowsSurge: true, maxSurge: 2}, ""},
		{"maxSurge 1% still allows surge", []setOpt{maxSurge("1%")}, 1,
			strategy{rollingUpdate: true, allowsSurge: true, maxSurge: 1}, ""},
		{"both 0 behave as maxUnavailable 1", []setOpt{rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) {
			ru.MaxSurge, ru.MaxUnavailable = intOrStr("0%"), intOrStr("0")
		})}, 5, strategy{rollingUpdate: true, maxUnavailable: 1}, ""},
		{"partition 40% of 5", []setOpt{partition("40%")}, 5,
			strategy{rollingUpdate: true, maxUnavailable: 1, partition: 2}, ""},
		{"partition capped at desired", []setOpt{partition("9")}, 5,
			strategy{rollingUpdate: true, maxUnavailable: 1, partition: 5}, ""},
		{"paused", []setOpt{paused()}, 5, strategy{rollingUpdate: true, maxUnavailable: 1, paused: true}, ""},
		{"malformed maxUnavailable", []setOpt{maxUnavailable("half")}, 5, strategy{}, `spec.updateStrategy.rollingUpdate.maxUnavailable: invalid value "half"`},
		{"negative partition", []setOpt{partition("-1")}, 5, strategy{}, `spec.updateStrategy.rollingUpdate.partition: invalid value "-1": must not be negative`},
		{"malformed maxSurge", []setOpt{maxSurge("x%")}, 5, strategy{}, `spec.updateStrategy.rollingUpdate.maxSurge: invalid value "x%"`},
		{"unknown type", []setOpt{func(s *v1alpha1.NodeAgentSet) { s.Spec.UpdateStrategy.Type = "Recreate" }}, 5, strategy{},
			`spec.updateStrategy.type: unsupported value "Recreate"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := resolveStrategy(newSet(tc.opts...), tc.desired)
			if tc.wantErr != "" {
				if !strings.Contains(got.invalid, tc.wantErr) {
					t.Fatalf("invalid = %q, want it to contain %q", got.invalid, tc.wantErr)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("strategy = %+v, want %+v", got, tc.want)
			}
		})
	}
}
