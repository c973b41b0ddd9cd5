package planner

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// canarySim is a simulation whose nodes n02 and n05 carry canary=true, with the canary on those nodes.
func canarySim(t *testing.T, seed int64, surge bool, opts ...setOpt) *sim {
	bound := maxUnavailable("1")
	if surge {
		bound = maxSurge("1")
	}
	s := newSim(t, seed, simNodes, append([]setOpt{bound}, opts...)...)
	for _, i := range []int{1, 4} {
		s.nodes[i].Labels["canary"] = "true"
	}
	s.bounds = bounds{surge: surge}
	return s
}

func (s *sim) canaryBounds(surge bool, duration time.Duration, manual bool) bounds {
	unavailable := 1
	if surge {
		unavailable = 0
	}
	return bounds{surge: surge, rollout: true, maxUnavailable: unavailable, maxSurge: 1,
		canaryNodes: map[string]bool{"n02": true, "n05": true}, canaryDuration: duration, manual: manual}
}

func (s *sim) canaryPhase() v1alpha1.CanaryPhase {
	if c := s.set.Status.Canary; c != nil && c.Revision == s.update.Name {
		return c.Phase
	}
	return ""
}

func (s *sim) phaseIs(phase v1alpha1.CanaryPhase) func() bool {
	return func() bool { return s.canaryPhase() == phase }
}

func TestSimulationCanaryPasses(t *testing.T) {
	for _, surge := range []bool{false, true} {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("surge %v/seed %d", surge, seed), func(t *testing.T) {
				s := canarySim(t, seed, surge, canaryOnLabel(3*time.Second), minReady(1))
				s.startRollout()
				s.bounds = s.canaryBounds(surge, 3*time.Second, false)
				// A node joins while the canary runs: it gets the stable revision, which the containment check
				// verifies on every step.
				for i := 0; i < 5; i++ {
					s.step()
				}
				s.nodes = append(s.nodes, node("n99"))
				// The new node lacks an available pod until its first one starts, through no doing of the update.
				s.bounds.maxUnavailable++
				s.runUntil("rollout complete", 6000, s.converged(len(s.nodes)))
				if s.canaryPassedAt.IsZero() {
					s.fail("the rollout completed but the oracle never saw the canary pass")
				}
				s.expectConditions(completeLine)
				if got := s.canaryPhase(); got != v1alpha1.CanaryPhasePassed {
					s.fail("canary phase = %q, want Passed", got)
				}
			})
		}
	}
}

func TestSimulationCanaryManualPromotion(t *testing.T) {
	for _, surge := range []bool{false, true} {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("surge %v/seed %d", surge, seed), func(t *testing.T) {
				s := canarySim(t, seed, surge, canaryOnLabel(time.Second), manualPromotion())
				s.startRollout()
				s.bounds = s.canaryBounds(surge, time.Second, true)
				s.runUntil("waiting for promotion", 4000, s.phaseIs(v1alpha1.CanaryPhaseWaitingForPromotion))
				for i := 0; i < 300; i++ {
					s.step()
				}
				if got := s.canaryPhase(); got != v1alpha1.CanaryPhaseWaitingForPromotion {
					s.fail("canary phase = %q, want WaitingForPromotion until promoted", got)
				}
				s.set.Annotations = map[string]string{v1alpha1.PromoteRevisionAnnotation: s.update.Name}
				s.bounds.promoted = true
				s.runUntil("rollout complete", 5000, s.converged(simNodes))
				s.expectConditions(completeLine)
			})
		}
	}
}

