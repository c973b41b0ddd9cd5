// Command bundle writes the OLM bundle (bundle/manifests, bundle/metadata) and bundle.Dockerfile from
// config/manifests, for `make bundle`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeagentset/nodeagentset/hack/packaging/olm"
)

func main() {
	root := flag.String("repo-root", ".", "The repository checkout.")
	version := flag.String("version", "", "The operator version, MAJOR.MINOR.PATCH.")
	image := flag.String("image", "", "The manager image.")
	channels := flag.String("channels", "candidate", "Comma-separated OLM channels.")
	defaultChannel := flag.String("default-channel", "candidate", "The default OLM channel.")
	out := flag.String("out", "bundle", "The bundle directory; a relative path is taken from the repository root.")
	dockerfile := flag.String("dockerfile", "bundle.Dockerfile", "The bundle image's build file; a relative path is taken from the repository root.")
	flag.Parse()

	b, err := olm.FromRepo(olm.RepoOptions{
		RepoRoot:       *root,
		Version:        strings.TrimPrefix(*version, "v"),
		Image:          *image,
		Channels:       strings.Split(*channels, ","),
		DefaultChannel: *defaultChannel,
	})
	if err == nil {
		err = olm.Write(b, fromRoot(*root, *out), fromRoot(*root, *dockerfile))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s/ and %s for %s\n", *out, *dockerfile, b.CSV.Name)
}

// fromRoot resolves a relative path against the repository root and keeps an absolute one.
func fromRoot(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}
