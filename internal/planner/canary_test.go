package planner

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

func canary(mutate func(c *v1alpha1.NodeAgentSetCanary)) setOpt {
	return rollingUpdate(func(ru *v1alpha1.RollingUpdateNodeAgentSet) {
		if ru.Canary == nil {
			ru.Canary = &v1alpha1.NodeAgentSetCanary{}
		}
		mutate(ru.Canary)
	})
}

// canaryOnLabel: the canary is every node labelled canary=true, validated for duration.
func canaryOnLabel(duration time.Duration) setOpt {
	return canary(func(c *v1alpha1.NodeAgentSetCanary) {
		c.NodeSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}
		c.Duration = &metav1.Duration{Duration: duration}
	})
}

func manualPromotion() setOpt {
	return canary(func(c *v1alpha1.NodeAgentSetCanary) { c.Promotion = v1alpha1.CanaryPromotionManual })
}

func abortOnFailure() setOpt {
	return canary(func(c *v1alpha1.NodeAgentSetCanary) { c.OnFailure = v1alpha1.CanaryFailureAbort })
}

// storedCanary is what an earlier pass wrote into status.canary.
func storedCanary(phase v1alpha1.CanaryPhase, revision string, startedAgo time.Duration) setOpt {
	return func(s *v1alpha1.NodeAgentSet) {
		s.Status.UpdateRevision = newRevision.Name
		s.Status.Canary = &v1alpha1.NodeAgentSetCanaryStatus{
			Revision: revision, Phase: phase, StartedAt: metav1.NewTime(t0.Add(-startedAgo)), Message: "stored",
		}
	}
}

func promoteAnnotation(revision string) setOpt {
	return func(s *v1alpha1.NodeAgentSet) {
		s.Annotations = map[string]string{v1alpha1.PromoteRevisionAnnotation: revision}
	}
}

func observed() setOpt {
	return func(s *v1alpha1.NodeAgentSet) { s.Status.ObservedGeneration = s.Generation }
}

// deadlineBase stores a progress deadline base for the update revision.
func deadlineBase(ago time.Duration) setOpt {
	return func(s *v1alpha1.NodeAgentSet) {
		s.Status.UpdateRevision = newRevision.Name
		base := metav1.NewTime(t0.Add(-ago))
		s.Status.ProgressDeadlineBase = &base
	}
}

func restarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "agent", RestartCount: n})
	}
}

func waiting(reason string) podOpt {
	return func(p *corev1.Pod) {
		setReady(p, corev1.ConditionFalse, t0.Add(-time.Minute))
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: "agent", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}},
		})
	}
}

func oomKilled() podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name:                 "agent",
			State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled"}},
		})
	}
}

// terminatedAgo records a container that last stopped d before t0 (a restart that did not flip Ready).
func terminatedAgo(d time.Duration) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: "agent",
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				Reason: "Error", FinishedAt: metav1.NewTime(t0.Add(-d)),
			}},
		})
	}
}

// canaryNodes: n1..n5, n2 and n4 labelled canary=true.
func canaryNodes() []*corev1.Node {
	return []*corev1.Node{node("n1"), node("n2", label("canary", "true")), node("n3"),
		node("n4", label("canary", "true")), node("n5")}
}

type canaryCase struct {
	name        string
	snap        Snapshot
	wantCreates []string // node:Reason@revision ("update" for the update revision)
	wantDeletes []string
	wantPhase   v1alpha1.CanaryPhase // "" for no status.canary
	wantConds   string
	wantMessage string // a substring of the Stalled or Ready message
	wantRequeue time.Duration
}

