package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// dryRun is the --dry-run strategy, as kubectl's: none sends the change, client only shows it, server sends it with
// dryRun=All so admission and validation run and nothing is stored.
type dryRun string

const (
	dryRunNone   dryRun = "none"
	dryRunClient dryRun = "client"
	dryRunServer dryRun = "server"
)

// addDryRunFlag registers --dry-run on a command that changes a set.
func addDryRunFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVar(target, "dry-run", string(dryRunNone), `Must be "none", "server", or "client". `+
		`With client, only print the object that would be sent; with server, submit it as a server-side dry run `+
		`without persisting it.`)
}

// parseDryRun checks the value of --dry-run.
func parseDryRun(value string) (dryRun, error) {
	switch d := dryRun(value); d {
	case dryRunNone, dryRunClient, dryRunServer:
		return d, nil
	}
	return "", fmt.Errorf(`invalid --dry-run value %q: must be "none", "server", or "client"`, value)
}

// patchOptions are the options a write under the strategy carries.
func (d dryRun) patchOptions() []client.PatchOption {
	if d == dryRunServer {
		return []client.PatchOption{client.DryRunAll}
	}
	return nil
}

// suffix is what kubectl appends to its success message under the strategy.
func (d dryRun) suffix() string {
	switch d {
	case dryRunClient:
		return " (dry run)"
	case dryRunServer:
		return " (server dry run)"
	}
	return ""
}

// newPrintFlags are kubectl's -o (json, yaml, name, go-template, jsonpath...) flags, typing the objects they print
// with the plugin's scheme.
func newPrintFlags(cmd *cobra.Command) *genericclioptions.PrintFlags {
	flags := genericclioptions.NewPrintFlags("").WithTypeSetter(scheme)
	flags.AddFlags(cmd)
	return flags
}

// outputRequested says whether -o (or --template) was given; without it the commands print their own text.
func outputRequested(flags *genericclioptions.PrintFlags) bool {
	return (flags.OutputFormat != nil && *flags.OutputFormat != "") ||
		(flags.TemplatePrinterFlags != nil && flags.TemplatePrinterFlags.TemplateArgument != nil &&
			*flags.TemplatePrinterFlags.TemplateArgument != "")
}

// checkOutput refuses an unknown -o format before anything is read or written, so a typo in -o never leaves a
// change made and unreported.
func checkOutput(flags *genericclioptions.PrintFlags) error {
	if !outputRequested(flags) {
		return nil
	}
	_, err := flags.ToPrinter()
	return err
}

// printObject prints obj with the -o printer; with no -o, as `<kind>.<group>/<name> <operation>`.
func printObject(flags *genericclioptions.PrintFlags, operation string, obj runtime.Object, w io.Writer) error {
	flags.NamePrintFlags.Operation = operation
	printer, err := flags.ToPrinter()
	if err != nil {
		return err
	}
	return printer.PrintObj(obj, w)
}
