package describe

import (
	"bytes"
	"fmt"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// NodeOverrides renders a revision's spec.nodeOverrides below its pod template, in the same layout: per override its
// node selector and, per container, the resources and environment it sets. No overrides renders nothing, so the
// output for a set without them is what it always was.
func NodeOverrides(overrides []v1alpha1.NodeOverride) string {
	if len(overrides) == 0 {
		return ""
	}
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	p := printer{w: w}
	p.line(level0, "Node Overrides:")
	for i := range overrides {
		o := &overrides[i]
		p.line(level1, o.Name+":")
		p.field(level2, "Node-Selector", selectorString(&o.NodeSelector))
		for j := range o.Containers {
			c := &o.Containers[j]
			p.line(level2, "Container "+c.Name+":")
			if c.Resources != nil {
				p.resourcesAt(level3, level3+"  ", "Limits", c.Resources.Limits)
				p.resourcesAt(level3, level3+"  ", "Requests", c.Resources.Requests)
			}
			if len(c.Env) > 0 {
				p.line(level3, "Environment:")
				for _, e := range c.Env {
					p.field(level3+"  ", e.Name, envValue(e))
				}
			}
		}
	}
	_ = w.Flush()
	return buf.String()
}

func selectorString(s *metav1.LabelSelector) string {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return fmt.Sprintf("<invalid: %v>", err)
	}
	if str := sel.String(); str != "" {
		return str
	}
	return "<every node>"
}
