package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// ManagerImageName is the image name config/manager/manager.yaml uses for the manager container; Options.Image
// replaces it.
const ManagerImageName = "controller"

// Options say what to render.
type Options struct {
	// RepoRoot is the repository checkout; its config/ directory is rendered.
	RepoRoot string
	// Dir is the kustomization to render, relative to RepoRoot, for example "config/default".
	Dir string
	// Image, when not empty, replaces the manager image: "registry.example.com/nodeagentset:v0.1.0" or
	// "registry.example.com/nodeagentset@sha256:...".
	Image string
}

// YAML renders the kustomization and returns it as one multi-document YAML stream, in kustomize's output order
// (namespaces and CRDs first, webhooks last), which is also a valid order for `kubectl apply -f`.
func YAML(opts Options) ([]byte, error) {
	fsys, root, err := memoryTree(opts)
	if err != nil {
		return nil, err
	}
	// The same order as `kustomize build` and `kubectl kustomize`: namespaces and CRDs first, webhook configurations
	// last, so `kubectl apply -f` of the output creates each object after what it needs.
	kopts := krusty.MakeDefaultOptions()
	kopts.Reorder = krusty.ReorderOptionLegacy
	resources, err := krusty.MakeKustomizer(kopts).Run(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", opts.Dir, err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: writing YAML: %w", opts.Dir, err)
	}
	return out, nil
}

// Objects renders the kustomization and decodes each document into an unstructured object, in output order.
func Objects(opts Options) ([]*unstructured.Unstructured, error) {
	out, err := YAML(opts)
	if err != nil {
		return nil, err
	}
	return Decode(out)
}

// Decode splits a multi-document YAML stream into objects, skipping empty documents.
func Decode(stream []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading YAML document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("decoding YAML document %d: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// SplitImage splits an image reference into kustomize's name, tag and digest. The tag is what follows the last colon
// after the last slash, so a registry port ("localhost:5000/x") is not taken for a tag.
func SplitImage(ref string) (types.Image, error) {
	if ref == "" {
		return types.Image{}, errors.New("image reference is empty")
	}
	img := types.Image{Name: ManagerImageName}
	name := ref
	if at := strings.Index(ref, "@"); at >= 0 {
		name, img.Digest = ref[:at], ref[at+1:]
		if img.Digest == "" {
			return types.Image{}, fmt.Errorf("image %q: empty digest after @", ref)
		}
	} else if colon := strings.LastIndex(ref, ":"); colon > strings.LastIndex(ref, "/") {
		name, img.NewTag = ref[:colon], ref[colon+1:]
		if img.NewTag == "" {
			return types.Image{}, fmt.Errorf("image %q: empty tag after :", ref)
		}
	}
	if name == "" {
		return types.Image{}, fmt.Errorf("image %q: empty name", ref)
	}
	img.NewName = name
	return img, nil
}

// overlayDir is where the in-memory overlay that sets the image lives; config/ is copied to /config.
const overlayDir = "/.render-overlay"

// memoryTree copies RepoRoot/config into an in-memory file system and, when an image is given, adds an overlay
// that sets it. It returns the file system and the directory to build.
func memoryTree(opts Options) (filesys.FileSystem, string, error) {
	if opts.RepoRoot == "" || opts.Dir == "" {
		return nil, "", errors.New("render: RepoRoot and Dir must be set")
	}
	configDir := filepath.Join(opts.RepoRoot, "config")
	fsys := filesys.MakeFsInMemory()
	err := filepath.WalkDir(configDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(opts.RepoRoot, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fsys.WriteFile(path.Join("/", filepath.ToSlash(rel)), data)
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", configDir, err)
	}
	target := path.Join("/", filepath.ToSlash(opts.Dir))
	if !fsys.Exists(path.Join(target, "kustomization.yaml")) {
		return nil, "", fmt.Errorf("render: %s has no kustomization.yaml", filepath.Join(opts.RepoRoot, opts.Dir))
	}
	if opts.Image == "" {
		return fsys, target, nil
	}
	img, err := SplitImage(opts.Image)
	if err != nil {
		return nil, "", err
	}
	overlay := types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources: []string{".." + target}, // the overlay sits one level below the root
		Images:    []types.Image{img},
	}
	data, err := yaml.Marshal(overlay)
	if err != nil {
		return nil, "", err
	}
	if err := fsys.WriteFile(path.Join(overlayDir, "kustomization.yaml"), data); err != nil {
		return nil, "", err
	}
	return fsys, overlayDir, nil
}
