// Command crddescriptions drops the descriptions of the pod template's fields from the NodeAgentSet CRD that
// controller-gen wrote, and keeps every other description.
//
// The descriptions are what `kubectl explain nas...` prints, so controller-gen keeps them all; but the pod template
// alone would add several hundred KiB of core/v1 documentation, and `kubectl apply -f` (client-side) stores the whole
// CRD in its last-applied-configuration annotation, which the API server limits to 256 KiB. `kubectl explain pod`
// documents those fields already.
//
// Usage: go run ./hack/crddescriptions FILE...   (rewrites each CRD file in place)
package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: crddescriptions CRD_FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := trimFile(path); err != nil {
			fmt.Fprintf(os.Stderr, "crddescriptions: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func trimFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	crd, err := yaml.Parse(string(data))
	if err != nil {
		return err
	}
	if err := trimPodTemplate(crd); err != nil {
		return err
	}
	out, err := crd.String()
	if err != nil {
		return err
	}
	// controller-gen starts the file with a document marker; keep it so regenerating shows no diff.
	return os.WriteFile(path, []byte("---\n"+out), 0o644)
}

// trimPodTemplate removes the descriptions below spec.template in every version's schema; the template keeps its
// own description.
func trimPodTemplate(crd *yaml.RNode) error {
	versions, err := crd.Pipe(yaml.Lookup("spec", "versions"))
	if err != nil || versions == nil {
		return fmt.Errorf("no spec.versions: %v", err)
	}
	elements, err := versions.Elements()
	if err != nil {
		return err
	}
	for _, v := range elements {
		template, err := v.Pipe(yaml.Lookup("schema", "openAPIV3Schema", "properties", "spec", "properties", "template"))
		if err != nil {
			return err
		}
		if template == nil {
			return fmt.Errorf("version %s has no spec.template in its schema", yaml.GetValue(v.Field("name").Value))
		}
		if err := forEachSubschema(template, dropDescriptions); err != nil {
			return err
		}
	}
	return nil
}

// dropDescriptions removes a schema's description and those of all its subschemas.
func dropDescriptions(schema *yaml.RNode) error {
	if _, err := schema.Pipe(yaml.Clear("description")); err != nil {
		return err
	}
	return forEachSubschema(schema, dropDescriptions)
}

// forEachSubschema calls fn on the schemas directly inside schema: its properties, items, additionalProperties
// and the members of allOf, anyOf and oneOf. Keys of properties are field names, never schema keywords, so a field
// named "description" is kept.
func forEachSubschema(schema *yaml.RNode, fn func(*yaml.RNode) error) error {
	if props := schema.Field("properties"); props != nil {
		if err := props.Value.VisitFields(func(field *yaml.MapNode) error { return fn(field.Value) }); err != nil {
			return err
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		if f := schema.Field(key); f != nil && f.Value.YNode().Kind == yaml.MappingNode {
			if err := fn(f.Value); err != nil {
				return err
			}
		}
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if f := schema.Field(key); f != nil {
			members, err := f.Value.Elements()
			if err != nil {
				return err
			}
			for _, m := range members {
				if err := fn(m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
