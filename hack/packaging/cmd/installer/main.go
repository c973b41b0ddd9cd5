// Command installer writes dist/install.yaml, config/default rendered with the given manager image, for
// `make build-installer`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodeagentset/nodeagentset/hack/packaging/render"
)

func main() {
	root := flag.String("repo-root", ".", "The repository checkout.")
	image := flag.String("image", "", "The manager image; empty keeps config/manager's.")
	dir := flag.String("dir", "config/default", "The kustomization to render, relative to the repository root.")
	out := flag.String("out", "dist/install.yaml", "The file to write; a relative path is taken from the repository root.")
	flag.Parse()

	if err := run(*root, *dir, *image, *out); err != nil {
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s\n", *out)
}

func run(root, dir, image, out string) error {
	data, err := render.YAML(render.Options{RepoRoot: root, Dir: dir, Image: image})
	if err != nil {
		return err
	}
	path := out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, out)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
