package krew

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Target is one platform krew installs on.
type Target struct{ OS, Arch string }

// Targets are the platforms krew-index expects a plugin to cover.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// binName is the plugin's executable inside the archive for the os.
func binName(goos string) string {
	if goos == "windows" {
		return "kubectl-nas.exe"
	}
	return "kubectl-nas"
}

// ArchiveName is the archive's file name: tar.gz, or zip on Windows (krew unpacks both).
func ArchiveName(t Target) string {
	if t.OS == "windows" {
		return fmt.Sprintf("kubectl-nas_%s_%s.zip", t.OS, t.Arch)
	}
	return fmt.Sprintf("kubectl-nas_%s_%s.tar.gz", t.OS, t.Arch)
}

// Archive is a built archive and its digest.
type Archive struct {
	Target Target
	Path   string
	Sha256 string
}

// epoch is the modification time of every archive entry, so an archive depends only on its contents.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Build cross-compiles ./cmd/kubectl-nas from repoRoot for t (CGO off, -trimpath, no VCS stamp) and packs it with
// the README into outDir/ArchiveName(t), writing the hex sha256 next to it as <archive>.sha256.
func Build(repoRoot, outDir string, t Target) (Archive, error) {
	work, err := os.MkdirTemp("", "kubectl-nas-"+t.OS+"-"+t.Arch+"-")
	if err != nil {
		return Archive{}, err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, binName(t.OS))
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, "./cmd/kubectl-nas")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOOS="+t.OS, "GOARCH="+t.Arch, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Archive{}, fmt.Errorf("go build for %s/%s: %w\n%s", t.OS, t.Arch, err, out)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Archive{}, err
	}
	files := []struct{ src, name string }{
		{bin, binName(t.OS)},
		{filepath.Join(repoRoot, "README.md"), "README.md"},
	}
	path := filepath.Join(outDir, ArchiveName(t))
	out, err := os.Create(path)
	if err != nil {
		return Archive{}, err
	}
	digest := sha256.New()
	w := io.MultiWriter(out, digest)
	if t.OS == "windows" {
		err = writeZip(w, files)
	} else {
		err = writeTarGz(w, files)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Archive{}, fmt.Errorf("writing %s: %w", path, err)
	}
	sum := hex.EncodeToString(digest.Sum(nil))
	// The sha256sum format, so `sha256sum -c` checks the archive.
	if err := os.WriteFile(path+".sha256", []byte(sum+"  "+filepath.Base(path)+"\n"), 0o644); err != nil {
		return Archive{}, err
	}
	return Archive{Target: t, Path: path, Sha256: sum}, nil
}

func writeTarGz(w io.Writer, files []struct{ src, name string }) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
		if f.name == binName("linux") {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, files []struct{ src, name string }) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: epoch}
		hdr.SetMode(0o755)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}
