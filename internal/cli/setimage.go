package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
	"github.com/nodeagentset/nodeagentset/internal/cli/edit"
	"github.com/nodeagentset/nodeagentset/internal/cli/objref"
)

func newSetCommand(d *commandDeps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Change fields of a NodeAgentSet",
	}
	cmd.AddCommand(newSetImageCommand(d))
	return cmd
}

func newSetImageCommand(d *commandDeps) *cobra.Command {
	var record bool
	var dryRunValue string
	var printFlags *genericclioptions.PrintFlags
	cmd := &cobra.Command{
		Use:   "image NAME CONTAINER=IMAGE [CONTAINER=IMAGE...]",
		Short: "Change the image of containers in a NodeAgentSet's pod template",
		Long: "Change the image of containers and init containers in a NodeAgentSet's pod template; *=IMAGE changes " +
			"every container. The change is made whole or not at all: an unknown container name changes nothing.",
		Example: `  kubectl nas set image fluentd-elasticsearch fluentd-elasticsearch=quay.io/fluentd_elasticsearch/fluentd:v2.6.0 -n kube-system
  kubectl nas set image example-daemonset log-machine-id=busybox:1.37 pause=registry.k8s.io/pause:3.10 --record
  kubectl nas set image example-daemonset '*=registry.k8s.io/pause:3.10'
  kubectl nas set image example-daemonset pause=registry.k8s.io/pause:3.10 --dry-run=server -o yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := edit.RecordIfPresent
			if cmd.Flags().Changed("record") {
				mode = edit.RecordNever
				if record {
					mode = edit.RecordAlways
				}
			}
			dry, err := parseDryRun(dryRunValue)
			if err != nil {
				return err
			}
			cause := edit.ChangeCause("kubectl nas set image", args, recordedFlags(cmd))
			return d.runSetImage(cmd.Context(), args, cause, mode, dry, printFlags)
		},
	}
	addDryRunFlag(cmd, &dryRunValue)
	printFlags = newPrintFlags(cmd)
	cmd.Flags().BoolVar(&record, "record", false, "Record this command in the set's kubernetes.io/change-cause annotation, "+
		"which the controller copies into the revision it makes. If not given, an existing annotation is updated.")
	return cmd
}

func (d *commandDeps) runSetImage(ctx context.Context, args []string, cause string, mode edit.RecordMode, dry dryRun,
	printFlags *genericclioptions.PrintFlags) error {
	nameArg, updates, err := edit.ParseImageArgs(args)
	if err != nil {
		return err
	}
	if err := checkOutput(printFlags); err != nil {
		return err
	}
	name, err := objref.ParseName(nameArg)
	if err != nil {
		return err
	}
	s, err := d.session()
	if err != nil {
		return err
	}
	set, changed, err := s.modifySetDryRun(ctx, name, dry, func(set *v1alpha1.NodeAgentSet) (bool, error) {
		changed, err := edit.SetImages(set, updates)
		if err != nil || !changed {
			// Recording a cause without a template change would label a revision the command did not make.
			return false, err
		}
		edit.RecordChangeCause(set, cause, mode)
		return true, nil
	})
	if err != nil {
		return err
	}
	result := "image updated"
	if !changed {
		result = "image unchanged"
	}
	if outputRequested(printFlags) {
		return printObject(printFlags, result+dry.suffix(), set, d.streams.Out)
	}
	_, err = fmt.Fprintf(d.streams.Out, "%s %s%s\n", objref.Printed(name), result, dry.suffix())
	return err
}

// recordedFlags are the flags given on the command line that go into a change-cause: the command's own and the
// namespace, not how the plugin connected (kubeconfig, context, credentials).
func recordedFlags(cmd *cobra.Command) []edit.Flag {
	// A separate ConfigFlags only lists the connection flags' names; binding d.configFlags again would reset them.
	connection := pflag.NewFlagSet("connection", pflag.ContinueOnError)
	genericclioptions.NewConfigFlags(false).AddFlags(connection)
	var flags []edit.Flag
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name != "namespace" && connection.Lookup(f.Name) != nil {
			return
		}
		flags = append(flags, edit.Flag{Name: f.Name, Value: f.Value.String()})
	})
	return flags
}
