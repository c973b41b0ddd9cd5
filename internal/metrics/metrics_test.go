package metrics

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func setWithStatus(namespace, name string, status v1alpha1.NodeAgentSetStatus) *v1alpha1.NodeAgentSet {
	return &v1alpha1.NodeAgentSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Status:     status,
	}
}

// gaugeExposition is the text format testutil compares against, for one set and the six status gauges.
func gaugeExposition(namespace, name string, desired, current, ready, updated, available, misscheduled int) string {
	var b strings.Builder
	line := func(metric, help string, v int) {
		b.WriteString("# HELP " + metric + " " + help + "\n")
		b.WriteString("# TYPE " + metric + " gauge\n")
		b.WriteString(metric + `{name="` + name + `",namespace="` + namespace + `"} ` + strconv.Itoa(v) + "\n")
	}
	line(CurrentNumberScheduledName,
		"Number of eligible nodes running at least one of the NodeAgentSet's pods (status.currentNumberScheduled).", current)
	line(DesiredNumberScheduledName,
		"Number of nodes that should run the NodeAgentSet's pod (status.desiredNumberScheduled).", desired)
	line(NumberAvailableName,
		"Number of eligible nodes whose pod has been ready for minReadySeconds (status.numberAvailable).", available)
	line(NumberMisscheduledName,
		"Number of nodes running the NodeAgentSet's pod that should not run it (status.numberMisscheduled).", misscheduled)
	line(NumberReadyName, "Number of eligible nodes whose NodeAgentSet pod is ready (status.numberReady).", ready)
	line(UpdatedNumberScheduledName,
		"Number of eligible nodes running a pod of the update revision (status.updatedNumberScheduled).", updated)
	return b.String()
}

var gaugeNames = []string{
	CurrentNumberScheduledName, DesiredNumberScheduledName, NumberAvailableName,
	NumberMisscheduledName, NumberReadyName, UpdatedNumberScheduledName,
}

func resetAll() {
	for _, g := range statusGauges {
		g.gauge.Reset()
	}
	rolloutDuration.Reset()
}