func runCanaryCases(t *testing.T, cases []canaryCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := Decide(tc.snap)
			var creates []string
			for _, c := range plan.Creates {
				rev := "update"
				if c.Revision != nil {
					rev = c.Revision.Name
				}
				creates = append(creates, fmt.Sprintf("%s:%s@%s", c.NodeName, c.Reason, rev))
			}
			_, deletes := summary(plan)
			if !reflect.DeepEqual(creates, tc.wantCreates) {
				t.Errorf("creates = %v, want %v", creates, tc.wantCreates)
			}
			if !reflect.DeepEqual(deletes, tc.wantDeletes) {
				t.Errorf("deletes = %v, want %v", deletes, tc.wantDeletes)
			}
			var phase v1alpha1.CanaryPhase
			if c := plan.Status.Canary; c != nil {
				phase = c.Phase
				if c.Revision != newRevision.Name {
					t.Errorf("canary revision = %q, want %q", c.Revision, newRevision.Name)
				}
			}
			if phase != tc.wantPhase {
				t.Errorf("canary phase = %q, want %q (canary %+v)", phase, tc.wantPhase, plan.Status.Canary)
			}
			if tc.wantConds != "" {
				if got := conditionsLine(plan.Status); got != tc.wantConds {
					t.Errorf("conditions = %s\n want %s", got, tc.wantConds)
				}
			}
			if tc.wantMessage != "" {
				stalled := condition(plan.Status, v1alpha1.ConditionStalled)
				ready := condition(plan.Status, v1alpha1.ConditionReady)
				if !strings.Contains(stalled.Message, tc.wantMessage) && !strings.Contains(ready.Message, tc.wantMessage) {
					t.Errorf("messages do not name %q:\n stalled: %s\n ready: %s", tc.wantMessage, stalled.Message, ready.Message)
				}
			}
			if tc.wantRequeue != 0 && plan.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeueAfter = %v, want %v", plan.RequeueAfter, tc.wantRequeue)
			}
			if again := Decide(tc.snap); !reflect.DeepEqual(again, plan) {
				t.Errorf("a second Decide on the same snapshot gave a different plan")
			}
		})
	}
}

const (
	condsCanaryRunning = "Ready=False/CanaryRunning Progressing=True/CanaryRunning Reconciling=True/CanaryRunning Stalled=False/CanaryRunning"
	condsCanaryFailed  = "Ready=False/CanaryFailed Progressing=False/CanaryFailed Reconciling=False/CanaryFailed Stalled=True/CanaryFailed"
	condsWaiting       = "Ready=False/CanaryWaitingForPromotion Progressing=False/CanaryWaitingForPromotion " +
		"Reconciling=False/CanaryWaitingForPromotion Stalled=False/CanaryWaitingForPromotion"
	condsRolling = "Ready=False/RollingUpdate Progressing=True/RollingUpdate Reconciling=True/RollingUpdate Stalled=False/RollingUpdate"
)

// healthyCanary: n2 and n4 run available pods of the update revision, ready for readyFor; the rest run old pods.
func healthyCanary(readyFor time.Duration, n2, n4 []podOpt) []*corev1.Pod {
	return concat(oldPods("n1", "n3", "n5"), []*corev1.Pod{
		pod("new-n2", "n2", newHash, append([]podOpt{readyAgo(readyFor)}, n2...)...),
		pod("new-n4", "n4", newHash, append([]podOpt{readyAgo(readyFor)}, n4...)...),
	})
}

