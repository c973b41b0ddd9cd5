package krew

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const repoRoot = "../../.."

// checkReleaseManifest applies krew's rules to a manifest for all six platforms and checks what krew-index asks
// beyond them: each os/arch served by exactly one archive, at the release's URI, with the right bin.
func checkReleaseManifest(t *testing.T, p Plugin) {
	t.Helper()
	if err := Validate(Name, p); err != nil {
		t.Fatal(err)
	}
	for _, target := range Targets {
		pl, err := PlatformFor(p, target.OS, target.Arch)
		if err != nil {
			t.Errorf("%s/%s: %v", target.OS, target.Arch, err)
			continue
		}
		wantURI := DefaultURIBase + "/" + p.Spec.Version + "/" + ArchiveName(target)
		if pl.URI != wantURI {
			t.Errorf("%s/%s: uri %q, want %q", target.OS, target.Arch, pl.URI, wantURI)
		}
		if pl.Bin != binName(target.OS) {
			t.Errorf("%s/%s: bin %q, want %q", target.OS, target.Arch, pl.Bin, binName(target.OS))
		}
	}
	if len(p.Spec.Platforms) != len(Targets) {
		t.Errorf("%d platforms, want %d", len(p.Spec.Platforms), len(Targets))
	}
}

// TestReleaseManifestFollowsKrewRules checks the manifest `make plugin-archives` writes for the six platforms,
// through the same Marshal and strict Unmarshal krew's reading amounts to; and plugins/nas.yaml itself once
// `make plugin-archives` has written it.
func TestReleaseManifestFollowsKrewRules(t *testing.T) {
	var archives []Archive
	for i, target := range Targets {
		sum := sha256.Sum256([]byte{byte(i)})
		archives = append(archives, Archive{Target: target, Sha256: hex.EncodeToString(sum[:])})
	}
	data, err := Marshal(NewManifest("v0.1.0", DefaultURIBase, archives))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Unmarshal(data)
	if err != nil {
		t.Fatalf("the written manifest does not read back strictly: %v\n%s", err, data)
	}
	checkReleaseManifest(t, p)

	committed, err := os.ReadFile(filepath.Join(repoRoot, "plugins", Name+".yaml"))
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err = Unmarshal(committed)
	if err != nil {
		t.Fatalf("plugins/nas.yaml: %v", err)
	}
	checkReleaseManifest(t, p)
}

