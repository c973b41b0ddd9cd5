// Command helmchart writes charts/nodeagentset from config/default, for `make helm-chart`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeagentset/nodeagentset/hack/packaging/helmchart"
)

func main() {
	root := flag.String("repo-root", ".", "The repository checkout.")
	version := flag.String("version", "", "The chart version and appVersion, MAJOR.MINOR.PATCH.")
	out := flag.String("out", "charts/nodeagentset", "The chart directory; a relative path is taken from the repository root.")
	flag.Parse()
	dir := *out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(*root, dir)
	}
	files, err := helmchart.Generate(*root, strings.TrimPrefix(*version, "v"))
	if err == nil {
		err = helmchart.Write(files, dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helmchart:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s\n", *out)
}
