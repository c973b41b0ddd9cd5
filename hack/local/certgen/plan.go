package main

import (
	"crypto/x509"
	"net"
	"net/url"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Signer names which CA signs a certificate.
type Signer string

const (
	// ClusterCA signs everything the API server trusts or serves with.
	ClusterCA Signer = "ca"
	// WebhookCA signs only the webhook server's certificate; the API server gets it as the webhook caBundle.
	WebhookCA Signer = "webhook-ca"
)

// CertSpec is one leaf certificate to issue.
type CertSpec struct {
	// File is the base name of the .crt/.key pair, relative to the PKI directory.
	File string
	// CommonName and Organizations become the user name and groups when the certificate is a client certificate.
	CommonName    string
	Organizations []string
	// Usage is ExtKeyUsageServerAuth or ExtKeyUsageClientAuth.
	Usage    x509.ExtKeyUsage
	DNSNames []string
	IPs      []net.IP
	Signer   Signer
}

// ClientIdentity is a component that talks to the API server with a client certificate and gets a kubeconfig.
type ClientIdentity struct {
	// Name is the kubeconfig's base name and the certificate's file name.
	Name          string
	User          string
	Organizations []string
}

// ManagerUser is the user name the NodeAgentSet manager authenticates as; hack/run-local.sh binds the generated
// manager-role ClusterRole to it, so the local cluster exercises the RBAC markers.
const ManagerUser = "nodeagentset-manager"

// Clients lists every client identity of the local cluster. The controller-manager and scheduler names are the ones
// the API server's bootstrap RBAC policy grants their roles to; kwok and the administrator are cluster admins.
func Clients() []ClientIdentity {
	return []ClientIdentity{
		{Name: "admin", User: "local-admin", Organizations: []string{"system:masters"}},
		{Name: "kube-controller-manager", User: "system:kube-controller-manager"},
		{Name: "kube-scheduler", User: "system:kube-scheduler"},
		{Name: "kwok", User: "kwok-controller", Organizations: []string{"system:masters"}},
		{Name: "manager", User: ManagerUser},
	}
}

// serviceIP is the first address of the service range (kube-apiserver --service-cluster-ip-range), which the API
// server gives to the kubernetes.default service.
var serviceIP = net.IPv4(10, 96, 0, 1)

// Plan returns the leaf certificates of a local cluster, in a fixed order.
func Plan() []CertSpec {
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	specs := []CertSpec{
		{
			File:       "apiserver",
			CommonName: "kube-apiserver",
			Usage:      x509.ExtKeyUsageServerAuth,
			DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
				"kubernetes.default.svc.cluster.local"},
			IPs:    append(loopback, serviceIP),
			Signer: ClusterCA,
		},
		{
			// Read by the manager from --webhook-cert-path under the names controller-runtime expects.
			File:       "webhook/tls",
			CommonName: "nodeagentset-webhook",
			Usage:      x509.ExtKeyUsageServerAuth,
			DNSNames:   []string{"localhost"},
			IPs:        loopback,
			Signer:     WebhookCA,
		},
	}
	for _, c := range Clients() {
		specs = append(specs, CertSpec{
			File:          c.Name,
			CommonName:    c.User,
			Organizations: c.Organizations,
			Usage:         x509.ExtKeyUsageClientAuth,
			Signer:        ClusterCA,
		})
	}
	return specs
}

// Kubeconfig returns a kubeconfig for client c against server with the certificates embedded, so the file works
// wherever it is copied.
func Kubeconfig(c ClientIdentity, server *url.URL, caPEM, certPEM, keyPEM []byte) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	const name = "nodeagentset-local"
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server.String(), CertificateAuthorityData: caPEM}
	cfg.AuthInfos[c.User] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: c.User, Namespace: "default"}
	cfg.CurrentContext = name
	return cfg
}
