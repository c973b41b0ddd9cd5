package v1alpha1_test

import (
	"os"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

var _ = Describe("zz kubectl", func() {
	It("runs kubectl", func(ctx SpecContext) {
		user, err := testEnv.AddUser(envtest.User{Name: "doc", Groups: []string{"system:masters"}}, nil)
		Expect(err).NotTo(HaveOccurred())
		kc, err := user.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		dir := "/tmp/nas-doc"
		os.MkdirAll(dir, 0o755)
		Expect(os.WriteFile(filepath.Join(dir, "kubeconfig"), kc, 0o600)).To(Succeed())
		out, _ := exec.Command("bash", filepath.Join(dir, "run.sh")).CombinedOutput()
		os.WriteFile(filepath.Join(dir, "out.txt"), out, 0o644)
	})
})
