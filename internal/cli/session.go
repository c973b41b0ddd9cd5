package cli

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli/history"
)

// fieldManager names the plugin in the set's managedFields.
const fieldManager = "kubectl-nas"

// scheme knows the kinds the plugin reads and writes.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// session is a connection to the cluster in the namespace the flags (or the kubeconfig context) chose.
type session struct {
	client    client.WithWatch
	namespace string
}

func (d *commandDeps) session() (*session, error) {
	namespace, _, err := d.configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, err
	}
	cfg, err := d.configFlags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = fieldManager
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the API server at %s: %w", cfg.Host, err)
	}
	return &session{client: c, namespace: namespace}, nil
}

func (s *session) key(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: s.namespace, Name: name}
}

// getSet reads a set. A missing set is the API server's NotFound error, returned as is so it prints as kubectl
// prints it.
func (s *session) getSet(ctx context.Context, name string) (*v1alpha1.NodeAgentSet, error) {
	set := &v1alpha1.NodeAgentSet{}
	if err := s.client.Get(ctx, s.key(name), set); err != nil {
		return nil, explainNoMatch(err)
	}
	return set, nil
}

// revisions lists the ControllerRevisions the set controls, oldest first. The set's selector narrows the list on
// the server; the controller reference decides.
func (s *session) revisions(ctx context.Context, set *v1alpha1.NodeAgentSet) ([]*appsv1.ControllerRevision, error) {
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("nodeagentset %q has an invalid spec.selector: %w", set.Name, err)
	}
	list := &appsv1.ControllerRevisionList{}
	if err := s.client.List(ctx, list, client.InNamespace(s.namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("listing the ControllerRevisions of nodeagentset %q: %w", set.Name, err)
	}
	return history.Owned(set, list.Items), nil
}

// modifySet applies change to the newest copy of the set and sends the difference as a merge patch that carries
// the resourceVersion it was made from, so the API server refuses it if the set changed in between; then it starts
// over from a fresh read. change returns false when the set already is as wanted; nothing is sent then. An error
// from change stops at once and nothing is sent.
func (s *session) modifySet(ctx context.Context, name string, change func(*v1alpha1.NodeAgentSet) (bool, error)) (bool, error) {
	_, changed, err := s.modifySetDryRun(ctx, name, dryRunNone, change)
	return changed, err
}

// modifySetDryRun is modifySet under a --dry-run strategy, and returns the set as changed: as the API server
// returned it, or, for a client dry run, as it would be sent (nothing is sent then).
func (s *session) modifySetDryRun(ctx context.Context, name string, mode dryRun,
	change func(*v1alpha1.NodeAgentSet) (bool, error)) (*v1alpha1.NodeAgentSet, bool, error) {
	var changed bool
	var result *v1alpha1.NodeAgentSet
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		set, err := s.getSet(ctx, name)
		if err != nil {
			return err
		}
		result = set
		before := set.DeepCopy()
		changed, err = change(set)
		if err != nil || !changed || mode == dryRunClient {
			return err
		}
		patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
		opts := append([]client.PatchOption{client.FieldOwner(fieldManager)}, mode.patchOptions()...)
		return s.client.Patch(ctx, set, patch, opts...)
	})
	return result, changed, err
}

// explainNoMatch turns "no matches for kind" into a hint that the CRD is not installed.
func explainNoMatch(err error) error {
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("the NodeAgentSet API (%s) is not installed in this cluster; install the CRD first: %w", v1alpha1.GroupVersion, err)
	}
	return err
}
