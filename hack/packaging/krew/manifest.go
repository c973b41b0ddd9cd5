package krew

import (
	"fmt"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/version"
)

// The manifest's type, as krew reads it.
const (
	APIVersion = "krew.googlecontainertools.github.com/v1alpha2"
	Kind       = "Plugin"
)

// Plugin is a krew plugin manifest (plugins/<name>.yaml in krew-index).
type Plugin struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       PluginSpec        `json:"spec"`
}

// PluginSpec is what krew shows and installs.
type PluginSpec struct {
	Version          string     `json:"version"`
	Homepage         string     `json:"homepage,omitempty"`
	ShortDescription string     `json:"shortDescription"`
	Description      string     `json:"description,omitempty"`
	Caveats          string     `json:"caveats,omitempty"`
	Platforms        []Platform `json:"platforms"`
}

// Platform is one archive and the os/arch it serves.
type Platform struct {
	Selector *metav1.LabelSelector `json:"selector"`
	URI      string                `json:"uri"`
	Sha256   string                `json:"sha256"`
	Files    []FileOperation       `json:"files,omitempty"`
	Bin      string                `json:"bin"`
}

// FileOperation copies files out of the unpacked archive into the plugin's directory.
type FileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

var (
	safeName = regexp.MustCompile(`^[\w-]+$`)
	sha256Re = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// windowsDeviceNames cannot be file names on Windows, so krew refuses them as plugin names.
	windowsDeviceNames = []string{"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
		"COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"}
)

// Validate applies krew's manifest rules to p, installed under name (the manifest's file name without .yaml).
func Validate(name string, p Plugin) error {
	if p.APIVersion != APIVersion {
		return fmt.Errorf("apiVersion is %q, krew reads %q", p.APIVersion, APIVersion)
	}
	if p.Kind != Kind {
		return fmt.Errorf("kind is %q, krew reads %q", p.Kind, Kind)
	}
	if !safeName.MatchString(name) {
		return fmt.Errorf("plugin name %q must match %s", name, safeName)
	}
	for _, reserved := range windowsDeviceNames {
		if strings.EqualFold(name, reserved) {
			return fmt.Errorf("plugin name %q is a reserved Windows device name", name)
		}
	}
	if p.Metadata.Name != name {
		return fmt.Errorf("metadata.name is %q, the manifest's file says %q", p.Metadata.Name, name)
	}
	if p.Spec.ShortDescription == "" {
		return fmt.Errorf("spec.shortDescription is empty")
	}
	if strings.ContainsAny(p.Spec.ShortDescription, "\r\n") {
		return fmt.Errorf("spec.shortDescription has a line break")
	}
	if p.Spec.Version == "" {
		return fmt.Errorf("spec.version is empty")
	}
	if !strings.HasPrefix(p.Spec.Version, "v") {
		return fmt.Errorf("spec.version %q must start with v", p.Spec.Version)
	}
	if _, err := version.ParseSemantic(strings.TrimPrefix(p.Spec.Version, "v")); err != nil {
		return fmt.Errorf("spec.version %q: %w", p.Spec.Version, err)
	}
	if len(p.Spec.Platforms) == 0 {
		return fmt.Errorf("spec.platforms is empty")
	}
	for i, pl := range p.Spec.Platforms {
		if err := validatePlatform(pl); err != nil {
			return fmt.Errorf("spec.platforms[%d]: %w", i, err)
		}
	}
	return nil
}

func validatePlatform(p Platform) error {
	switch {
	case p.URI == "":
		return fmt.Errorf("uri is empty")
	case p.Sha256 == "":
		return fmt.Errorf("sha256 is empty")
	case !sha256Re.MatchString(p.Sha256):
		return fmt.Errorf("sha256 %q must match %s", p.Sha256, sha256Re)
	case p.Bin == "":
		return fmt.Errorf("bin is empty")
	}
	if p.Files != nil && len(p.Files) == 0 {
		return fmt.Errorf("files is given but empty")
	}
	for j, f := range p.Files {
		if f.From == "" || f.To == "" {
			return fmt.Errorf("files[%d]: from and to must both be set", j)
		}
	}
	sel := p.Selector
	if sel == nil {
		return fmt.Errorf("selector is missing")
	}
	if sel.MatchLabels == nil && len(sel.MatchExpressions) == 0 {
		return fmt.Errorf("selector is empty")
	}
	if sel.MatchLabels != nil && len(sel.MatchLabels) == 0 {
		return fmt.Errorf("selector.matchLabels is given but empty")
	}
	if sel.MatchExpressions != nil && len(sel.MatchExpressions) == 0 {
		return fmt.Errorf("selector.matchExpressions is given but empty")
	}
	for k := range sel.MatchLabels {
		if k != "os" && k != "arch" {
			return fmt.Errorf("selector key %q: krew selects only on os and arch", k)
		}
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != "os" && e.Key != "arch" {
			return fmt.Errorf("selector key %q: krew selects only on os and arch", e.Key)
		}
	}
	return nil
}

// PlatformFor is the one platform whose selector matches goos/goarch, as krew picks it at install time; an error
// when none or several match.
func PlatformFor(p Plugin, goos, goarch string) (Platform, error) {
	var found []Platform
	for _, pl := range p.Spec.Platforms {
		sel, err := metav1.LabelSelectorAsSelector(pl.Selector)
		if err != nil {
			return Platform{}, err
		}
		if sel.Matches(labels.Set{"os": goos, "arch": goarch}) {
			found = append(found, pl)
		}
	}
	if len(found) != 1 {
		return Platform{}, fmt.Errorf("%d platforms match os=%s arch=%s, want exactly 1", len(found), goos, goarch)
	}
	return found[0], nil
}
