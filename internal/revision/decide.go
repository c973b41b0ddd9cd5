package revision

import (
	appsv1 "k8s.io/api/apps/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Action is what the reconciler must do to have an update revision for the set's current template.
type Action int

const (
	// UseExisting: the newest revision already stores the template.
	UseExisting Action = iota
	// Renumber: an older revision stores the template (a rollback); give it number Next so numbers keep growing.
	Renumber
	// Create: no revision stores the template; create Desired.
	Create
)

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	// Existing is the revision to use (UseExisting) or renumber (Renumber).
	Existing *appsv1.ControllerRevision
	// Desired is the revision to create (Create), or the desired content of Existing.
	Desired *appsv1.ControllerRevision
	// Next is the number a renumbered or created revision gets.
	Next int64
}

// Decide finds or plans the update revision for the set's template among the set's revisions. A name clash with a
// revision of different content is not decided here: the reconciler sees it when the create fails with AlreadyExists
// and raises status.collisionCount.
func Decide(set *v1alpha1.NodeAgentSet, revs []*appsv1.ControllerRevision) (Decision, error) {
	hash := HashOf(set)
	highest := MaxNumber(revs)
	desired, err := New(set, hash, highest+1)
	if err != nil {
		return Decision{}, err
	}
	var equal []*appsv1.ControllerRevision
	for _, r := range revs {
		if EqualData(r, desired) {
			equal = append(equal, r)
		}
	}
	if len(equal) == 0 {
		return Decision{Action: Create, Desired: desired, Next: highest + 1}, nil
	}
	// More than one equal revision happens after a collision, or when the set adopted the revisions of a DaemonSet
	// it was migrated from. The update revision the set already reports stays, so the pods it labelled are not
	// relabelled back and forth; otherwise the newest one is the one pods were made from.
	SortByNumber(equal)
	newest := equal[len(equal)-1]
	for _, r := range equal {
		if set.Status.UpdateRevision != "" && r.Name == set.Status.UpdateRevision {
			newest = r
		}
	}
	if newest.Revision == highest {
		return Decision{Action: UseExisting, Existing: newest, Desired: desired, Next: highest}, nil
	}
	return Decision{Action: Renumber, Existing: newest, Desired: desired, Next: highest + 1}, nil
}

// ToPrune lists the revisions to delete so that at most limit old revisions remain besides the update revision,
// oldest first. A revision whose hash a live pod still carries is never pruned: it is still history in use.
func ToPrune(revs []*appsv1.ControllerRevision, update *appsv1.ControllerRevision, liveHashes map[string]bool, limit int32) []*appsv1.ControllerRevision {
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if update != nil && r.Name == update.Name {
			continue
		}
		if liveHashes[r.Labels[v1alpha1.ControllerRevisionHashLabel]] {
			continue
		}
		old = append(old, r)
	}
	excess := len(old) - int(limit)
	if excess <= 0 {
		return nil
	}
	sorted := append([]*appsv1.ControllerRevision(nil), old...)
	SortByNumber(sorted)
	return sorted[:excess]
}
