package olm

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodeagentset/nodeagentset/hack/packaging/render"
)

// ManifestsDir is the kustomization the bundle is built from, relative to the repository root.
const ManifestsDir = "config/manifests"

// RepoOptions say which bundle to build from a repository checkout.
type RepoOptions struct {
	RepoRoot       string
	Version        string
	Image          string
	Channels       []string
	DefaultChannel string
}

// FromRepo gathers the Input from the checkout (config/manifests rendered with the image, config/samples, the
// icon) and builds the bundle.
func FromRepo(o RepoOptions) (*Bundle, error) {
	objs, err := render.Objects(render.Options{RepoRoot: o.RepoRoot, Dir: ManifestsDir, Image: o.Image})
	if err != nil {
		return nil, err
	}
	samples, err := render.Samples(o.RepoRoot, "NodeAgentSet")
	if err != nil {
		return nil, err
	}
	icon, err := os.ReadFile(filepath.Join(o.RepoRoot, ManifestsDir, "icon.svg"))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("reading the icon: %w", err)
	}
	return Build(Input{
		Objects:        objs,
		Samples:        samples,
		Version:        o.Version,
		Image:          o.Image,
		Channels:       o.Channels,
		DefaultChannel: o.DefaultChannel,
		IconSVG:        icon,
	})
}
