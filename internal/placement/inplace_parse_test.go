package placement

import (
	"fmt"
	"reflect"
	"testing"
)

// The memo must answer exactly as decoding does, a second time as the first, and stay within its bound.
func TestParseInPlaceUpdateState(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   InPlaceUpdateState
		wantOK bool
	}{
		{"a state", `{"revision":"h2","containers":{"agent":{"image":"agent:1","imageID":"sha256:a","restartCount":3}}}`,
			InPlaceUpdateState{Revision: "h2", Containers: map[string]ContainerBeforePatch{"agent": {Image: "agent:1", ImageID: "sha256:a", RestartCount: 3}}}, true},
		{"not JSON", `{"revision":`, InPlaceUpdateState{}, false},
		{"the wrong shape, partly decoded before the error", `{"revision":"h2","containers":[1]}`, InPlaceUpdateState{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 2 {
				got, ok := parseInPlaceUpdateState(tt.raw)
				if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("round %d: parseInPlaceUpdateState = %+v, %v; want %+v, %v", round, got, ok, tt.want, tt.wantOK)
				}
			}
		})
	}
	for i := range maxMemoEntries + 10 {
		parseInPlaceUpdateState(fmt.Sprintf(`{"revision":"r%d","containers":{}}`, i))
	}
	parsedStates.mu.Lock()
	n := len(parsedStates.byKey)
	parsedStates.mu.Unlock()
	if n > maxMemoEntries {
		t.Errorf("%d states remembered, more than the bound %d", n, maxMemoEntries)
	}
}
