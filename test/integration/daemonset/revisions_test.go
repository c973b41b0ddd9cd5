package daemonset

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/revision"
	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// ownedRevisions lists the ControllerRevisions the set controls.
func ownedRevisions(ctx SpecContext, set *v1alpha1.NodeAgentSet) ([]appsv1.ControllerRevision, error) {
	list := &appsv1.ControllerRevisionList{}
	if err := cluster.Client.List(ctx, list, client.InNamespace(set.Namespace)); err != nil {
		return nil, err
	}
	var owned []appsv1.ControllerRevision
	for _, r := range list.Items {
		if metav1.IsControlledBy(&r, set) {
			owned = append(owned, r)
		}
	}
	return owned, nil
}

// Images for template changes (nothing pulls them).
const (
	nextImage  = "registry.k8s.io/pause:3.9"
	thirdImage = "registry.k8s.io/pause:3.10.1"
)

// Revisions, after upstream's TestLaunchWithHashCollision: a ControllerRevision already holding the name the
// set's next revision would take, with other data, makes the controller raise collisionCount and use a new name.
var _ = Describe("revisions", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		ns = cluster.SpecNamespace(ctx, "revisions", &testcluster.KubeletOptions{})
	})

	DescribeTable("a hash collision raises collisionCount and the update still rolls out",
		func(ctx SpecContext, ownedBySet bool) {
			set := createSet(ctx, testcluster.NewSet(ns, "collide"))
			node := createNode(ctx, "single-node")
			current := expectSettled(ctx, set, node).Set
			before := ptr.Deref(current.Status.CollisionCount, 0)
			currentRev := &appsv1.ControllerRevision{}
			Expect(cluster.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: current.Status.UpdateRevision}, currentRev)).To(Succeed())

			By("computing the name the updated template's revision will take, from the template as the API server stores it")
			next := current.DeepCopy()
			next.Spec.Template.Spec.Containers[0].Image = nextImage
			Expect(cluster.Client.Update(ctx, next, client.DryRunAll)).To(Succeed())
			hash := revision.Hash(&next.Spec.Template, current.Status.CollisionCount)
			clashName := revision.Name(set.Name, hash)

			By("creating a revision of that name holding the current template instead")
			labels := map[string]string{v1alpha1.ControllerRevisionHashLabel: hash}
			for k, v := range current.Spec.Template.Labels {
				labels[k] = v
			}
			clash := &appsv1.ControllerRevision{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: clashName, Labels: labels},
				Data:       currentRev.Data,
				Revision:   currentRev.Revision + 1,
			}
			if ownedBySet {
				clash.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(current, v1alpha1.GroupVersion.WithKind("NodeAgentSet"))}
			}
			Expect(cluster.Client.Create(ctx, clash)).To(Succeed())

			By("updating the template")
			_, err := cluster.UpdateSet(ctx, ns, set.Name, func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Containers[0].Image = nextImage
			})
			Expect(err).NotTo(HaveOccurred())

			Eventually(ctx, func() (*v1alpha1.NodeAgentSet, error) { return cluster.GetSet(ctx, ns, set.Name) }).
				WithTimeout(settleTimeout).Should(And(
				HaveField("Status.CollisionCount", HaveValue(BeEquivalentTo(before+1))),
				HaveField("Status.UpdateRevision", And(Not(BeEmpty()), Not(Equal(clashName)))),
			))
			v := expectSettled(ctx, set, node)
			Expect(podOn(v, node).Spec.Containers[0].Image).To(Equal(nextImage))
		},
		Entry("with the clashing revision owned by the set", true),
		Entry("with the clashing revision owned by nobody", false),
	)

	It("keeps one revision per template, numbered upwards, and prunes history beyond revisionHistoryLimit", func(ctx SpecContext) {
		set := testcluster.NewSet(ns, "history")
		set.Spec.RevisionHistoryLimit = ptr.To[int32](1)
		createSet(ctx, set)
		node := createNode(ctx, "single-node")
		expectSettled(ctx, set, node)

		for _, image := range []string{"registry.k8s.io/pause:3.8", "registry.k8s.io/pause:3.9", thirdImage} {
			_, err := cluster.UpdateSet(ctx, ns, set.Name, func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Containers[0].Image = image
			})
			Expect(err).NotTo(HaveOccurred())
			v := expectSettled(ctx, set, node)
			Expect(podOn(v, node).Spec.Containers[0].Image).To(Equal(image))
		}

		current := view(ctx, set).Set
		Eventually(ctx, func() ([]appsv1.ControllerRevision, error) { return ownedRevisions(ctx, current) }).
			WithTimeout(settleTimeout).Should(HaveLen(2), "the update revision and revisionHistoryLimit=1 old one")
		revs, err := ownedRevisions(ctx, current)
		Expect(err).NotTo(HaveOccurred())
		for _, r := range revs {
			Expect(r.Name).To(Equal(set.Name+"-"+r.Labels[v1alpha1.ControllerRevisionHashLabel]), "revision name is <set>-<hash>")
			if r.Name == current.Status.UpdateRevision {
				Expect(r.Revision).To(BeEquivalentTo(4), "the fourth template is revision 4")
			} else {
				Expect(r.Revision).To(BeEquivalentTo(3), "the kept history is the previous revision")
			}
		}
	})
})