func TestDecideCanary(t *testing.T) {
	running := storedCanary(v1alpha1.CanaryPhaseRunning, newRevision.Name, 20*time.Minute)
	cases := []canaryCase{
		{
			name:        "a new revision starts the canary on the canary nodes only",
			snap:        snapshot(newSet(observed(), canaryOnLabel(time.Minute)), canaryNodes(), oldPods("n1", "n2", "n3", "n4", "n5")...),
			wantDeletes: []string{"old-n2:RollingUpdate"},
			wantPhase:   v1alpha1.CanaryPhaseRunning,
			wantConds:   condsCanaryRunning,
		},
		{
			name: "canary node without a pod gets the update revision, other nodes the stable one",
			snap: snapshot(newSet(observed(), canaryOnLabel(time.Minute), running), canaryNodes(),
				pod("old-n1", "n1", oldHash), pod("old-n3", "n3", oldHash), pod("new-n4", "n4", newHash, notReady())),
			wantCreates: []string{"n2:NodeWithoutPod@update", "n5:NodeWithoutPod@agent-old111"},
			wantPhase:   v1alpha1.CanaryPhaseRunning,
		},
		{
			name: "an unavailable old pod off the canary is not replaced by the update revision",
			snap: snapshot(newSet(observed(), canaryOnLabel(time.Minute), running), canaryNodes(),
				concat(oldPods("n1", "n2", "n4", "n5"), []*corev1.Pod{pod("old-n3", "n3", oldHash, notReady())})...),
			wantPhase: v1alpha1.CanaryPhaseRunning,
		},
		{
			name:        "the canary validates for its duration, then passes",
			snap:        snapshot(newSet(observed(), canaryOnLabel(5*time.Minute), running), canaryNodes(), healthyCanary(2*time.Minute, nil, nil)...),
			wantPhase:   v1alpha1.CanaryPhaseRunning,
			wantConds:   condsCanaryRunning,
			wantRequeue: 3 * time.Minute,
		},
		{
			name:        "a passed canary lets the rollout go on",
			snap:        snapshot(newSet(observed(), canaryOnLabel(5*time.Minute), running), canaryNodes(), healthyCanary(10*time.Minute, nil, nil)...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
			wantPhase:   v1alpha1.CanaryPhasePassed,
			wantConds:   condsRolling,
		},
		{
			name: "a container restart restarts the validation window",
			snap: snapshot(newSet(observed(), canaryOnLabel(5*time.Minute), running), canaryNodes(),
				healthyCanary(10*time.Minute, []podOpt{terminatedAgo(time.Minute)}, nil)...),
			wantPhase:   v1alpha1.CanaryPhaseRunning,
			wantRequeue: 4 * time.Minute,
		},
		{
			name: "maxRestarts restarts fail the canary and hold the rollout",
			snap: snapshot(newSet(observed(), canaryOnLabel(5*time.Minute), running), canaryNodes(),
				healthyCanary(10*time.Minute, nil, []podOpt{restarts(2)})...),
			wantPhase:   v1alpha1.CanaryPhaseFailed,
			wantConds:   condsCanaryFailed,
			wantMessage: "1 pod of revision agent-new222: restarted 2 times on n4",
		},
		{
			name: "fewer restarts than maxRestarts do not fail it",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), running), canaryNodes(),
				healthyCanary(10*time.Minute, nil, []podOpt{restarts(1)})...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
			wantPhase:   v1alpha1.CanaryPhasePassed,
		},
		{
			name: "OOMKilled fails the canary",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), running), canaryNodes(),
				healthyCanary(10*time.Minute, []podOpt{oomKilled()}, nil)...),
			wantPhase:   v1alpha1.CanaryPhaseFailed,
			wantMessage: "OOMKilled on n2",
		},
		{
			name: "an unschedulable canary pod fails the canary",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), running), canaryNodes(),
				concat(oldPods("n1", "n3", "n4", "n5"), []*corev1.Pod{pod("new-n2", "n2", newHash, pending(), unschedulable("0/5 nodes are available"))})...),
			wantPhase:   v1alpha1.CanaryPhaseFailed,
			wantMessage: "Unschedulable on n2",
		},
		{
			name: "a failed canary stays failed when its pods recover",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), storedCanary(v1alpha1.CanaryPhaseFailed, newRevision.Name, time.Hour)),
				canaryNodes(), healthyCanary(10*time.Minute, nil, nil)...),
			wantPhase: v1alpha1.CanaryPhaseFailed,
			wantConds: condsCanaryFailed,
		},
		{
			name: "a new revision starts a new canary after a failed one",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), storedCanary(v1alpha1.CanaryPhaseFailed, "agent-older", time.Hour)),
				canaryNodes(), oldPods("n1", "n2", "n3", "n4", "n5")...),
			wantDeletes: []string{"old-n2:RollingUpdate"},
			wantPhase:   v1alpha1.CanaryPhaseRunning,
		},
		{
			name: "the promote annotation overrides a paused failure",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), storedCanary(v1alpha1.CanaryPhaseFailed, newRevision.Name, time.Hour),
				promoteAnnotation(newRevision.Name)), canaryNodes(), healthyCanary(10*time.Minute, nil, nil)...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
			wantPhase:   v1alpha1.CanaryPhasePassed,
		},
		{
			name:      "manual promotion waits for the annotation",
			snap:      snapshot(newSet(observed(), canaryOnLabel(0), manualPromotion(), running), canaryNodes(), healthyCanary(10*time.Minute, nil, nil)...),
			wantPhase: v1alpha1.CanaryPhaseWaitingForPromotion,
			wantConds: condsWaiting,
		},
		{
			name: "an annotation naming another revision does not promote",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), manualPromotion(), storedCanary(v1alpha1.CanaryPhaseWaitingForPromotion, newRevision.Name, time.Hour),
				promoteAnnotation(oldRevision.Name)), canaryNodes(), healthyCanary(10*time.Minute, nil, nil)...),
			wantPhase: v1alpha1.CanaryPhaseWaitingForPromotion,
		},
		{
			name: "the annotation naming the update revision promotes",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), manualPromotion(), storedCanary(v1alpha1.CanaryPhaseWaitingForPromotion, newRevision.Name, time.Hour),
				promoteAnnotation(newRevision.Name)), canaryNodes(), healthyCanary(10*time.Minute, nil, nil)...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
			wantPhase:   v1alpha1.CanaryPhasePassed,
		},
		{
			name: "abort deletes the unavailable canary pod at once and keeps the budget for the available one",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), abortOnFailure(), storedCanary(v1alpha1.CanaryPhaseFailed, newRevision.Name, time.Hour)),
				canaryNodes(), healthyCanary(10*time.Minute, []podOpt{waiting("CrashLoopBackOff")}, nil)...),
			wantDeletes: []string{"new-n2:CanaryAborted"},
			wantPhase:   v1alpha1.CanaryPhaseFailed,
			wantMessage: "1 pod of revision agent-new222: CrashLoopBackOff on n2",
		},
		{
			name: "abort puts a canary node without a pod back on the stable revision",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), abortOnFailure(), storedCanary(v1alpha1.CanaryPhaseFailed, newRevision.Name, time.Hour)),
				canaryNodes(), concat(oldPods("n1", "n3", "n5"), []*corev1.Pod{pod("new-n4", "n4", newHash)})...),
			wantCreates: []string{"n2:NodeWithoutPod@agent-old111"},
			wantPhase:   v1alpha1.CanaryPhaseFailed,
		},
		{
			name: "abort replaces an available canary pod once the other nodes are available",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), abortOnFailure(), storedCanary(v1alpha1.CanaryPhaseFailed, newRevision.Name, time.Hour)),
				canaryNodes(), concat(oldPods("n1", "n2", "n3", "n5"), []*corev1.Pod{pod("new-n4", "n4", newHash)})...),
			wantDeletes: []string{"new-n4:CanaryAborted"},
			wantPhase:   v1alpha1.CanaryPhaseFailed,
		},
		{
			name:      "no matching node: nothing is updated and the set is stalled",
			snap:      snapshot(newSet(observed(), canaryOnLabel(0)), nodes("n1", "n2"), oldPods("n1", "n2")...),
			wantPhase: v1alpha1.CanaryPhaseRunning,
			wantConds: "Ready=False/CanaryNoNodes Progressing=False/CanaryNoNodes Reconciling=False/CanaryNoNodes Stalled=True/CanaryNoNodes",
		},
		{
			name: "without a node selector the canary is one node, the first by name",
			snap: snapshot(newSet(observed(), canary(func(*v1alpha1.NodeAgentSetCanary) {})), canaryNodes(),
				oldPods("n1", "n2", "n3", "n4", "n5")...),
			wantDeletes: []string{"old-n1:RollingUpdate"},
			wantPhase:   v1alpha1.CanaryPhaseRunning,
		},
		{
			name: "a new set has no canary",
			snap: snapshot(newSet(observed(), canaryOnLabel(0)), canaryNodes()),
			wantCreates: []string{"n1:NodeWithoutPod@update", "n2:NodeWithoutPod@update", "n3:NodeWithoutPod@update",
				"n4:NodeWithoutPod@update", "n5:NodeWithoutPod@update"},
		},
	}
	for _, reason := range []string{"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
		"CreateContainerConfigError", "CreateContainerError", "RunContainerError"} {
		cases = append(cases, canaryCase{
			name: "waiting reason " + reason + " fails the canary",
			snap: snapshot(newSet(observed(), canaryOnLabel(0), running), canaryNodes(),
				healthyCanary(10*time.Minute, []podOpt{waiting(reason)}, []podOpt{waiting(reason)})...),
			wantPhase:   v1alpha1.CanaryPhaseFailed,
			wantConds:   condsCanaryFailed,
			wantMessage: "2 pods of revision agent-new222: " + reason + " on n2, n4",
		})
	}
	runCanaryCases(t, cases)
}

