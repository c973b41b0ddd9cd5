package main

import (
	"crypto/x509"
	"net"
	"net/url"
	"slices"
	"testing"
)

func specByFile(t *testing.T, file string) CertSpec {
	t.Helper()
	for _, s := range Plan() {
		if s.File == file {
			return s
		}
	}
	t.Fatalf("no certificate %q in the plan", file)
	return CertSpec{}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		wantCN    string
		wantOrgs  []string
		wantUsage x509.ExtKeyUsage
		wantIPs   []string
		wantDNS   []string
		signer    Signer
	}{
		{
			name:      "API server serves loopback and the kubernetes service names",
			file:      "apiserver",
			wantCN:    "kube-apiserver",
			wantUsage: x509.ExtKeyUsageServerAuth,
			wantIPs:   []string{"127.0.0.1", "::1", "10.96.0.1"},
			wantDNS:   []string{"localhost", "kubernetes.default.svc"},
			signer:    ClusterCA,
		},
		{
			name:      "webhook server is signed by its own CA and serves loopback",
			file:      "webhook/tls",
			wantCN:    "nodeagentset-webhook",
			wantUsage: x509.ExtKeyUsageServerAuth,
			wantIPs:   []string{"127.0.0.1"},
			wantDNS:   []string{"localhost"},
			signer:    WebhookCA,
		},
		{
			name:      "controller-manager authenticates as the user bootstrap RBAC binds its role to",
			file:      "kube-controller-manager",
			wantCN:    "system:kube-controller-manager",
			wantUsage: x509.ExtKeyUsageClientAuth,
			signer:    ClusterCA,
		},
		{
			name:      "scheduler authenticates as the user bootstrap RBAC binds its role to",
			file:      "kube-scheduler",
			wantCN:    "system:kube-scheduler",
			wantUsage: x509.ExtKeyUsageClientAuth,
			signer:    ClusterCA,
		},
		{
			name:      "administrator is a cluster admin",
			file:      "admin",
			wantCN:    "local-admin",
			wantOrgs:  []string{"system:masters"},
			wantUsage: x509.ExtKeyUsageClientAuth,
			signer:    ClusterCA,
		},
		{
			name:      "manager is an ordinary user, so only its RBAC role authorizes it",
			file:      "manager",
			wantCN:    ManagerUser,
			wantUsage: x509.ExtKeyUsageClientAuth,
			signer:    ClusterCA,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := specByFile(t, tt.file)
			if s.CommonName != tt.wantCN || !slices.Equal(s.Organizations, tt.wantOrgs) {
				t.Errorf("subject = %s %v, want %s %v", s.CommonName, s.Organizations, tt.wantCN, tt.wantOrgs)
			}
			if s.Usage != tt.wantUsage || s.Signer != tt.signer {
				t.Errorf("usage/signer = %v/%s, want %v/%s", s.Usage, s.Signer, tt.wantUsage, tt.signer)
			}
			for _, ip := range tt.wantIPs {
				if !slices.ContainsFunc(s.IPs, func(got net.IP) bool { return got.Equal(net.ParseIP(ip)) }) {
					t.Errorf("IP SANs %v lack %s", s.IPs, ip)
				}
			}
			for _, dns := range tt.wantDNS {
				if !slices.Contains(s.DNSNames, dns) {
					t.Errorf("DNS SANs %v lack %s", s.DNSNames, dns)
				}
			}
		})
	}
}

func TestEveryClientHasACertificate(t *testing.T) {
	for _, c := range Clients() {
		s := specByFile(t, c.Name)
		if s.CommonName != c.User || s.Usage != x509.ExtKeyUsageClientAuth {
			t.Errorf("client %s: certificate %s/%v, want CN %s and client auth", c.Name, s.CommonName, s.Usage, c.User)
		}
	}
}

func TestIssuedChainsVerify(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir+"/pki", dir, "https://127.0.0.1:6443"); err != nil {
		t.Fatal(err)
	}
	for _, s := range Plan() {
		t.Run(s.File, func(t *testing.T) {
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(mustRead(t, dir+"/pki/"+string(s.Signer)+".crt"))
			leaf := parseCert(t, mustRead(t, dir+"/pki/"+s.File+".crt"))
			opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{s.Usage}}
			if s.Usage == x509.ExtKeyUsageServerAuth {
				opts.DNSName = "localhost"
			}
			if _, err := leaf.Verify(opts); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

func TestKubeconfigPointsAtServer(t *testing.T) {
	server, _ := url.Parse("https://127.0.0.1:17443")
	cfg := Kubeconfig(Clients()[0], server, []byte("ca"), []byte("cert"), []byte("key"))
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || cfg.Clusters[ctx.Cluster].Server != "https://127.0.0.1:17443" {
		t.Fatalf("current context does not point at the server: %+v", cfg)
	}
	if string(cfg.AuthInfos[ctx.AuthInfo].ClientKeyData) != "key" {
		t.Errorf("client key not embedded")
	}
}

func TestRunRefusesBadServer(t *testing.T) {
	for _, server := range []string{"", "http://127.0.0.1:6443", "127.0.0.1:6443"} {
		if err := run(t.TempDir(), t.TempDir(), server); err == nil {
			t.Errorf("server %q accepted", server)
		}
	}
}
