package krew

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Name is the plugin's name in krew-index: `kubectl krew install nas` installs `kubectl nas`.
const Name = "nas"

// DefaultURIBase is where the release archives are published, one directory per version tag.
const DefaultURIBase = "https://github.com/nodeagentset/nodeagentset/releases/download"

// NewManifest is the krew manifest for version (vMAJOR.MINOR.PATCH) whose archives are published under
// uriBase/<version>/, one platform per archive in the order given.
func NewManifest(version, uriBase string, archives []Archive) Plugin {
	p := Plugin{
		APIVersion: APIVersion,
		Kind:       Kind,
		Metadata:   metav1.ObjectMeta{Name: Name},
		Spec: PluginSpec{
			Version:          version,
			Homepage:         "https://github.com/nodeagentset/nodeagentset",
			ShortDescription: "Roll out, inspect and roll back NodeAgentSets",
			Description: "kubectl nas gives NodeAgentSets (apps.nodeagentset.io) the commands kubectl has for\n" +
				"DaemonSets: rollout status, history, undo, pause, resume and restart, and set image,\n" +
				"with the same output, -o json|yaml|name and --dry-run.\n",
			Caveats: "The NodeAgentSet CRD must be installed in the cluster: see\n" +
				"https://github.com/nodeagentset/nodeagentset/blob/main/docs/install.md\n",
		},
	}
	for _, a := range archives {
		p.Spec.Platforms = append(p.Spec.Platforms, Platform{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"os": a.Target.OS, "arch": a.Target.Arch}},
			URI:      strings.TrimSuffix(uriBase, "/") + "/" + version + "/" + ArchiveName(a.Target),
			Sha256:   a.Sha256,
			Files:    []FileOperation{{From: binName(a.Target.OS), To: "."}, {From: "README.md", To: "."}},
			Bin:      binName(a.Target.OS),
		})
	}
	return p
}

// Marshal renders a manifest as krew-index stores it.
func Marshal(p Plugin) ([]byte, error) {
	data, err := yaml.Marshal(p)
	if err != nil {
		return nil, err
	}
	// ObjectMeta's creationTimestamp is always written, as null; krew ignores it and krew-index has none.
	data = []byte(strings.Replace(string(data), "  creationTimestamp: null\n", "", 1))
	header := fmt.Sprintf("# krew plugin manifest for kubectl nas %s, written by `make plugin-archives`.\n", p.Spec.Version)
	return append([]byte(header), data...), nil
}

// Unmarshal reads a manifest strictly: an unknown field is an error, as in krew.
func Unmarshal(data []byte) (Plugin, error) {
	var p Plugin
	err := yaml.UnmarshalStrict(data, &p)
	return p, err
}
