package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli/describe"
	"github.com/nodeagentset/nodeagentset/internal/cli/edit"
	"github.com/nodeagentset/nodeagentset/internal/cli/history"
	"github.com/nodeagentset/nodeagentset/internal/cli/objref"
	revstore "github.com/nodeagentset/nodeagentset/internal/revision"
)

func newRolloutCommand(d *commandDeps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Manage the rollout of a NodeAgentSet",
		Long: "Manage the rollout of a NodeAgentSet: watch its status, read its revision history, roll back, " +
			"pause, resume or restart it, or promote its canary.",
	}
	cmd.AddCommand(
		newStatusCommand(d),
		newHistoryCommand(d),
		newUndoCommand(d),
		newToggleCommand(d, "pause", "Pause the rollout of a NodeAgentSet: no pod is replaced until it is resumed",
			"paused", func(set *v1alpha1.NodeAgentSet, _ time.Time) error { return edit.Pause(set) }),
		newToggleCommand(d, "resume", "Resume a paused rollout of a NodeAgentSet",
			"resumed", func(set *v1alpha1.NodeAgentSet, _ time.Time) error { return edit.Resume(set) }),
		newToggleCommand(d, "restart", "Restart every pod of a NodeAgentSet by rolling out its template again",
			"restarted", edit.Restart),
		newToggleCommand(d, "promote", "Promote the canary of a NodeAgentSet that waits for a manual promotion",
			"promoted", func(set *v1alpha1.NodeAgentSet, _ time.Time) error { return edit.Promote(set) }),
	)
	return cmd
}

func newHistoryCommand(d *commandDeps) *cobra.Command {
	var revision int64
	var printFlags *genericclioptions.PrintFlags
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "Show the revisions of a NodeAgentSet, or one revision's pod template",
		Example: `  kubectl nas rollout history fluentd-elasticsearch
  kubectl nas rollout history fluentd-elasticsearch --revision=1
  kubectl nas rollout history fluentd-elasticsearch --revision=1 -o yaml`,
		Args: nameArg("kubectl nas rollout history NAME [--revision=N] [-o json|yaml|name]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return d.runHistory(cmd.Context(), args[0], revision, printFlags)
		},
	}
	cmd.Flags().Int64Var(&revision, "revision", 0, "Show the pod template of this revision instead of the list")
	printFlags = newPrintFlags(cmd)
	return cmd
}

func (d *commandDeps) runHistory(ctx context.Context, nameArg string, revision int64, printFlags *genericclioptions.PrintFlags) error {
	name, err := objref.ParseName(nameArg)
	if err != nil {
		return err
	}
	if revision < 0 {
		return fmt.Errorf("--revision must be a revision number (or 0 for the list), got %d", revision)
	}
	if err := checkOutput(printFlags); err != nil {
		return err
	}
	s, err := d.session()
	if err != nil {
		return err
	}
	set, err := s.getSet(ctx, name)
	if err != nil {
		return err
	}
	revs, err := s.revisions(ctx, set)
	if err != nil {
		return err
	}
	if revision == 0 {
		if outputRequested(printFlags) {
			// As kubectl rollout history -o does: each ControllerRevision, oldest first.
			for _, rev := range revs {
				if err := printObject(printFlags, "", rev, d.streams.Out); err != nil {
					return err
				}
			}
			return nil
		}
		_, err = fmt.Fprintf(d.streams.Out, "%s\n%s", objref.Printed(name), history.Table(revs))
		return err
	}
	rev, err := history.Find(revs, revision)
	if err != nil {
		return fmt.Errorf("nodeagentset %q: %w", name, err)
	}
	if outputRequested(printFlags) {
		return printObject(printFlags, "", rev, d.streams.Out)
	}
	content, err := revstore.ContentOf(rev)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.streams.Out, "%s with revision #%d\n%s%s", objref.Printed(name), revision,
		describe.PodTemplate(content.Template), describe.NodeOverrides(content.NodeOverrides))
	return err
}

