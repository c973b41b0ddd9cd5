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
	"k8s.io/apimachinery/pkg/watch"
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
	err = w.follow(waitCtx, set.ResourceVersion)
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

// follow watches the set from resourceVersion until observe says the wait is over. When the API server ends the
// watch (its timeout, or a too old resourceVersion) it reads the set again and watches on from there.
func (w *statusWatch) follow(ctx context.Context, resourceVersion string) error {
	for {
		watcher, err := w.session.client.Watch(ctx, &v1alpha1.NodeAgentSetList{}, &client.ListOptions{
			Namespace:     w.session.namespace,
			FieldSelector: fields.OneTermEqualSelector("metadata.name", w.name),
			Raw:           &metav1.ListOptions{ResourceVersion: resourceVersion, AllowWatchBookmarks: true},
		})
		if err != nil {
			return err
		}
		done, err := w.drain(ctx, watcher, &resourceVersion)
		watcher.Stop()
		if done || err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The watch ended without an answer: start again from a fresh read.
		set, err := w.session.getSet(ctx, w.name)
		if err != nil {
			return err
		}
		if done, err := w.observe(ctx, set); done || err != nil {
			return err
		}
		resourceVersion = set.ResourceVersion
	}
}

// drain reads events until the wait is over (true), the watch ends (false, nil) or something fails.
func (w *statusWatch) drain(ctx context.Context, watcher watch.Interface, resourceVersion *string) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case event, ok := <-watcher.ResultChan():
			if !ok {
				return false, nil
			}
			switch event.Type {
			case watch.Added, watch.Modified:
				set, ok := event.Object.(*v1alpha1.NodeAgentSet)
				if !ok {
					return false, fmt.Errorf("watching nodeagentset %q: unexpected object %T", w.name, event.Object)
				}
				*resourceVersion = set.ResourceVersion
				if done, err := w.observe(ctx, set); done || err != nil {
					return done, err
				}
			case watch.Deleted:
				return false, fmt.Errorf("%s was deleted while waiting for its rollout to finish", objref.Quoted(w.name))
			case watch.Bookmark:
				if set, ok := event.Object.(*v1alpha1.NodeAgentSet); ok {
					*resourceVersion = set.ResourceVersion
				}
			case watch.Error:
				// 410 Gone (resourceVersion too old) and friends: read afresh. Anything else is reported.
				err := apierrors.FromObject(event.Object)
				if apierrors.IsGone(err) || apierrors.IsResourceExpired(err) {
					return false, nil
				}
				return false, fmt.Errorf("watching nodeagentset %q: %w", w.name, err)
			}
		}
	}
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
