package packaging

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

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

// runHealthCheck runs health.lua the way Argo CD does: the object is the global obj, converted from its JSON form,
// in a state with only the base, table, string and math libraries; the script returns a table with status and
// message.
func runHealthCheck(script string, obj map[string]any) (status, message string, err error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return "", "", err
	}
	result, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("health.lua returned %s, not a table", L.Get(-1).Type())
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
			status, message, err := runHealthCheck(string(script), obj)
			if err != nil {
				t.Fatal(err)
			}
			if !argoHealthStatuses[status] {
				t.Fatalf("status %q is not one Argo CD knows", status)
			}
			if status != tc.HealthStatus.Status || message != tc.HealthStatus.Message {
				t.Errorf("health = %s %q, want %s %q", status, message, tc.HealthStatus.Status, tc.HealthStatus.Message)
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
