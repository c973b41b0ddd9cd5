package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Metric names. Each per-set gauge is the status field of the same meaning, so dashboards and alerts can compare
// them the way `kubectl get nas` does (for example desired minus available).
const (
	DesiredNumberScheduledName = "nodeagentset_status_desired_number_scheduled"
	CurrentNumberScheduledName = "nodeagentset_status_current_number_scheduled"
	NumberReadyName            = "nodeagentset_status_number_ready"
	UpdatedNumberScheduledName = "nodeagentset_status_updated_number_scheduled"
	NumberAvailableName        = "nodeagentset_status_number_available"
	NumberMisscheduledName     = "nodeagentset_status_number_misscheduled"
	RolloutDurationName        = "nodeagentset_rollout_duration_seconds"
)

// Label names on every series.
const (
	LabelNamespace = "namespace"
	LabelName      = "name"
)

// RolloutDurationBuckets spans the rollouts a node agent sees: a handful of nodes done in a minute up to thousands
// of nodes with minReadySeconds, or a paused and resumed rollout, taking most of a day.
var RolloutDurationBuckets = []float64{
	30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400,
}

var setLabels = []string{LabelNamespace, LabelName}

var (
	desiredNumberScheduled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: DesiredNumberScheduledName,
		Help: "Number of nodes that should run the NodeAgentSet's pod (status.desiredNumberScheduled).",
	}, setLabels)
	currentNumberScheduled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: CurrentNumberScheduledName,
		Help: "Number of eligible nodes running at least one of the NodeAgentSet's pods (status.currentNumberScheduled).",
	}, setLabels)
	numberReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: NumberReadyName,
		Help: "Number of eligible nodes whose NodeAgentSet pod is ready (status.numberReady).",
	}, setLabels)
	updatedNumberScheduled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: UpdatedNumberScheduledName,
		Help: "Number of eligible nodes running a pod of the update revision (status.updatedNumberScheduled).",
	}, setLabels)
	numberAvailable = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: NumberAvailableName,
		Help: "Number of eligible nodes whose pod has been ready for minReadySeconds (status.numberAvailable).",
	}, setLabels)
	numberMisscheduled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: NumberMisscheduledName,
		Help: "Number of nodes running the NodeAgentSet's pod that should not run it (status.numberMisscheduled).",
	}, setLabels)
	rolloutDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    RolloutDurationName,
		Help:    "Seconds from a new update revision to every eligible node running an available pod of it.",
		Buckets: RolloutDurationBuckets,
	}, setLabels)
)

// statusGauges pairs each per-set gauge with the status field it mirrors.
var statusGauges = []struct {
	gauge *prometheus.GaugeVec
	value func(*v1alpha1.NodeAgentSetStatus) int32
}{
	{desiredNumberScheduled, func(s *v1alpha1.NodeAgentSetStatus) int32 { return s.DesiredNumberScheduled }},
	{currentNumberScheduled, func(s *v1alpha1.NodeAgentSetStatus) int32 { return s.CurrentNumberScheduled }},
	{numberReady, func(s *v1alpha1.NodeAgentSetStatus) int32 { return s.NumberReady }},
	{updatedNumberScheduled, func(s *v1alpha1.NodeAgentSetStatus) int32 { return s.UpdatedNumberScheduled }},
	{numberAvailable, func(s *v1alpha1.NodeAgentSetStatus) int32 { return s.NumberAvailable }},
	{numberMisscheduled, func(s *v1alpha1.NodeAgentSetStatus) int32 { return s.NumberMisscheduled }},
}

// Collectors are all of this package's metrics, in a fixed order.
func Collectors() []prometheus.Collector {
	cs := make([]prometheus.Collector, 0, len(statusGauges)+1)
	for _, g := range statusGauges {
		cs = append(cs, g.gauge)
	}
	return append(cs, rolloutDuration)
}

func init() {
	ctrlmetrics.Registry.MustRegister(Collectors()...)
}

// RecordStatus sets the set's gauges from its status. A nil set records nothing.
func RecordStatus(set *v1alpha1.NodeAgentSet) {
	if set == nil {
		return
	}
	for _, g := range statusGauges {
		g.gauge.WithLabelValues(set.Namespace, set.Name).Set(float64(g.value(&set.Status)))
	}
}

// Forget deletes every series of the set, so a deleted set stops being reported instead of freezing at its last
// values.
func Forget(namespace, name string) {
	labels := prometheus.Labels{LabelNamespace: namespace, LabelName: name}
	for _, g := range statusGauges {
		g.gauge.Delete(labels)
	}
	rolloutDuration.Delete(labels)
}

// ObserveRolloutDuration records how long one of the set's rollouts took, in seconds.
func ObserveRolloutDuration(namespace, name string, seconds float64) {
	rolloutDuration.WithLabelValues(namespace, name).Observe(seconds)
}

// RolloutCompleted reports whether going from the stored status to next completes a rollout: next's Ready condition
// says RolloutComplete and the stored one did not say so for the same update revision. The judgement is the
// conditions' (the planner's), never recomputed here from the counters.
func RolloutCompleted(stored, next v1alpha1.NodeAgentSetStatus) bool {
	if !rolloutComplete(next) {
		return false
	}
	return !rolloutComplete(stored) || stored.UpdateRevision != next.UpdateRevision
}

func rolloutComplete(status v1alpha1.NodeAgentSetStatus) bool {
	ready := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue && ready.Reason == v1alpha1.ReasonRolloutComplete &&
		ready.ObservedGeneration == status.ObservedGeneration
}