func newUndoCommand(d *commandDeps) *cobra.Command {
	var toRevision int64
	var dryRunValue string
	cmd := &cobra.Command{
		Use:   "undo NAME",
		Short: "Roll a NodeAgentSet back to an earlier revision's pod template",
		Long: "Roll a NodeAgentSet back: replace its pod template with the one stored in a revision (by default the " +
			"one before the newest). The controller then rolls the pods out as for any template change; the revision " +
			"gets the next revision number.",
		Example: `  kubectl nas rollout undo fluentd-elasticsearch
  kubectl nas rollout undo fluentd-elasticsearch --to-revision=1
  kubectl nas rollout undo fluentd-elasticsearch --to-revision=1 --dry-run=client`,
		Args: nameArg("kubectl nas rollout undo NAME [--to-revision=N] [--dry-run=none|client|server]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dry, err := parseDryRun(dryRunValue)
			if err != nil {
				return err
			}
			return d.runUndo(cmd.Context(), args[0], toRevision, dry)
		},
	}
	addDryRunFlag(cmd, &dryRunValue)
	cmd.Flags().Int64Var(&toRevision, "to-revision", 0, "The revision to roll back to; 0 means the previous revision")
	return cmd
}

func (d *commandDeps) runUndo(ctx context.Context, nameArg string, toRevision int64, dry dryRun) error {
	name, err := objref.ParseName(nameArg)
	if err != nil {
		return err
	}
	s, err := d.session()
	if err != nil {
		return err
	}
	set, err := s.getSet(ctx, name)
	if err != nil {
		return err
	}
	revs, err := s.revisions(ctx, set)
	if err != nil {
		return err
	}
	target, err := history.RollbackTarget(revs, toRevision)
	if err != nil {
		return fmt.Errorf("nodeagentset %q: %w", name, err)
	}
	content, err := revstore.ContentOf(target)
	if err != nil {
		return err
	}
	_, changed, err := s.modifySetDryRun(ctx, name, dry, func(set *v1alpha1.NodeAgentSet) (bool, error) {
		if !edit.RestoreRevision(set, content.Template, content.NodeOverrides) {
			return false, nil
		}
		edit.RestoreChangeCause(set, target)
		return true, nil
	})
	if err != nil {
		return err
	}
	if !changed {
		_, err = fmt.Fprintf(d.streams.Out, "%s skipped rollback (current template already matches revision %d)\n", objref.Printed(name), target.Revision)
		return err
	}
	if dry == dryRunClient {
		// As kubectl rollout undo --dry-run=client does for a DaemonSet: show the template the rollback would restore.
		if _, err := fmt.Fprint(d.streams.Out, describe.PodTemplate(content.Template)+describe.NodeOverrides(content.NodeOverrides)); err != nil {
			return err
		}
	}
	// The rollout commands report on the set as `rollout status` does: nodeagentset "NAME".
	_, err = fmt.Fprintf(d.streams.Out, "nodeagentset %q rolled back%s\n", name, dry.suffix())
	return err
}

// newToggleCommand builds pause, resume and restart: each edits the set once and prints `<set> <done>`.
func newToggleCommand(d *commandDeps, verb, short, done string, change func(*v1alpha1.NodeAgentSet, time.Time) error) *cobra.Command {
	usage := "kubectl nas rollout " + verb + " NAME"
	return &cobra.Command{
		Use:     verb + " NAME",
		Short:   short,
		Example: "  kubectl nas rollout " + verb + " fluentd-elasticsearch",
		Args:    nameArg(usage),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := objref.ParseName(args[0])
			if err != nil {
				return err
			}
			s, err := d.session()
			if err != nil {
				return err
			}
			now := time.Now()
			if _, err := s.modifySet(cmd.Context(), name, func(set *v1alpha1.NodeAgentSet) (bool, error) {
				return true, change(set, now)
			}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(d.streams.Out, "%s %s\n", objref.Printed(name), done)
			return err
		},
	}
}
