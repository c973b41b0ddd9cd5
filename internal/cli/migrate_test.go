package cli

import (
	"strings"
	"testing"
)

func TestParseDaemonSetRef(t *testing.T) {
	for _, arg := range []string{"daemonset/agent", "ds/agent", "daemonsets/agent", "daemonset.apps/agent"} {
		if name, err := parseDaemonSetRef(arg); err != nil || name != "agent" {
			t.Errorf("%s: %q, %v", arg, name, err)
		}
	}
	for arg, want := range map[string]string{
		"agent":            "want daemonset/NAME",
		"daemonset/":       "want daemonset/NAME",
		"deployment/agent": "only a DaemonSet can be migrated",
		"ds/a/b":           "want daemonset/NAME",
	} {
		if _, err := parseDaemonSetRef(arg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", arg, err, want)
		}
	}
}