func TestValidateRefusesWhatKrewRefuses(t *testing.T) {
	good := func() Plugin {
		return NewManifest("v0.1.0", DefaultURIBase, []Archive{{Target: Target{"linux", "amd64"}, Sha256: strings.Repeat("ab", 32)}})
	}
	if err := Validate(Name, good()); err != nil {
		t.Fatalf("a good manifest is refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		plugin string
		change func(*Plugin)
		want   string
	}{
		{"apiVersion", Name, func(p *Plugin) { p.APIVersion = "krew.googlecontainertools.github.com/v1alpha1" }, "apiVersion"},
		{"kind", Name, func(p *Plugin) { p.Kind = "Plugins" }, "kind"},
		{"unsafe name", "n/a", func(p *Plugin) { p.Metadata.Name = "n/a" }, "must match"},
		{"windows device name", "con", func(p *Plugin) { p.Metadata.Name = "con" }, "reserved"},
		{"name differs from file", Name, func(p *Plugin) { p.Metadata.Name = "nodeagentset" }, "metadata.name"},
		{"no short description", Name, func(p *Plugin) { p.Spec.ShortDescription = "" }, "shortDescription is empty"},
		{"two-line short description", Name, func(p *Plugin) { p.Spec.ShortDescription = "a\nb" }, "line break"},
		{"no version", Name, func(p *Plugin) { p.Spec.Version = "" }, "version is empty"},
		{"version without v", Name, func(p *Plugin) { p.Spec.Version = "0.1.0" }, "must start with v"},
		{"version not semver", Name, func(p *Plugin) { p.Spec.Version = "v1.2" }, "spec.version"},
		{"no platforms", Name, func(p *Plugin) { p.Spec.Platforms = nil }, "platforms is empty"},
		{"no uri", Name, func(p *Plugin) { p.Spec.Platforms[0].URI = "" }, "uri is empty"},
		{"no sha256", Name, func(p *Plugin) { p.Spec.Platforms[0].Sha256 = "" }, "sha256 is empty"},
		{"upper-case sha256", Name, func(p *Plugin) { p.Spec.Platforms[0].Sha256 = strings.Repeat("AB", 32) }, "must match"},
		{"short sha256", Name, func(p *Plugin) { p.Spec.Platforms[0].Sha256 = "abc" }, "must match"},
		{"no bin", Name, func(p *Plugin) { p.Spec.Platforms[0].Bin = "" }, "bin is empty"},
		{"empty files", Name, func(p *Plugin) { p.Spec.Platforms[0].Files = []FileOperation{} }, "files is given but empty"},
		{"file without to", Name, func(p *Plugin) { p.Spec.Platforms[0].Files[0].To = "" }, "from and to"},
		{"no selector", Name, func(p *Plugin) { p.Spec.Platforms[0].Selector = nil }, "selector is missing"},
		{"empty selector", Name, func(p *Plugin) { p.Spec.Platforms[0].Selector = &metav1.LabelSelector{} }, "selector is empty"},
		{"selector on another key", Name, func(p *Plugin) {
			p.Spec.Platforms[0].Selector.MatchLabels["distro"] = "debian"
		}, `selector key "distro"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.change(&p)
			err := Validate(tc.plugin, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestPlatformForRefusesOverlaps(t *testing.T) {
	p := NewManifest("v0.1.0", DefaultURIBase, []Archive{
		{Target: Target{"linux", "amd64"}, Sha256: strings.Repeat("ab", 32)},
		{Target: Target{"linux", "amd64"}, Sha256: strings.Repeat("cd", 32)},
	})
	if _, err := PlatformFor(p, "linux", "amd64"); err == nil {
		t.Error("two platforms for linux/amd64 were accepted")
	}
	if _, err := PlatformFor(p, "darwin", "arm64"); err == nil {
		t.Error("a platform no archive serves was accepted")
	}
}

// TestBuildArchiveInstallsLikeKrew builds the archive of this machine's platform only (the six are
// `make plugin-archives`' job), checks its sha256 file, and unpacks it the way krew does: every file operation's
// source must be in the archive, and the bin must run.
func TestBuildArchiveInstallsLikeKrew(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles kubectl-nas")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the unpacking below reads tar.gz")
	}
	target := Target{runtime.GOOS, runtime.GOARCH}
	a, err := Build(repoRoot, t.TempDir(), target)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != a.Sha256 {
		t.Fatalf("Build reported sha256 %s, the archive has %s", a.Sha256, got)
	}
	sumFile, err := os.ReadFile(a.Path + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if want := a.Sha256 + "  " + ArchiveName(target) + "\n"; string(sumFile) != want {
		t.Errorf(".sha256 = %q, want %q", sumFile, want)
	}

	p := NewManifest("v0.1.0", DefaultURIBase, []Archive{a})
	if err := Validate(Name, p); err != nil {
		t.Fatal(err)
	}
	pl, err := PlatformFor(p, target.OS, target.Arch)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Sha256 != a.Sha256 {
		t.Errorf("manifest sha256 %s, archive %s", pl.Sha256, a.Sha256)
	}

	unpacked := t.TempDir()
	untar(t, a.Path, unpacked)
	installed := t.TempDir()
	for _, f := range pl.Files {
		src := filepath.Join(unpacked, f.From)
		content, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("file operation from %q: %v", f.From, err)
		}
		info, _ := os.Stat(src)
		if err := os.WriteFile(filepath.Join(installed, f.To, filepath.Base(f.From)), content, info.Mode()); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(filepath.Join(installed, pl.Bin), "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", pl.Bin, err, out)
	}
	if !strings.Contains(string(out), "kubectl nas [command]") {
		t.Errorf("%s --help printed:\n%s", pl.Bin, out)
	}
}

func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dir, filepath.Base(hdr.Name)), os.O_CREATE|os.O_WRONLY, os.FileMode(hdr.Mode))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
}

// TestArchiveFormats checks both archive writers without compiling: krew unpacks the zip (Windows) and the tar.gz
// (the rest) and finds the files the manifest's file operations name.
func TestArchiveFormats(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubectl-nas.exe")
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, []byte("readme"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []struct{ src, name string }{{bin, "kubectl-nas.exe"}, {readme, "README.md"}}

	var zipped bytes.Buffer
	if err := writeZip(&zipped, files); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if !f.Modified.Equal(epoch) {
			t.Errorf("%s modified %v, want the fixed %v", f.Name, f.Modified, epoch)
		}
	}
	if strings.Join(names, ",") != "kubectl-nas.exe,README.md" {
		t.Errorf("zip holds %v", names)
	}

	var tarred bytes.Buffer
	files[0].name = "kubectl-nas"
	if err := writeTarGz(&tarred, files); err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(&tarred)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "kubectl-nas" || hdr.Mode&0o111 == 0 {
		t.Errorf("first tar entry %+v, %v; want an executable kubectl-nas", hdr, err)
	}
}
