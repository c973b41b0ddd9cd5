package testcluster

import "testing"

func TestParseStat(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantPID  int
		wantPPID int
		wantComm string
		wantOK   bool
	}{
		{
			name: "plain command", line: "4242 (etcd) S 17 4242 17 0 -1 4194560",
			wantPID: 4242, wantPPID: 17, wantComm: "etcd", wantOK: true,
		},
		{
			name: "command with spaces and parentheses", line: "7 (a (b) c) R 1 7 7 0",
			wantPID: 7, wantPPID: 1, wantComm: "a (b) c", wantOK: true,
		},
		{name: "no command", line: "12 S 1", wantOK: false},
		{name: "truncated after command", line: "12 (x) S", wantOK: false},
		{name: "pid not a number", line: "x (etcd) S 1", wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pid, ppid, comm, ok := parseStat(tc.line)
			if ok != tc.wantOK {
				t.Fatalf("parseStat(%q) ok = %v, want %v", tc.line, ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if pid != tc.wantPID || ppid != tc.wantPPID || comm != tc.wantComm {
				t.Errorf("parseStat(%q) = %d, %d, %q; want %d, %d, %q", tc.line, pid, ppid, comm, tc.wantPID, tc.wantPPID, tc.wantComm)
			}
		})
	}
}
