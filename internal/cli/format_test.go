package cli

import (
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestFormatError(t *testing.T) {
	notFound := apierrors.NewNotFound(schema.GroupResource{Group: "apps.nodeagentset.io", Resource: "nodeagentsets"}, "agent")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{name: "API error prints as from the server", err: notFound, want: `Error from server (NotFound): nodeagentsets.apps.nodeagentset.io "agent" not found`},
		{name: "wrapped API error keeps its context", err: fmt.Errorf("listing revisions: %w", notFound), want: `error: listing revisions: nodeagentsets.apps.nodeagentset.io "agent" not found`},
		{name: "plain error gets the error prefix", err: errors.New(`unable to find container named "x"`), want: `error: unable to find container named "x"`},
		{name: "an error prefix is not doubled", err: errors.New("error: bad"), want: "error: bad"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatError(tc.err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
