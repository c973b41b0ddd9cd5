package objref

import "testing"

func TestParseName(t *testing.T) {
	cases := []struct {
		name    string
		arg     string
		want    string
		wantErr string
	}{
		{name: "bare name", arg: "agent", want: "agent"},
		{name: "short name prefix", arg: "nas/agent", want: "agent"},
		{name: "kind prefix", arg: "nodeagentset/agent", want: "agent"},
		{name: "plural prefix", arg: "nodeagentsets/agent", want: "agent"},
		{name: "printed form pasted back", arg: "nodeagentset.apps.nodeagentset.io/agent", want: "agent"},
		{name: "prefix is case-insensitive", arg: "NodeAgentSet/agent", want: "agent"},
		{name: "other kind", arg: "ds/agent", wantErr: `argument "ds/agent": resource type "ds" is not a NodeAgentSet (use NAME, nas/NAME or nodeagentset/NAME)`},
		{name: "empty name after prefix", arg: "nas/", wantErr: `argument "nas/": the NodeAgentSet name is empty`},
		{name: "empty argument", arg: "", wantErr: `argument "": the NodeAgentSet name is empty`},
		{name: "two slashes", arg: "nas/a/b", wantErr: `argument "nas/a/b": a NodeAgentSet name cannot contain "/"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseName(tc.arg)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got (%q, %v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestSpellings(t *testing.T) {
	if got, want := Printed("agent"), "nodeagentset.apps.nodeagentset.io/agent"; got != want {
		t.Errorf("Printed = %q, want %q", got, want)
	}
	if got, want := Quoted("agent"), `nodeagentsets.apps.nodeagentset.io "agent"`; got != want {
		t.Errorf("Quoted = %q, want %q", got, want)
	}
}
