package history

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// NoHistory is what `rollout history` prints for a set without revisions, as kubectl does.
const NoHistory = "No rollout history found."

// Owned returns the revisions the set controls, oldest first (by revision number, then name).
func Owned(set metav1.Object, revs []appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	var owned []*appsv1.ControllerRevision
	for i := range revs {
		if metav1.IsControlledBy(&revs[i], set) {
			owned = append(owned, &revs[i])
		}
	}
	slices.SortStableFunc(owned, func(a, b *appsv1.ControllerRevision) int {
		if a.Revision != b.Revision {
			if a.Revision < b.Revision {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return owned
}

// Table renders revisions (oldest first) as kubectl's REVISION / CHANGE-CAUSE table; a revision without a
// change-cause shows <none>.
func Table(revs []*appsv1.ControllerRevision) string {
	if len(revs) == 0 {
		return NoHistory + "\n"
	}
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "REVISION\tCHANGE-CAUSE")
	for _, r := range revs {
		cause := r.Annotations[v1alpha1.ChangeCauseAnnotation]
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(w, "%d\t%s\n", r.Revision, cause)
	}
	_ = w.Flush()
	return buf.String()
}

// Find returns the revision with the given number among revs (oldest first). With two revisions of one number (only
// possible after a hash collision) the later one in the order wins.
func Find(revs []*appsv1.ControllerRevision, number int64) (*appsv1.ControllerRevision, error) {
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].Revision == number {
			return revs[i], nil
		}
	}
	return nil, fmt.Errorf("unable to find revision %d in the history (%s)", number, known(revs))
}

// RollbackTarget picks the revision `rollout undo --to-revision=to` restores: the given number, or for 0 the newest
// revision before the newest one, as kubectl does for a DaemonSet.
func RollbackTarget(revs []*appsv1.ControllerRevision, to int64) (*appsv1.ControllerRevision, error) {
	switch {
	case to < 0:
		return nil, fmt.Errorf("--to-revision must be 0 (the previous revision) or a revision number, got %d", to)
	case to == 0:
		if len(revs) < 2 {
			return nil, fmt.Errorf("no last revision to roll back to (%s)", known(revs))
		}
		return revs[len(revs)-2], nil
	default:
		return Find(revs, to)
	}
}

// known lists the revision numbers for error messages.
func known(revs []*appsv1.ControllerRevision) string {
	if len(revs) == 0 {
		return "the set has no revisions"
	}
	numbers := make([]string, 0, len(revs))
	for _, r := range revs {
		numbers = append(numbers, strconv.FormatInt(r.Revision, 10))
	}
	return "known revisions: " + strings.Join(numbers, ", ")
}
