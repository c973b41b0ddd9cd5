package ha

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nodeagentset/nodeagentset/test/testcluster"
)

// The manager serves its metrics as installed: over HTTPS, behind the token and access reviews of
// internal/metricsauth, here against the real API server's service-account tokens and RBAC.
var _ = Describe("the metrics endpoint", func() {
	It("serves metrics only to a token whose user may get /metrics, as the shipped metrics-reader role allows", func(ctx SpecContext) {
		ns := cluster.SpecNamespace(ctx, "metrics", nil)

		// The ClusterRole the install ships (config/rbac), under a name of this spec's, bound to one account.
		role := shippedMetricsReaderRole()
		role.Name = ns + "-metrics-reader"
		Expect(cluster.Client.Create(ctx, role)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(cluster.Client.Delete(ctx, role)).To(Succeed()) })
		for _, name := range []string{"scraper", "stranger"} {
			Expect(cluster.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})).To(Succeed())
		}
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ns + "-scraper"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "scraper"}},
		}
		Expect(cluster.Client.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { Expect(cluster.Client.Delete(ctx, binding)).To(Succeed()) })
		scraper, stranger := serviceAccountToken(ctx, ns, "scraper"), serviceAccountToken(ctx, ns, "stranger")

		port, err := testcluster.FreePort()
		Expect(err).NotTo(HaveOccurred())
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		binary, err := cluster.ManagerBinary(ctx)
		Expect(err).NotTo(HaveOccurred())
		// Later flags win: this replaces StartManagerProcess's --metrics-bind-address=0. --metrics-secure is the default.
		p, err := cluster.StartManagerProcess(binary, "metrics", "--metrics-bind-address="+addr)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(p.Stop)

		url := "https://" + addr + "/metrics"
		// The endpoint cannot be watched for; it is polled until the manager has started it and its controller.
		Eventually(func(g Gomega) {
			code, body := scrape(ctx, url, scraper)
			g.Expect(code).To(Equal(http.StatusOK))
			g.Expect(body).To(ContainSubstring(`controller_runtime_reconcile_total{controller="nodeagentset"`))
		}).WithContext(ctx).WithTimeout(settleTimeout).WithPolling(100 * time.Millisecond).Should(Succeed())

		code, body := scrape(ctx, url, "")
		Expect(code).To(Equal(http.StatusUnauthorized), "no token: %s", body)
		code, body = scrape(ctx, url, "not-a-token")
		Expect(code).To(Equal(http.StatusUnauthorized), "a token the API server does not accept: %s", body)
		code, body = scrape(ctx, url, stranger)
		Expect(code).To(Equal(http.StatusForbidden), "an account without the role: %s", body)
		Expect(body).To(ContainSubstring(fmt.Sprintf("system:serviceaccount:%s:stranger", ns)))
		Expect(body).NotTo(ContainSubstring("controller_runtime_"))
		code, body = scrape(ctx, url, scraper)
		Expect(code).To(Equal(http.StatusOK), "the bound account: %s", body)
	})
})

func shippedMetricsReaderRole() *rbacv1.ClusterRole {
	GinkgoHelper()
	root, err := testcluster.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	raw, err := os.ReadFile(filepath.Join(root, "config", "rbac", "metrics_reader_role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{}
	Expect(yaml.UnmarshalStrict(raw, role)).To(Succeed())
	Expect(role.Rules).NotTo(BeEmpty())
	return role
}

func serviceAccountToken(ctx context.Context, namespace, name string) string {
	GinkgoHelper()
	expiry := int64(600)
	tr, err := cluster.Clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return tr.Status.Token
}

// scrape GETs url with token as a bearer token (none if empty) and returns the status code and the body; a request
// that fails outright (nothing listening yet) gives code 0. The manager's certificate is self-signed, so it is not
// verified, as the docs' curl -k does.
func scrape(ctx context.Context, url, token string) (int, string) {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the manager's self-signed certificate
	}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}
