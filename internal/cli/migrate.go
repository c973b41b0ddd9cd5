package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli/convert"
)

// migratePoll is how often migrate looks at the cluster while it waits for the controller.
const migratePoll = 500 * time.Millisecond

type migrateOptions struct {
	dryRun  string
	output  string
	timeout time.Duration
}

func newMigrateCommand(d *commandDeps) *cobra.Command {
	o := migrateOptions{}
	cmd := &cobra.Command{
		Use:   "migrate daemonset/NAME",
		Short: "Hand a running DaemonSet's pods over to an equivalent NodeAgentSet without restarting them",
		Long: "Replace a DaemonSet by the NodeAgentSet that runs the same pods, without restarting any: create the " +
			"NodeAgentSet (same name, labels, annotations, selector, template, update strategy, minReadySeconds and " +
			"revisionHistoryLimit), wait until the controller has taken it up, delete the DaemonSet with " +
			"propagationPolicy Orphan, and wait until the NodeAgentSet controls every pod the DaemonSet owned. The " +
			"controller moves each adopted pod to its revision by relabelling it. Running it again after an " +
			"interruption finishes the migration. With --dry-run or -o yaml it only prints the NodeAgentSet.",
		Example: `  kubectl nas migrate daemonset/fluentd-elasticsearch -n kube-system
  kubectl nas migrate daemonset/fluentd-elasticsearch -n kube-system --dry-run=client -o yaml > nodeagentset.yaml`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("exactly one DaemonSet is expected: kubectl nas migrate daemonset/NAME")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return d.runMigrate(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.dryRun, "dry-run", "none", `"none", "client" (print the NodeAgentSet) or "server" `+
		`(have the API server validate and default it, and print it); nothing is changed`)
	cmd.Flags().StringVarP(&o.output, "output", "o", "", `"yaml" prints the NodeAgentSet and changes nothing`)
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "How long to wait for each step")
	return cmd
}

