package packaging

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// dockerfile is the parts of the Dockerfile the tests check.
type dockerfile struct {
	stages    []string // FROM images, in order
	copies    [][]string
	user      string
	buildEnv  map[string]string // the go build line's environment assignments
	buildArgs []string          // the arguments after `go`
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var df dockerfile
	for _, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			df.stages = append(df.stages, strings.Fields(rest)[0])
		case "COPY":
			fields := strings.Fields(rest)
			if !strings.HasPrefix(fields[0], "--from") {
				df.copies = append(df.copies, fields[:len(fields)-1])
			}
		case "USER":
			df.user = rest
		case "RUN":
			words, err := shellWords(rest)
			if err != nil {
				t.Fatalf("RUN %s: %v", rest, err)
			}
			env := map[string]string{}
			i := 0
			for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
				k, v, _ := strings.Cut(words[i], "=")
				env[k] = v
			}
			if i+1 < len(words) && words[i] == "go" && words[i+1] == "build" {
				if df.buildArgs != nil {
					t.Fatal("the Dockerfile has two go build lines")
				}
				df.buildEnv, df.buildArgs = env, words[i+1:]
			}
		}
	}
	if df.buildArgs == nil {
		t.Fatal("the Dockerfile has no RUN ... go build line")
	}
	return df
}

// shellWords splits a shell command line into words, honouring double and single quotes (no escapes or variables:
// the Dockerfile's build line does not need them).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// expandBuildArg resolves the Dockerfile's ${VAR} and ${VAR:-default} with the values a build on this machine's
// architecture would get.
func expandBuildArg(v string) string {
	return os.Expand(v, func(name string) string {
		key, def, _ := strings.Cut(name, ":-")
		switch key {
		case "TARGETOS":
			return "linux"
		case "TARGETARCH":
			return runtime.GOARCH
		}
		return def
	})
}

func TestDockerfileShape(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))

	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var goVersion string
	for _, line := range strings.Split(string(goMod), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			parts := strings.Split(strings.TrimSpace(v), ".")
			goVersion = parts[0] + "." + parts[1]
		}
	}
	if len(df.stages) != 2 || df.stages[0] != "golang:"+goVersion {
		t.Errorf("stages %q, want golang:%s then the runtime image", df.stages, goVersion)
	}
	if len(df.stages) > 0 && df.stages[len(df.stages)-1] != "gcr.io/distroless/static:nonroot" {
		t.Errorf("runtime image %q, want gcr.io/distroless/static:nonroot", df.stages[len(df.stages)-1])
	}
	if df.user != "65532:65532" {
		t.Errorf("USER %q, want 65532:65532 (distroless nonroot)", df.user)
	}
	if df.buildEnv["CGO_ENABLED"] != "0" {
		t.Errorf("go build runs with CGO_ENABLED=%q, want 0", df.buildEnv["CGO_ENABLED"])
	}
	if !slices.Contains(df.buildArgs, "-trimpath") {
		t.Errorf("go build %q lacks -trimpath", df.buildArgs)
	}
	if df.buildArgs[len(df.buildArgs)-1] != "./cmd" {
		t.Errorf("go build %q does not build ./cmd", df.buildArgs)
	}

	// Every package of the module that the manager imports must be copied into the build stage, or the image build
	// fails where `go build` on a checkout succeeds.
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./cmd")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var copied []string
	for _, c := range df.copies {
		copied = append(copied, c...)
	}
	// With a .dockerignore that excludes everything, each COPY source must be let back in by a ! line.
	if ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore")); err == nil {
		lines := strings.Split(string(ignore), "\n")
		if slices.Contains(lines, "*") {
			for _, c := range copied {
				if c != "./" && !slices.Contains(lines, "!"+c) && !slices.Contains(lines, "!"+strings.TrimSuffix(c, "/")) {
					t.Errorf(".dockerignore excludes everything but does not let the COPY source %s back in", c)
				}
			}
		}
	}
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		found := false
		for _, c := range copied {
			c = strings.TrimSuffix(c, "/")
			found = found || rel == c || strings.HasPrefix(rel+"/", c+"/")
		}
		if !found {
			t.Errorf("package directory %s is not copied into the build stage (COPY sources %q)", rel, copied)
		}
	}
}

// TestManagerBuildsStaticAsInTheDockerfile runs the Dockerfile's go build line on this checkout and checks that the
// result is a static Linux executable without build paths, as the distroless static image needs.
func TestManagerBuildsStaticAsInTheDockerfile(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	out := filepath.Join(t.TempDir(), "manager")

	args := slices.Clone(df.buildArgs)
	for i := range args {
		args[i] = expandBuildArg(args[i])
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	for k, v := range df.buildEnv {
		cmd.Env = append(cmd.Env, k+"="+expandBuildArg(v))
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
	}

	f, err := elf.Open(out)
	if err != nil {
		t.Fatalf("the manager is not an ELF executable: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the manager has a program interpreter: it is dynamically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the manager needs shared libraries %q", libs)
	}

	info, err := buildinfo.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux"} {
		if settings[k] != want {
			t.Errorf("build setting %s=%q, want %q", k, settings[k], want)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(root)) {
		t.Errorf("the manager contains the build directory %s: -trimpath did not apply", root)
	}
}
