// Command krew builds the `kubectl nas` archives for krew (linux, darwin and windows on amd64 and arm64, each with
// its .sha256) and writes the plugin manifest naming them, for `make plugin-archives`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nodeagentset/nodeagentset/hack/packaging/krew"
)

func main() {
	root := flag.String("repo-root", ".", "The repository checkout.")
	version := flag.String("version", "", "The release version, vMAJOR.MINOR.PATCH.")
	out := flag.String("out", "dist/plugins", "Where the archives go; a relative path is taken from the repository root.")
	manifest := flag.String("manifest", "plugins/nas.yaml", "The manifest to write; a relative path is taken from the repository root.")
	uriBase := flag.String("uri-base", krew.DefaultURIBase, "Where the archives are published, one directory per version.")
	platforms := flag.String("platforms", "", "Comma-separated os/arch to build (default: all six krew-index expects).")
	flag.Parse()

	if err := run(*root, "v"+strings.TrimPrefix(*version, "v"), *out, *manifest, *uriBase, *platforms); err != nil {
		fmt.Fprintln(os.Stderr, "krew:", err)
		os.Exit(1)
	}
}

func run(root, version, out, manifest, uriBase, platforms string) error {
	targets := krew.Targets
	if platforms != "" {
		targets = nil
		for _, p := range strings.Split(platforms, ",") {
			goos, goarch, ok := strings.Cut(strings.TrimSpace(p), "/")
			if !ok {
				return fmt.Errorf("--platforms: %q is not os/arch", p)
			}
			targets = append(targets, krew.Target{OS: goos, Arch: goarch})
		}
	}
	var archives []krew.Archive
	for _, t := range targets {
		a, err := krew.Build(root, fromRoot(root, out), t)
		if err != nil {
			return err
		}
		fmt.Printf("%s  %s\n", a.Sha256, a.Path)
		archives = append(archives, a)
	}
	p := krew.NewManifest(version, uriBase, archives)
	if err := krew.Validate(krew.Name, p); err != nil {
		return fmt.Errorf("the manifest breaks a krew rule: %w", err)
	}
	data, err := krew.Marshal(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(fromRoot(root, manifest)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(fromRoot(root, manifest), data, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", manifest)
	return nil
}

func fromRoot(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}