func TestSimulationCanaryFails(t *testing.T) {
	for _, abort := range []bool{false, true} {
		for _, surge := range []bool{false, true} {
			for _, seed := range simSeeds {
				t.Run(fmt.Sprintf("abort %v/surge %v/seed %d", abort, surge, seed), func(t *testing.T) {
					opts := []setOpt{canaryOnLabel(time.Second), canary(func(c *v1alpha1.NodeAgentSetCanary) {
						c.Replicas = intOrStr("100%")
					})}
					if abort {
						opts = append(opts, abortOnFailure())
					}
					s := canarySim(t, seed, surge, opts...)
					s.runUntil("initial pods", 3000, s.converged(simNodes))
					s.expectConditions(completeLine)
					stable := revisionHash(s.update)
					s.broken["rev2"] = true
					s.changeTemplate("agent:broken")
					s.bounds = s.canaryBounds(surge, time.Second, false)
					s.runUntil("canary failed", 4000, s.phaseIs(v1alpha1.CanaryPhaseFailed))
					if !abort {
						for i := 0; i < 300; i++ {
							s.step()
						}
						if got := s.canaryPhase(); got != v1alpha1.CanaryPhaseFailed {
							s.fail("canary phase = %q, want Failed to stay", got)
						}
						if stalled := condition(s.set.Status, v1alpha1.ConditionStalled); stalled.Reason != v1alpha1.ReasonCanaryFailed {
							s.fail("Stalled reason = %q, want CanaryFailed", stalled.Reason)
						}
						return
					}
					// Abort: every node, the canary nodes included, is back on the stable revision.
					s.runUntil("canary nodes back on the stable revision", 4000, s.converged(0))
					for _, n := range s.nodes {
						for _, p := range s.nodePods()[n.Name] {
							if got := p.pod.Labels[v1alpha1.ControllerRevisionHashLabel]; got != stable {
								s.fail("node %s runs %s of revision %s after the abort, want %s", n.Name, p.pod.Name, got, stable)
							}
						}
					}
					line := s.settle()
					if want := "Ready=False/CanaryFailed Progressing=False/CanaryFailed Reconciling=False/CanaryFailed Stalled=True/CanaryFailed"; line != want {
						s.fail("conditions after the abort:\n got  %s\n want %s", line, want)
					}
				})
			}
		}
	}
}

func TestSimulationProgressDeadline(t *testing.T) {
	const deadline = 60
	for _, surge := range []bool{false, true} {
		for _, seed := range simSeeds {
			t.Run(fmt.Sprintf("surge %v/seed %d", surge, seed), func(t *testing.T) {
				bound := maxUnavailable("1")
				if surge {
					bound = maxSurge("1")
				}
				s := newSim(t, seed, simNodes, bound, func(set *v1alpha1.NodeAgentSet) {
					set.Spec.ProgressDeadlineSeconds = new(int32)
					*set.Spec.ProgressDeadlineSeconds = deadline
				})
				s.bounds = bounds{surge: surge}
				s.runUntil("initial pods", 3000, s.converged(simNodes))

				// Paused for longer than the deadline: the time does not count.
				s.changeStrategy(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Paused = true })
				s.changeTemplate("agent:2")
				unavailable := 1
				if surge {
					unavailable = 0
				}
				s.bounds = bounds{surge: surge, rollout: true, maxUnavailable: unavailable, maxSurge: 1, paused: true, newNodes: map[string]bool{}}
				start := s.now
				for s.now.Sub(start) < 2*deadline*time.Second {
					s.step()
				}
				s.changeStrategy(func(ru *v1alpha1.RollingUpdateNodeAgentSet) { ru.Paused = false })
				s.deadlineFrom = s.now
				s.bounds.paused = false
				s.runUntil("rollout complete", 4000, s.converged(simNodes))
				s.expectConditions(completeLine)

				// A broken template makes no progress: the deadline passes and is reported.
				s.broken["rev3"] = true
				s.changeTemplate("agent:broken")
				s.runUntil("deadline exceeded", 4000, func() bool {
					c := condition(s.set.Status, v1alpha1.ConditionStalled)
					return c != nil && c.Reason == v1alpha1.ReasonProgressDeadlineExceeded
				})
				if c := condition(s.set.Status, v1alpha1.ConditionProgressing); c.Status != metav1.ConditionFalse {
					s.fail("Progressing = %s, want False", c.Status)
				}
			})
		}
	}
}
