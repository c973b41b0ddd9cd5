package packaging

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// healthCheckDir is the Argo CD resource customization for NodeAgentSet, in the layout of Argo CD's
// resource_customizations/<group>/<kind>/ directory.
const healthCheckDir = "argocd/resource_customizations/apps.nodeagentset.io/NodeAgentSet"

// healthTests is health_test.yaml: Argo CD's format for a health check's test cases.
type healthTests struct {
	Tests []struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

// argoHealthStatuses are the statuses Argo CD accepts from a health check.
var argoHealthStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// runHealthCheck runs health.lua in Argo CD's default sandbox: the one a check from argocd-cm gets unless
// resource.customizations.useOpenLibs.<group_kind> is "true".
func runHealthCheck(script string, obj map[string]any) (status, message string, err error) {
	return runHealthCheckIn(argoSandbox{}, script, obj)
}

// argoSandbox is the Lua state Argo CD (util/lua, VM.runLua) runs a health check in, built with the same library,
// gopher-lua:
//   - lua.NewState with SkipOpenLibs unless useOpenLibs is set for the kind (then every standard library is open);
//   - then, in any case, package, base and table are opened, each called with its library name;
//   - then Argo CD's safe os: its opener registers time and date under the table library's name, which gopher-lua
//     finds already loaded and leaves alone, so no global os exists; require("os") is preloaded to return a table
//     with just time and date;
//   - obj is set as a global, and the script runs under a one-second context deadline.
//
// Newer Argo CD releases also preload a json module for require("json"); health.lua requires nothing (the test
// checks), so it is left out.
type argoSandbox struct{ useOpenLibs bool }

func (s argoSandbox) String() string {
	if s.useOpenLibs {
		return "useOpenLibs"
	}
	return "default sandbox"
}

// safeOsFuncs are the os functions Argo CD's sandbox exposes: time and date.
var safeOsFuncs = map[string]lua.LGFunction{"time": safeOsTime, "date": safeOsDate}

func safeOsTime(L *lua.LState) int {
	if L.GetTop() == 0 {
		L.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	tbl := L.CheckTable(1)
	field := func(name string, def int) int {
		if n, ok := tbl.RawGetString(name).(lua.LNumber); ok {
			return int(n)
		}
		return def
	}
	t := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1),
		field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
	L.Push(lua.LNumber(t.Unix()))
	return 1
}

func safeOsDate(L *lua.LState) int {
	t := time.Now()
	layout := "%c"
	if L.GetTop() >= 1 {
		layout = L.CheckString(1)
		if strings.HasPrefix(layout, "!") {
			t, layout = t.UTC(), layout[1:]
		}
		if L.GetTop() >= 2 {
			t = time.Unix(L.CheckInt64(2), 0)
		}
	}
	if strings.HasPrefix(layout, "*t") {
		tbl := L.NewTable()
		for k, v := range map[string]int{"year": t.Year(), "month": int(t.Month()), "day": t.Day(), "hour": t.Hour(),
			"min": t.Minute(), "sec": t.Second(), "wday": int(t.Weekday()) + 1} {
			tbl.RawSetString(k, lua.LNumber(v))
		}
		L.Push(tbl)
		return 1
	}
	L.Push(lua.LString(t.Format(time.RFC1123)))
	return 1
}

func (s argoSandbox) newState() *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: !s.useOpenLibs})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, func(L *lua.LState) int {
			L.Push(L.RegisterModule(lua.TabLibName, safeOsFuncs))
			return 1
		}},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			panic(err)
		}
	}
	L.PreloadModule(lua.OsLibName, func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), safeOsFuncs))
		return 1
	})
	return L
}

// runHealthCheckIn runs health.lua the way Argo CD does: the object is the global obj, converted from its
// unstructured form, and the script returns a table with status and message.
func runHealthCheckIn(sandbox argoSandbox, script string, obj map[string]any) (status, message string, err error) {
	L := sandbox.newState()
	defer L.Close()
	runCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(runCtx)
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return "", "", fmt.Errorf("%s: %w", sandbox, err)
	}
	result, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("%s: health.lua returned %s, not a table", sandbox, L.Get(-1).Type())
	}
	return lua.LVAsString(result.RawGetString("status")), lua.LVAsString(result.RawGetString("message")), nil
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch t := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(t)
	case string:
		return lua.LString(t)
	case float64:
		return lua.LNumber(t)
	case int64:
		return lua.LNumber(t)
	case map[string]any:
		tbl := L.NewTable()
		for k, e := range t {
			tbl.RawSetString(k, toLua(L, e))
		}
		return tbl
	case []any:
		tbl := L.NewTable()
		for _, e := range t {
			tbl.Append(toLua(L, e))
		}
		return tbl
	default:
		panic(fmt.Sprintf("unexpected %T in a decoded object", v))
	}
}

