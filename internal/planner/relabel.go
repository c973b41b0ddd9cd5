package planner

// Relabelling: a live pod that is not of the update revision (or not with its node's override) but whose effective
// spec — its revision's template with the override it was made with — is what the update revision gives its node
// now, is moved to the update revision by patching its controller-revision-hash label (and node-override
// annotation). Nothing restarts. This serves an override change that leaves some node classes as they were, a
// template change that is undone before it reached a node, and pods adopted from a DaemonSet that run what the set
// would create.
//
// Assumptions and invariants:
//   - A relabel makes nothing unavailable, so it is not bounded by maxUnavailable or maxSurge. It moves a node to
//     the update revision, so it respects pause (none while paused) and the partition (it uses the same budget as
//     the replacements, which run after it in the same pass and see the relabelled nodes as updated).
//   - A relabel happens only in a pass that may write (expectations satisfied); the status of that pass counts the
//     relabelled pods as updated, and the next pass sees the new labels in the cache (the reconciler expects them).
//   - Only a node's single live pod is relabelled: with a second live pod (a surge in progress or a duplicate) the
//     manage step and the rolling update finish what they started.
//   - Which spec a pod runs is read from its revision (looked up by hash among the snapshot's revisions) and its
//     override annotation. A pod whose hash names no known revision (an adopted pod) is compared as it is with the
//     pod the set would create on its node. Both comparisons normalise API server defaults (package podspec); an
//     unknown difference means a replacement under the update strategy, never a relabel.

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/placement"
	"github.com/nodeagentset/nodeagentset/internal/podspec"
	"github.com/nodeagentset/nodeagentset/internal/revision"
)

func (d *decision) relabel() {
	if !d.snap.ExpectationsSatisfied || d.snap.UpdateRevision == nil || d.hash == "" || d.set.DeletionTimestamp != nil {
		return
	}
	if d.strategy.paused || d.strategy.invalid != "" {
		return
	}
	budget := d.partitionBudget()
	for _, st := range d.nodes {
		if !st.shouldContinueRunning {
			continue
		}
		var pod *corev1.Pod
		live := 0
		for _, p := range st.pods {
			if isLive(p) {
				pod = p
				live++
			}
		}
		if live != 1 || d.isUpdated(pod) || (st.shouldRun && budget <= 0) {
			continue
		}
		if !d.specs.differenceFromUpdate(pod, st).Same() {
			continue
		}
		if _, deleted := d.deletes[podKey(pod)]; deleted {
			continue
		}
		if st.shouldRun {
			budget--
		}
		d.relabelled[pod] = true
		d.update(PodUpdate{
			Pod:          pod,
			Revision:     d.snap.UpdateRevision,
			NodeOverride: placement.OverrideName(st.override),
			Reason:       UpdateRelabel,
			Message: fmt.Sprintf("pod %s/%s on node %s runs what revision %s gives the node; relabelling it instead of "+
				"replacing it", pod.Namespace, pod.Name, st.name(), d.snap.UpdateRevision.Name),
		})
	}
}

// Differences reported from memory: the comparison was made before in the pass, or cannot be made.
var (
	differentSpec      = podspec.Difference{Fields: []string{"spec"}}
	unreadableRevision = podspec.Difference{Fields: []string{"the pod's revision cannot be read"}}
)

// effectiveSpecs computes the effective templates of revisions once per pass: many pods share a few revisions and
// overrides.
type effectiveSpecs struct {
	set     *v1alpha1.NodeAgentSet
	hash    string
	byHash  map[string]*appsv1.ControllerRevision
	content map[string]*revisionContent // by revision name
	// wanted is the update revision's effective template per override name ("" for none).
	wanted map[string]*corev1.PodTemplateSpec
	// same memoises revision-level comparisons by (revision, pod override, node override).
	same map[[3]string]bool
}

type revisionContent struct {
	content   revision.Content
	overrides *placement.OverrideMatcher
	err       error
}

func newEffectiveSpecs(s Snapshot) effectiveSpecs {
	e := effectiveSpecs{
		set:     s.Set,
		hash:    revisionHash(s.UpdateRevision),
		byHash:  map[string]*appsv1.ControllerRevision{},
		content: map[string]*revisionContent{},
		wanted:  map[string]*corev1.PodTemplateSpec{},
		same:    map[[3]string]bool{},
	}
	for _, rev := range s.Revisions {
		if rev == nil {
			continue
		}
		h := revisionHash(rev)
		// Two revisions of one hash only after a collision; the newer one is the one pods were made from.
		if old := e.byHash[h]; h != "" && (old == nil || rev.Revision > old.Revision) {
			e.byHash[h] = rev
		}
	}
	return e
}

// wantedTemplate is the update revision's template with the override applied.
func (e *effectiveSpecs) wantedTemplate(o *v1alpha1.NodeOverride) *corev1.PodTemplateSpec {
	name := placement.OverrideName(o)
	if t, ok := e.wanted[name]; ok {
		return t
	}
	t := placement.ApplyOverride(&e.set.Spec.Template, o)
	e.wanted[name] = t
	return t
}

// differenceFromUpdate compares what pod runs with what the update revision gives its node.
func (e *effectiveSpecs) differenceFromUpdate(pod *corev1.Pod, st *nodeState) podspec.Difference {
	hash := pod.Labels[v1alpha1.ControllerRevisionHashLabel]
	rev := e.byHash[hash]
	if rev == nil {
		// Not a revision of this set: compare the pod itself with the one the set would create there.
		want := placement.NewPodWithOverride(e.set, e.wantedTemplate(st.override), nil, st.name(), e.hash)
		return podspec.ComparePods(pod, want)
	}
	rc := e.contentOf(rev)
	if rc.err != nil {
		return unreadableRevision
	}
	key := [3]string{rev.Name, placement.PodOverride(pod), placement.OverrideName(st.override)}
	if same, ok := e.same[key]; ok {
		if same {
			return podspec.Difference{}
		}
		return differentSpec
	}
	have := placement.ApplyOverride(rc.content.Template, rc.overrides.Named(placement.PodOverride(pod)))
	diff := podspec.CompareTemplates(have, e.wantedTemplate(st.override))
	e.same[key] = diff.Same()
	return diff
}

func (e *effectiveSpecs) contentOf(rev *appsv1.ControllerRevision) *revisionContent {
	if rc, ok := e.content[rev.Name]; ok {
		return rc
	}
	c, err := revision.ContentOf(rev)
	rc := &revisionContent{content: c, err: err, overrides: placement.NewOverrideMatcher(c.NodeOverrides)}
	e.content[rev.Name] = rc
	return rc
}
