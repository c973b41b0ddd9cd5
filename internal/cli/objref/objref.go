package objref

import (
	"fmt"
	"strings"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

var (
	// kind is the lower-case kind qualified by the group, the prefix of `<kind>.<group>/<name>`.
	kind = "nodeagentset." + v1alpha1.GroupVersion.Group
	// resource is the plural resource qualified by the group, as API server error messages spell it.
	resource = "nodeagentsets." + v1alpha1.GroupVersion.Group
)

// Printed is the name as kubectl prints an object it changed: nodeagentset.apps.nodeagentset.io/NAME.
func Printed(name string) string {
	return kind + "/" + name
}

// Quoted is the name as API server errors spell it: nodeagentsets.apps.nodeagentset.io "NAME".
func Quoted(name string) string {
	return fmt.Sprintf("%s %q", resource, name)
}

// typeNames are the prefixes accepted before a slash in a name argument, so that `nas/x`, `nodeagentset/x` and a
// pasted `nodeagentset.apps.nodeagentset.io/x` all name the set x.
var typeNames = map[string]bool{
	"nas":           true,
	"nodeagentset":  true,
	"nodeagentsets": true,
	kind:            true,
	resource:        true,
}

// ParseName reads a set's name from a command argument: NAME or TYPE/NAME with TYPE one of nas, nodeagentset,
// nodeagentsets or their group-qualified forms.
func ParseName(arg string) (string, error) {
	name := arg
	if typ, rest, found := strings.Cut(arg, "/"); found {
		if !typeNames[strings.ToLower(typ)] {
			return "", fmt.Errorf("argument %q: resource type %q is not a NodeAgentSet (use NAME, nas/NAME or nodeagentset/NAME)", arg, typ)
		}
		name = rest
	}
	if name == "" {
		return "", fmt.Errorf("argument %q: the NodeAgentSet name is empty", arg)
	}
	if strings.Contains(name, "/") {
		return "", fmt.Errorf("argument %q: a NodeAgentSet name cannot contain %q", arg, "/")
	}
	return name, nil
}
