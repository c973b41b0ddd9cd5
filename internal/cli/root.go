package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Run executes one `kubectl nas` command line (without the program name) with the given streams and returns its
// error, if any, for the caller to print with FormatError.
func Run(ctx context.Context, args []string, streams genericiooptions.IOStreams) error {
	cmd := NewCommand(streams)
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}

// NewCommand builds the `kubectl nas` command tree. The kubectl connection flags (-n, --kubeconfig, --context, ...)
// are persistent flags of the root.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "kubectl-nas",
		Short: "Roll out, inspect and roll back NodeAgentSets",
		Long: "kubectl nas manages NodeAgentSet rollouts the way kubectl rollout and kubectl set image manage " +
			"DaemonSets: watch a rollout, read the revision history, roll back, pause, resume, restart and change images; " +
			"and it moves a running DaemonSet to a NodeAgentSet without restarting its pods (migrate, convert).",
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl nas"},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	configFlags.AddFlags(root.PersistentFlags())

	deps := &commandDeps{configFlags: configFlags, streams: streams}
	root.AddCommand(newRolloutCommand(deps), newSetCommand(deps), newMigrateCommand(deps), newConvertCommand(deps))
	var withNames func(*cobra.Command)
	withNames = func(c *cobra.Command) {
		if strings.Contains(c.Use, "NAME") && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = deps.completeSetNames
		}
		for _, sub := range c.Commands() {
			withNames(sub)
		}
	}
	withNames(root)
	return root
}

// commandDeps is what every command needs: the connection flags (read once the command line is parsed) and the
// streams.
type commandDeps struct {
	configFlags *genericclioptions.ConfigFlags
	streams     genericiooptions.IOStreams
}

// FormatError renders an error as kubectl does: API errors as `Error from server (Reason): message`, anything else
// as `error: message`.
func FormatError(err error) string {
	// Only an API error returned as is gets the server form; one wrapped with context keeps its context.
	if status, ok := err.(apierrors.APIStatus); ok {
		if reason := status.Status().Reason; reason != "" {
			return fmt.Sprintf("Error from server (%s): %s", reason, err.Error())
		}
		return "Error from server: " + err.Error()
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "error: ") {
		return msg
	}
	return "error: " + msg
}

// completeSetNames completes a command's first argument with the names of the NodeAgentSets in the namespace the
// flags choose, as kubectl completes resource names.
func (d *commandDeps) completeSetNames(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, err := d.session()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	list := &v1alpha1.NodeAgentSetList{}
	if err := s.client.List(cmd.Context(), list, client.InNamespace(s.namespace)); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var names []cobra.Completion
	for _, set := range list.Items {
		if strings.HasPrefix(set.Name, prefix) {
			names = append(names, set.Name)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// nameArg is the positional-argument check for commands that take exactly one set name.
func nameArg(usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return fmt.Errorf("a NodeAgentSet name is required: %s", usage)
		default:
			return fmt.Errorf("exactly one NodeAgentSet name is expected, got %d (%s): %s", len(args), strings.Join(args, " "), usage)
		}
	}
}
