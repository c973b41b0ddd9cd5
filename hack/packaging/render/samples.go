package render

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// SamplesDir holds the example NodeAgentSets, relative to the repository root.
const SamplesDir = "config/samples"

// Samples returns the example objects of the given kind from config/samples: the kustomization's output when there
// is a kustomization.yaml (its order is the curated one), otherwise every *.yaml file in name order.
func Samples(repoRoot, kind string) ([]*unstructured.Unstructured, error) {
	dir := filepath.Join(repoRoot, SamplesDir)
	var objs []*unstructured.Unstructured
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		objs, err = Objects(Options{RepoRoot: repoRoot, Dir: SamplesDir})
		if err != nil {
			return nil, err
		}
	} else {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("reading samples: %w", err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			data, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return nil, err
			}
			docs, err := Decode(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(SamplesDir, n), err)
			}
			objs = append(objs, docs...)
		}
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out, nil
}