func TestArgoCDHealthCheck(t *testing.T) {
	dir := filepath.Join(repoRoot(t), healthCheckDir)
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases healthTests
	if err := yaml.UnmarshalStrict(raw, &cases); err != nil {
		t.Fatalf("health_test.yaml: %v", err)
	}

	covered := map[string]bool{}
	for _, tc := range cases.Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			covered[filepath.Clean(tc.InputPath)] = true
			data, err := os.ReadFile(filepath.Join(dir, tc.InputPath))
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := yaml.Unmarshal(data, &obj); err != nil {
				t.Fatal(err)
			}
			// The default sandbox is what the documented argocd-cm snippet gets; useOpenLibs is what Argo CD's own
			// built-in checks and its tests get. Both must give the same answer.
			for _, sandbox := range []argoSandbox{{}, {useOpenLibs: true}} {
				status, message, err := runHealthCheckIn(sandbox, string(script), obj)
				if err != nil {
					t.Fatal(err)
				}
				if !argoHealthStatuses[status] {
					t.Fatalf("%s: status %q is not one Argo CD knows", sandbox, status)
				}
				if status != tc.HealthStatus.Status || message != tc.HealthStatus.Message {
					t.Errorf("%s: health = %s %q, want %s %q", sandbox, status, message, tc.HealthStatus.Status,
						tc.HealthStatus.Message)
				}
			}
		})
	}

	t.Run("every testdata file has a case", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			if !covered[rel] {
				missing = append(missing, rel)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("testdata files without a case in health_test.yaml: %v", missing)
		}
	})

	t.Run("every health status is exercised", func(t *testing.T) {
		seen := map[string]bool{}
		for _, tc := range cases.Tests {
			seen[tc.HealthStatus.Status] = true
		}
		for _, want := range []string{"Healthy", "Progressing", "Degraded", "Suspended"} {
			if !seen[want] {
				t.Errorf("no case expects %s", want)
			}
		}
	})
}

// TestArgoCDDocsCarryTheHealthCheck keeps the argocd-cm snippet in docs/argocd.md identical to health.lua.
func TestArgoCDDocsCarryTheHealthCheck(t *testing.T) {
	root := repoRoot(t)
	script, err := os.ReadFile(filepath.Join(root, healthCheckDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "argocd.md"))
	if err != nil {
		t.Fatal(err)
	}
	const key = "  resource.customizations.health.apps.nodeagentset.io_NodeAgentSet: |\n"
	_, block, found := strings.Cut(string(doc), key)
	if !found {
		t.Fatalf("docs/argocd.md has no argocd-cm entry %q", strings.TrimSpace(key))
	}
	block, _, _ = strings.Cut(block, "```")
	var lua strings.Builder
	for _, line := range strings.SplitAfter(block, "\n") {
		lua.WriteString(strings.TrimPrefix(line, "    "))
	}
	if lua.String() != string(script) {
		t.Error("the health check in docs/argocd.md differs from health.lua; paste health.lua again, indented by four spaces")
	}
}

// TestArgoCDSandbox pins the sandbox to what Argo CD gives a check from argocd-cm, so the health check test cannot
// pass on a state more generous than the real one: the check that broke (string.format) must fail here.
func TestArgoCDSandbox(t *testing.T) {
	probe := func(sandbox argoSandbox, expr string) (string, error) {
		status, _, err := runHealthCheckIn(sandbox, "return {status = "+expr+"}", map[string]any{})
		return status, err
	}
	for _, tc := range []struct {
		expr        string
		defaultWant string // "" when the default sandbox must raise an error
		openWant    string
	}{
		{`type(string)`, "nil", "table"},
		{`type(math)`, "nil", "table"},
		{`type(io)`, "nil", "table"},
		{`type(os)`, "nil", "table"},
		{`type(table.insert)`, "function", "function"},
		{`type(table.date)`, "nil", "nil"},
		{`type(require("os").time())`, "number", "number"},
		{`type(require("os").exit)`, "nil", "nil"},
		{`tostring(3) .. " of " .. 4`, "3 of 4", "3 of 4"},
		{`string.format("%d", 1)`, "", "1"},
		{`("x"):upper()`, "", "X"},
	} {
		got, err := probe(argoSandbox{}, tc.expr)
		switch {
		case tc.defaultWant == "" && err == nil:
			t.Errorf("default sandbox: %s = %q, want an error (Argo CD has no string library there)", tc.expr, got)
		case tc.defaultWant != "" && (err != nil || got != tc.defaultWant):
			t.Errorf("default sandbox: %s = %q, %v; want %q", tc.expr, got, err, tc.defaultWant)
		}
		if got, err := probe(argoSandbox{useOpenLibs: true}, tc.expr); err != nil || got != tc.openWant {
			t.Errorf("useOpenLibs: %s = %q, %v; want %q", tc.expr, got, err, tc.openWant)
		}
	}

	script, err := os.ReadFile(filepath.Join(repoRoot(t), healthCheckDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(script), "require") {
		t.Error("health.lua requires a module; the sandbox here preloads only os, as Argo CD's does")
	}
}