func TestRecordStatus(t *testing.T) {
	tests := []struct {
		name   string
		status v1alpha1.NodeAgentSetStatus
		want   string
	}{
		{
			name: "rollout in progress reports every status count",
			status: v1alpha1.NodeAgentSetStatus{
				DesiredNumberScheduled: 5, CurrentNumberScheduled: 4, NumberReady: 3,
				UpdatedNumberScheduled: 2, NumberAvailable: 3, NumberMisscheduled: 1,
			},
			want: gaugeExposition("agents", "fluentd", 5, 4, 3, 2, 3, 1),
		},
		{
			name:   "empty status reports zeros rather than no series",
			status: v1alpha1.NodeAgentSetStatus{},
			want:   gaugeExposition("agents", "fluentd", 0, 0, 0, 0, 0, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resetAll()
			RecordStatus(setWithStatus("agents", "fluentd", tt.status))
			if err := testutil.GatherAndCompare(gatherer(), strings.NewReader(tt.want), gaugeNames...); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRecordStatusOverwritesPreviousValues(t *testing.T) {
	resetAll()
	RecordStatus(setWithStatus("agents", "fluentd", v1alpha1.NodeAgentSetStatus{DesiredNumberScheduled: 3}))
	RecordStatus(setWithStatus("agents", "fluentd", v1alpha1.NodeAgentSetStatus{DesiredNumberScheduled: 7}))
	got := testutil.ToFloat64(desiredNumberScheduled.WithLabelValues("agents", "fluentd"))
	if got != 7 {
		t.Fatalf("desired gauge = %v, want 7", got)
	}
}

func TestRecordStatusNilSetIsIgnored(t *testing.T) {
	resetAll()
	RecordStatus(nil)
	if n := testutil.CollectAndCount(desiredNumberScheduled); n != 0 {
		t.Fatalf("series after RecordStatus(nil) = %d, want 0", n)
	}
}

func TestForgetRemovesOnlyThatSetsSeries(t *testing.T) {
	resetAll()
	RecordStatus(setWithStatus("agents", "fluentd", v1alpha1.NodeAgentSetStatus{DesiredNumberScheduled: 3}))
	RecordStatus(setWithStatus("agents", "node-exporter", v1alpha1.NodeAgentSetStatus{DesiredNumberScheduled: 3}))
	RecordStatus(setWithStatus("other", "fluentd", v1alpha1.NodeAgentSetStatus{DesiredNumberScheduled: 3}))
	ObserveRolloutDuration("agents", "fluentd", 90)
	ObserveRolloutDuration("other", "fluentd", 90)

	Forget("agents", "fluentd")

	for _, g := range statusGauges {
		if n := testutil.CollectAndCount(g.gauge); n != 2 {
			t.Errorf("series left in a gauge = %d, want 2 (the two other sets)", n)
		}
	}
	if n := testutil.CollectAndCount(rolloutDuration); n != 1 {
		t.Errorf("rollout histograms left = %d, want 1 (the other namespace's set)", n)
	}
	if err := testutil.CollectAndCompare(desiredNumberScheduled, strings.NewReader(`
# HELP nodeagentset_status_desired_number_scheduled Number of nodes that should run the NodeAgentSet's pod (status.desiredNumberScheduled).
# TYPE nodeagentset_status_desired_number_scheduled gauge
nodeagentset_status_desired_number_scheduled{name="fluentd",namespace="other"} 3
nodeagentset_status_desired_number_scheduled{name="node-exporter",namespace="agents"} 3
`)); err != nil {
		t.Fatal(err)
	}
}

func TestForgetUnknownSetIsANoop(t *testing.T) {
	resetAll()
	Forget("nowhere", "nothing")
}

func TestObserveRolloutDurationFillsBuckets(t *testing.T) {
	resetAll()
	ObserveRolloutDuration("agents", "fluentd", 45)    // a small cluster
	ObserveRolloutDuration("agents", "fluentd", 5400)  // an hour and a half
	ObserveRolloutDuration("agents", "fluentd", 90000) // beyond a day: only +Inf
	want := `
# HELP nodeagentset_rollout_duration_seconds Seconds from a new update revision to every eligible node running an available pod of it.
# TYPE nodeagentset_rollout_duration_seconds histogram
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="30"} 0
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="60"} 1
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="120"} 1
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="300"} 1
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="600"} 1
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="900"} 1
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="1800"} 1
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="3600"} 1
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="7200"} 2
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="14400"} 2
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="28800"} 2
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="86400"} 2
nodeagentset_rollout_duration_seconds_bucket{name="fluentd",namespace="agents",le="+Inf"} 3
nodeagentset_rollout_duration_seconds_sum{name="fluentd",namespace="agents"} 95445
nodeagentset_rollout_duration_seconds_count{name="fluentd",namespace="agents"} 3
`
	if err := testutil.CollectAndCompare(rolloutDuration, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsAreOnTheManagersRegistry checks that the manager's /metrics serves them: controller-runtime serves
// exactly ctrlmetrics.Registry.
func TestMetricsAreOnTheManagersRegistry(t *testing.T) {
	resetAll()
	RecordStatus(setWithStatus("agents", "fluentd", v1alpha1.NodeAgentSetStatus{DesiredNumberScheduled: 1}))
	ObserveRolloutDuration("agents", "fluentd", 1)
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		found[f.GetName()] = true
	}
	for _, name := range append(append([]string{}, gaugeNames...), RolloutDurationName) {
		if !found[name] {
			t.Errorf("metric %s is not on controller-runtime's registry", name)
		}
	}
	for name := range found {
		if strings.HasPrefix(name, "nodeagentset_") && !slices.Contains(gaugeNames, name) && name != RolloutDurationName {
			t.Errorf("unexpected metric %s: add it to docs/metrics.md and this test", name)
		}
	}
}

func gatherer() prometheus.Gatherer { return ctrlmetrics.Registry }

func TestRolloutCompletedReadsTheReadyCondition(t *testing.T) {
	status := func(rev string, ready metav1.ConditionStatus, reason string) v1alpha1.NodeAgentSetStatus {
		return v1alpha1.NodeAgentSetStatus{ObservedGeneration: 3, UpdateRevision: rev,
			// Counters that look complete must not matter: the judgement is the condition's.
			DesiredNumberScheduled: 2, UpdatedNumberScheduled: 2, NumberAvailable: 2,
			Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: ready, Reason: reason, ObservedGeneration: 3}}}
	}
	rolling := status("agent-2", metav1.ConditionFalse, v1alpha1.ReasonRollingUpdate)
	done := status("agent-2", metav1.ConditionTrue, v1alpha1.ReasonRolloutComplete)
	cases := []struct {
		name         string
		stored, next v1alpha1.NodeAgentSetStatus
		want         bool
	}{
		{"rolling to complete", rolling, done, true},
		{"complete stays complete", done, done, false},
		{"still rolling", rolling, rolling, false},
		{"complete for a new revision", status("agent-1", metav1.ConditionTrue, v1alpha1.ReasonRolloutComplete), done, true},
		{"partitioned is not complete", rolling, status("agent-2", metav1.ConditionTrue, v1alpha1.ReasonPartitioned), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RolloutCompleted(tc.stored, tc.next); got != tc.want {
				t.Errorf("RolloutCompleted = %v, want %v", got, tc.want)
			}
		})
	}
}
