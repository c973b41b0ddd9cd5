package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli/objref"
	"github.com/nodeagentset/nodeagentset/internal/cli/status"
)

type statusOptions struct {
	watch    bool
	timeout  time.Duration
	revision int64
}

func newStatusCommand(d *commandDeps) *cobra.Command {
	opts := statusOptions{}
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Watch the rollout of a NodeAgentSet until it finishes",
		Long: "Watch the rollout of a NodeAgentSet until every eligible node runs an available pod of the current " +
			"template. A partitioned rollout ends when every node outside the partition is updated; a paused " +
			"rollout with nodes left to update is reported as an error instead of waited for.",
		Example: `  kubectl nas rollout status fluentd-elasticsearch -n kube-system
  kubectl nas rollout status fluentd-elasticsearch --timeout=5m`,
		Args: nameArg("kubectl nas rollout status NAME [--watch=true] [--timeout=D] [--revision=N]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return d.runStatus(cmd.Context(), args[0], opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.watch, "watch", "w", true, "Watch the rollout until it finishes; with --watch=false print the status once")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", 0, "How long to wait before giving up (e.g. 30s, 5m); 0 waits without limit")
	cmd.Flags().Int64Var(&opts.revision, "revision", 0, "Fail unless the set's update revision has this number")
	return cmd
}

func (d *commandDeps) runStatus(ctx context.Context, nameArg string, opts statusOptions) error {
	name, err := objref.ParseName(nameArg)
	if err != nil {
		return err
	}
	if opts.timeout < 0 {
		return fmt.Errorf("--timeout must not be negative, got %s", opts.timeout)
	}
	s, err := d.session()
	if err != nil {
		return err
	}
	set, err := s.getSet(ctx, name)
	if err != nil {
		return err
	}
	w := &statusWatch{session: s, name: name, opts: opts, out: d.streams.Out}
	if done, err := w.observe(ctx, set); done || err != nil {
		return err
	}
	waitCtx, cancel := ctx, context.CancelFunc(func() {})
	if opts.timeout > 0 {
		waitCtx, cancel = context.WithTimeout(ctx, opts.timeout)
	}
	defer cancel()
	err = w.follow(waitCtx)
	if err != nil && errors.Is(waitCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("timed out after %s waiting for nodeagentset %q rollout to finish", opts.timeout, name)
	}
	return err
}

// statusWatch follows one set and prints each new status line.
type statusWatch struct {
	session *session
	name    string
	opts    statusOptions
	out     io.Writer
	// lastMessage suppresses repeats: status writes that change nothing the user sees print nothing.
	lastMessage string
}

// observe prints the status of set and says whether the wait is over.
func (w *statusWatch) observe(ctx context.Context, set *v1alpha1.NodeAgentSet) (bool, error) {
	if w.opts.revision > 0 && set.Generation <= set.Status.ObservedGeneration {
		running, err := w.revisionNumber(ctx, set.Status.UpdateRevision)
		if err != nil {
			return true, err
		}
		if err := status.CheckRevision(w.opts.revision, running); err != nil {
			return true, err
		}
	}
	verdict, err := status.Evaluate(set)
	if err != nil {
		return true, err
	}
	if verdict.Message != w.lastMessage {
		w.lastMessage = verdict.Message
		if _, err := fmt.Fprintln(w.out, verdict.Message); err != nil {
			return true, err
		}
	}
	return verdict.Done || !w.opts.watch, nil
}

// follow watches the set until observe says the wait is over, with client-go's watchtools.UntilWithSync as
// kubectl rollout status does: an informer lists and watches the one set, re-lists when the API server ends the
// watch or the resourceVersion is too old, and hands every state it sees to observe.
func (w *statusWatch) follow(ctx context.Context) error {
	selector := fields.OneTermEqualSelector("metadata.name", w.name)
	options := func(raw metav1.ListOptions) *client.ListOptions {
		return &client.ListOptions{Namespace: w.session.namespace, FieldSelector: selector, Raw: &raw}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, raw metav1.ListOptions) (runtime.Object, error) {
			list := &v1alpha1.NodeAgentSetList{}
			return list, w.session.client.List(ctx, list, options(raw))
		},
		WatchFuncWithContext: func(ctx context.Context, raw metav1.ListOptions) (watch.Interface, error) {
			return w.session.client.Watch(ctx, &v1alpha1.NodeAgentSetList{}, options(raw))
		},
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &v1alpha1.NodeAgentSet{}, nil, func(event watch.Event) (bool, error) {
		switch event.Type {
		case watch.Deleted:
			return false, fmt.Errorf("%s was deleted while waiting for its rollout to finish", objref.Quoted(w.name))
		case watch.Added, watch.Modified:
			set, ok := event.Object.(*v1alpha1.NodeAgentSet)
			if !ok {
				return false, fmt.Errorf("watching nodeagentset %q: unexpected object %T", w.name, event.Object)
			}
			return w.observe(ctx, set)
		}
		return false, nil
	})
	if err != nil && ctx.Err() != nil {
		// UntilWithSync reports an ended context as its own timeout error; the caller words the timeout.
		return ctx.Err()
	}
	return err
}

// revisionNumber is the .revision of the named ControllerRevision, 0 while it does not exist yet. It is read each
// time rather than remembered: a rollback renumbers a revision without renaming it.
func (w *statusWatch) revisionNumber(ctx context.Context, revisionName string) (int64, error) {
	if revisionName == "" {
		return 0, nil
	}
	rev := &appsv1.ControllerRevision{}
	if err := w.session.client.Get(ctx, w.session.key(revisionName), rev); err != nil {
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("reading the update revision %q of nodeagentset %q: %w", revisionName, w.name, err)
	}
	return rev.Revision, nil
}