func newConvertCommand(d *commandDeps) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "convert -f FILE",
		Short: "Print the NodeAgentSet equivalent to a DaemonSet manifest (offline)",
		Long: "Read DaemonSet manifests (YAML or JSON, several documents allowed; - is standard input) and print the " +
			"equivalent NodeAgentSets as YAML, for a GitOps repository. Nothing is sent to a cluster.",
		Example: `  kubectl nas convert -f fluentd-daemonset.yaml > fluentd-nodeagentset.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("-f FILE is required: kubectl nas convert -f ds.yaml")
			}
			return d.runConvert(files)
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "DaemonSet manifest to convert (- for standard input)")
	return cmd
}

func (d *commandDeps) runConvert(files []string) error {
	var sets []*v1alpha1.NodeAgentSet
	for _, name := range files {
		var r io.Reader = d.streams.In
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		dss, err := convert.ReadDaemonSets(r, name)
		if err != nil {
			return err
		}
		for _, ds := range dss {
			set, err := convert.FromDaemonSet(ds)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			sets = append(sets, set)
		}
	}
	out, err := convert.ToYAML(sets)
	if err != nil {
		return err
	}
	_, err = d.streams.Out.Write(out)
	return err
}

// parseDaemonSetRef accepts daemonset/NAME (also ds/, daemonsets/, daemonset.apps/).
func parseDaemonSetRef(arg string) (string, error) {
	kind, name, ok := strings.Cut(arg, "/")
	switch {
	case !ok || name == "" || strings.Contains(name, "/"):
		return "", fmt.Errorf("%q: want daemonset/NAME", arg)
	case kind != "daemonset" && kind != "daemonsets" && kind != "ds" && kind != "daemonset.apps" && kind != "daemonsets.apps":
		return "", fmt.Errorf("%q: only a DaemonSet can be migrated (want daemonset/NAME)", arg)
	}
	return name, nil
}

func (d *commandDeps) runMigrate(ctx context.Context, arg string, o migrateOptions) error {
	name, err := parseDaemonSetRef(arg)
	if err != nil {
		return err
	}
	switch o.dryRun {
	case "none", "client", "server":
	default:
		return fmt.Errorf(`--dry-run: invalid value %q: want "none", "client" or "server"`, o.dryRun)
	}
	if o.output != "" && o.output != "yaml" {
		return fmt.Errorf(`-o: invalid value %q: only "yaml" is supported`, o.output)
	}
	s, err := d.session()
	if err != nil {
		return err
	}
	out := d.streams.Out
	key := s.key(name)

	ds := &appsv1.DaemonSet{}
	dsErr := s.client.Get(ctx, key, ds)
	if dsErr != nil && !apierrors.IsNotFound(dsErr) {
		return dsErr
	}
	if apierrors.IsNotFound(dsErr) {
		// Gone already: a run that got past step 2 was interrupted. Finish it if the set is the migration's.
		set, err := s.getSet(ctx, name)
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("daemonset %q not found in namespace %q, and no nodeagentset of that name either", name, s.namespace)
		}
		if err != nil {
			return err
		}
		if _, ok := set.Annotations[v1alpha1.MigratedFromAnnotation]; !ok {
			return fmt.Errorf("daemonset %q not found; nodeagentset %q exists but was not made by kubectl nas migrate (no %s annotation)",
				name, name, v1alpha1.MigratedFromAnnotation)
		}
		if o.dryRun != "none" || o.output != "" {
			return fmt.Errorf("daemonset %q not found: it has already been migrated to nodeagentset %q", name, name)
		}
		fmt.Fprintf(out, "daemonset.apps/%s already deleted; finishing the migration\n", name)
		return s.finishMigration(ctx, out, set, nil, o.timeout)
	}

	want, err := convert.FromDaemonSet(ds)
	if err != nil {
		return err
	}
	if o.dryRun != "none" || o.output != "" {
		if o.dryRun == "server" {
			if err := s.client.Create(ctx, want, client.DryRunAll, client.FieldOwner(fieldManager)); err != nil {
				return explainNoMatch(err)
			}
		}
		yaml, err := convert.ToYAML([]*v1alpha1.NodeAgentSet{want})
		if err != nil {
			return err
		}
		_, err = out.Write(yaml)
		return err
	}

	// Step 1: create the set, or reuse the one an interrupted run created.
	set := &v1alpha1.NodeAgentSet{}
	switch err := s.client.Get(ctx, key, set); {
	case apierrors.IsNotFound(err):
		set = want.DeepCopy()
		if err := s.client.Create(ctx, set, client.FieldOwner(fieldManager)); err != nil {
			return explainNoMatch(err)
		}
		fmt.Fprintf(out, "nodeagentset.apps.nodeagentset.io/%s created\n", name)
	case err != nil:
		return explainNoMatch(err)
	case !madeFrom(set, ds):
		return fmt.Errorf("nodeagentset %q already exists and was not made by migrating this DaemonSet (its %s annotation "+
			"is %q, the DaemonSet's uid is %s); delete or rename it first", name, v1alpha1.MigratedFromAnnotation,
			set.Annotations[v1alpha1.MigratedFromAnnotation], ds.UID)
	default:
		fmt.Fprintf(out, "nodeagentset.apps.nodeagentset.io/%s exists from an earlier run; reusing it\n", name)
	}

	// Step 2: once the controller has taken the set up, let go of the DaemonSet's pods.
	if err := s.waitFor(ctx, o.timeout, "the controller to observe nodeagentset "+name, func() (bool, error) {
		if err := s.client.Get(ctx, key, set); err != nil {
			return false, err
		}
		return set.Status.ObservedGeneration >= set.Generation, nil
	}); err != nil {
		return err
	}
	owned, err := s.podsControlledBy(ctx, set, ds.UID)
	if err != nil {
		return err
	}
	orphan := metav1.DeletePropagationOrphan
	err = s.client.Delete(ctx, ds, &client.DeleteOptions{
		PropagationPolicy: &orphan,
		Preconditions:     &metav1.Preconditions{UID: &ds.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting daemonset %q with propagationPolicy Orphan: %w", name, err)
	}
	// The garbage collector orphans the pods, then removes the DaemonSet; only then is the DaemonSet controller
	// certainly done with them.
	if err := s.waitFor(ctx, o.timeout, "daemonset "+name+" to be deleted", func() (bool, error) {
		err := s.client.Get(ctx, key, &appsv1.DaemonSet{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}); err != nil {
		return err
	}
	fmt.Fprintf(out, "daemonset.apps/%s deleted (propagationPolicy Orphan: its %d pods keep running)\n", name, len(owned))

	// Step 3.
	return s.finishMigration(ctx, out, set, owned, o.timeout)
}

// madeFrom: the set was built from this DaemonSet by migrate (its UID) or by convert from its manifest (its name).
func madeFrom(set *v1alpha1.NodeAgentSet, ds *appsv1.DaemonSet) bool {
	v, ok := set.Annotations[v1alpha1.MigratedFromAnnotation]
	return ok && (v == string(ds.UID) || v == ds.Name)
}

// finishMigration waits until the set controls every pod the DaemonSet owned (by UID; all pods matching the set's
// selector when they are not known, because the DaemonSet is gone) and reports them.
func (s *session) finishMigration(ctx context.Context, out io.Writer, set *v1alpha1.NodeAgentSet, owned []corev1.Pod, timeout time.Duration) error {
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return fmt.Errorf("nodeagentset %q has an invalid spec.selector: %w", set.Name, err)
	}
	want := map[types.UID]string{}
	for _, p := range owned {
		want[p.UID] = p.Name
	}
	var adopted, gone, pending []string
	err = s.waitFor(ctx, timeout, "nodeagentset "+set.Name+" to adopt the DaemonSet's pods", func() (bool, error) {
		list := &corev1.PodList{}
		if err := s.client.List(ctx, list, client.InNamespace(set.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
			return false, err
		}
		adopted, gone, pending = nil, nil, nil
		seen := map[types.UID]bool{}
		for _, p := range list.Items {
			seen[p.UID] = true
			_, wanted := want[p.UID]
			if len(want) > 0 && !wanted {
				continue
			}
			ref := metav1.GetControllerOfNoCopy(&p)
			switch {
			case ref != nil && ref.UID == set.UID:
				adopted = append(adopted, p.Name)
			case p.DeletionTimestamp == nil && (ref == nil || wanted):
				// Orphaned and not adopted yet, or one of the DaemonSet's pods not orphaned yet.
				pending = append(pending, p.Name)
			}
		}
		for uid, name := range want {
			if !seen[uid] {
				gone = append(gone, name)
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w; still not adopted: %s", err, strings.Join(sortedStrings(pending), ", "))
	}
	fmt.Fprintf(out, "nodeagentset.apps.nodeagentset.io/%s controls %d pods of the DaemonSet, none restarted\n", set.Name, len(adopted))
	if len(gone) > 0 {
		fmt.Fprintf(out, "pods deleted during the migration (the controller replaces them): %s\n", strings.Join(sortedStrings(gone), ", "))
	}
	fmt.Fprintf(out, "migrated daemonset.apps/%s to nodeagentset.apps.nodeagentset.io/%s\n", set.Name, set.Name)
	return nil
}

func (s *session) podsControlledBy(ctx context.Context, set *v1alpha1.NodeAgentSet, uid types.UID) ([]corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("nodeagentset %q has an invalid spec.selector: %w", set.Name, err)
	}
	list := &corev1.PodList{}
	if err := s.client.List(ctx, list, client.InNamespace(set.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if ref := metav1.GetControllerOfNoCopy(&p); ref != nil && ref.UID == uid {
			out = append(out, p)
		}
	}
	return out, nil
}

// waitFor polls done until it reports true, failing after timeout with what it waited for.
func (s *session) waitFor(ctx context.Context, timeout time.Duration, what string, done func() (bool, error)) error {
	err := wait.PollUntilContextTimeout(ctx, migratePoll, timeout, true, func(context.Context) (bool, error) { return done() })
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

func sortedStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
