// Command kubectl-nas is the kubectl plugin for NodeAgentSets: put it on PATH and run `kubectl nas ...`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nodeagentset/nodeagentset/internal/cli"
)

func main() {
	// The plugin reports through its output and errors; controller-runtime's internal logging has nothing to add.
	ctrllog.SetLogger(logr.Discard())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := cli.Run(ctx, os.Args[1:], streams)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, cli.FormatError(err))
		os.Exit(1)
	}
}