func TestDecideProgressDeadline(t *testing.T) {
	const exceeded = "Ready=False/RollingUpdate Progressing=False/ProgressDeadlineExceeded " +
		"Reconciling=False/ProgressDeadlineExceeded Stalled=True/ProgressDeadlineExceeded"
	// A rollout stuck on n1: its new pod never becomes ready.
	stuck := concat([]*corev1.Pod{pod("new-n1", "n1", newHash, notReady())}, oldPods("n2", "n3"))
	cases := []struct {
		name        string
		snap        Snapshot
		wantConds   string
		wantBase    *time.Time
		wantRequeue time.Duration
	}{
		{
			name:        "a rollout starts its deadline now",
			snap:        snapshot(newSet(observed()), nodes("n1", "n2", "n3"), stuck...),
			wantConds:   condsRolling,
			wantBase:    &t0,
			wantRequeue: 10 * time.Minute,
		},
		{
			name:      "no progress for longer than the deadline",
			snap:      snapshot(newSet(observed(), deadlineBase(11*time.Minute)), nodes("n1", "n2", "n3"), stuck...),
			wantConds: exceeded,
			wantBase:  timeRef(t0.Add(-11 * time.Minute)),
		},
		{
			name: "a shorter deadline from the spec",
			snap: snapshot(newSet(observed(), deadlineBase(time.Minute), func(s *v1alpha1.NodeAgentSet) {
				s.Spec.ProgressDeadlineSeconds = new(int32)
				*s.Spec.ProgressDeadlineSeconds = 30
			}), nodes("n1", "n2", "n3"), stuck...),
			wantConds: exceeded,
			wantBase:  timeRef(t0.Add(-time.Minute)),
		},
		{
			name: "a pod becoming available moves the base",
			snap: snapshot(newSet(observed(), deadlineBase(11*time.Minute)), nodes("n1", "n2", "n3"),
				concat([]*corev1.Pod{pod("new-n1", "n1", newHash, readyAgo(time.Minute))}, oldPods("n2", "n3"))...),
			wantBase:    timeRef(t0.Add(-time.Minute)),
			wantRequeue: 9 * time.Minute,
		},
		{
			name:      "paused time does not count",
			snap:      snapshot(newSet(observed(), deadlineBase(11*time.Minute), paused()), nodes("n1", "n2", "n3"), stuck...),
			wantConds: "Ready=False/RolloutPaused Progressing=False/RolloutPaused Reconciling=True/RolloutPaused Stalled=False/RolloutPaused",
		},
		{
			name:        "resuming starts the deadline afresh",
			snap:        snapshot(newSet(observed(), func(s *v1alpha1.NodeAgentSet) { s.Status.UpdateRevision = newRevision.Name }), nodes("n1", "n2", "n3"), stuck...),
			wantConds:   condsRolling,
			wantBase:    &t0,
			wantRequeue: 10 * time.Minute,
		},
		{
			name: "a partition holding the rest does not count",
			snap: snapshot(newSet(observed(), deadlineBase(11*time.Minute), partition("2")), nodes("n1", "n2", "n3"),
				concat([]*corev1.Pod{pod("new-n1", "n1", newHash)}, oldPods("n2", "n3"))...),
			wantConds: "Ready=True/Partitioned Progressing=True/Partitioned Reconciling=False/Partitioned Stalled=False/Partitioned",
		},
		{
			name: "waiting for a manual promotion does not count",
			snap: snapshot(newSet(observed(), deadlineBase(11*time.Minute), canaryOnLabel(0), manualPromotion(),
				storedCanary(v1alpha1.CanaryPhaseWaitingForPromotion, newRevision.Name, time.Hour)), canaryNodes(), healthyCanary(time.Hour, nil, nil)...),
			wantConds: condsWaiting,
		},
		{
			name: "a canary that waits only for its duration does not count",
			snap: snapshot(newSet(observed(), deadlineBase(11*time.Minute), canaryOnLabel(time.Hour),
				storedCanary(v1alpha1.CanaryPhaseRunning, newRevision.Name, time.Hour)), canaryNodes(), healthyCanary(30*time.Minute, nil, nil)...),
			wantConds:   condsCanaryRunning,
			wantRequeue: 30 * time.Minute,
		},
		{
			name: "a canary stuck on a pending pod exceeds the deadline",
			snap: snapshot(newSet(observed(), deadlineBase(11*time.Minute), canaryOnLabel(0),
				storedCanary(v1alpha1.CanaryPhaseRunning, newRevision.Name, time.Hour)), canaryNodes(),
				concat(oldPods("n1", "n3", "n4", "n5"), []*corev1.Pod{pod("new-n2", "n2", newHash, pending())})...),
			wantConds: "Ready=False/CanaryRunning Progressing=False/ProgressDeadlineExceeded " +
				"Reconciling=False/ProgressDeadlineExceeded Stalled=True/ProgressDeadlineExceeded",
			wantBase: timeRef(t0.Add(-11 * time.Minute)),
		},
		{
			name: "a complete rollout never exceeds it",
			snap: snapshot(newSet(observed(), deadlineBase(time.Hour)), nodes("n1", "n2"),
				pod("new-n1", "n1", newHash), pod("new-n2", "n2", newHash)),
			wantConds: "Ready=True/RolloutComplete Progressing=True/RolloutComplete Reconciling=False/RolloutComplete Stalled=False/RolloutComplete",
		},
		{
			name: "a complete set that later loses a pod does not start the deadline",
			snap: snapshot(newSet(observed(), func(s *v1alpha1.NodeAgentSet) { s.Status.UpdateRevision = newRevision.Name }), nodes("n1", "n2"),
				pod("new-n1", "n1", newHash), pod("new-n2", "n2", newHash, notReady())),
			wantConds: "Ready=False/PodsUnavailable Progressing=True/PodsUnavailable Reconciling=True/PodsUnavailable Stalled=False/PodsUnavailable",
		},
		{
			name: "the tail of a rollout, old pods gone and a new one not available, keeps counting",
			snap: snapshot(newSet(observed(), deadlineBase(11*time.Minute)), nodes("n1", "n2"),
				pod("new-n1", "n1", newHash), pod("new-n2", "n2", newHash, notReady())),
			wantBase: timeRef(t0.Add(-11 * time.Minute)),
			wantConds: "Ready=False/PodsUnavailable Progressing=False/ProgressDeadlineExceeded " +
				"Reconciling=False/ProgressDeadlineExceeded Stalled=True/ProgressDeadlineExceeded",
		},
		{
			name:        "a base stored for another revision is a new rollout's",
			snap:        snapshot(newSet(observed(), deadlineBase(time.Hour), func(s *v1alpha1.NodeAgentSet) { s.Status.UpdateRevision = "agent-older" }), nodes("n1", "n2", "n3"), stuck...),
			wantConds:   condsRolling,
			wantBase:    &t0,
			wantRequeue: 10 * time.Minute,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := Decide(tc.snap)
			if tc.wantConds != "" {
				if got := conditionsLine(plan.Status); got != tc.wantConds {
					t.Errorf("conditions = %s\n want %s", got, tc.wantConds)
				}
			}
			got := plan.Status.ProgressDeadlineBase
			switch {
			case tc.wantBase == nil && got != nil:
				t.Errorf("progressDeadlineBase = %v, want unset", got)
			case tc.wantBase != nil && (got == nil || !got.Time.Equal(*tc.wantBase)):
				t.Errorf("progressDeadlineBase = %v, want %v", got, *tc.wantBase)
			}
			if tc.wantRequeue != 0 && plan.RequeueAfter != tc.wantRequeue {
				t.Errorf("requeueAfter = %v, want %v", plan.RequeueAfter, tc.wantRequeue)
			}
		})
	}
}

func timeRef(t time.Time) *time.Time { return &t }

func TestDescribeFailuresNamesAFewNodesPerReason(t *testing.T) {
	var failures []podFailure
	for _, n := range []string{"n5", "n1", "n4", "n2", "n3"} {
		failures = append(failures, podFailure{reason: "CrashLoopBackOff", node: n})
	}
	failures = append(failures, podFailure{reason: "ImagePullBackOff", node: "n9"})
	got := describeFailures("agent-6b7c9d", failures)
	want := "6 pods of revision agent-6b7c9d: CrashLoopBackOff on n1, n2, n3 and 2 more; ImagePullBackOff on n9"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
