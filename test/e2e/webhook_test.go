//go:build e2e

package e2e

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("A rejected manifest", func() {
	It("shows the webhook's message and stores nothing", func() {
		if _, err := os.Stat(filepath.Join(root, "config", "webhook", "manifests.yaml")); err != nil {
			Skip("config/webhook/manifests.yaml does not exist: the manager has no admission webhooks to test")
		}
		if os.Getenv("ENABLE_WEBHOOKS") == "false" {
			Skip("ENABLE_WEBHOOKS=false")
		}
		ns := createNamespace("e2e-webhook")

		out, err := kubectl("apply", "-n", ns, "-f", testdata("bad-selector.yaml"))
		Expect(err).To(HaveOccurred(), "the bad manifest was accepted:\n%s", out)
		// kubectl words an Invalid error from the webhook as it does the API server's own validation errors. A
		// matchExpressions selector is beyond the CRD schema's rules, so this is the webhook speaking.
		Expect(err.Error()).To(ContainSubstring(`The NodeAgentSet "bad-selector" is invalid: spec.selector: Invalid value: ` +
			`{"matchExpressions":[{"key":"app","operator":"In","values":["agent"]}]}: selector does not match template labels`))

		_, err = kubectl("get", "nas/bad-selector", "-n", ns)
		Expect(err).To(MatchError(ContainSubstring("NotFound")))
	})
})
