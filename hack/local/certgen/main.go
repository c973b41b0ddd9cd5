package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// validity is long enough for any local session and short enough not to matter if a key leaks from a laptop.
const validity = 365 * 24 * time.Hour

func main() {
	pkiDir := flag.String("pki-dir", "", "directory for the CAs, certificates and keys (created)")
	kubeconfigDir := flag.String("kubeconfig-dir", "", "directory for one <component>.kubeconfig per client (created)")
	server := flag.String("server", "", "API server URL the kubeconfigs point at, e.g. https://127.0.0.1:6443")
	flag.Parse()
	if err := run(*pkiDir, *kubeconfigDir, *server); err != nil {
		fmt.Fprintf(os.Stderr, "certgen: %v\n", err)
		os.Exit(1)
	}
}

func run(pkiDir, kubeconfigDir, server string) error {
	if pkiDir == "" || kubeconfigDir == "" || server == "" {
		return fmt.Errorf("-pki-dir, -kubeconfig-dir and -server are required")
	}
	serverURL, err := url.Parse(server)
	if err != nil || serverURL.Scheme != "https" || serverURL.Host == "" {
		return fmt.Errorf("-server %q: want an https URL with a host", server)
	}

	cas := map[Signer]*authority{}
	for _, s := range []Signer{ClusterCA, WebhookCA} {
		ca, err := newAuthority("nodeagentset-local-" + string(s))
		if err != nil {
			return err
		}
		if err := writePair(pkiDir, string(s), ca.certPEM, ca.keyPEM); err != nil {
			return err
		}
		cas[s] = ca
	}

	issued := map[string][2][]byte{}
	for _, spec := range Plan() {
		certPEM, keyPEM, err := cas[spec.Signer].issue(spec)
		if err != nil {
			return fmt.Errorf("issue %s: %w", spec.File, err)
		}
		if err := writePair(pkiDir, spec.File, certPEM, keyPEM); err != nil {
			return err
		}
		issued[spec.File] = [2][]byte{certPEM, keyPEM}
	}

	if err := writeServiceAccountKeys(pkiDir); err != nil {
		return err
	}

	if err := os.MkdirAll(kubeconfigDir, 0o700); err != nil {
		return err
	}
	for _, c := range Clients() {
		pair := issued[c.Name]
		cfg := Kubeconfig(c, serverURL, cas[ClusterCA].certPEM, pair[0], pair[1])
		if err := clientcmd.WriteToFile(*cfg, filepath.Join(kubeconfigDir, c.Name+".kubeconfig")); err != nil {
			return fmt.Errorf("write kubeconfig for %s: %w", c.Name, err)
		}
	}
	return nil
}

// authority is a self-signed CA held in memory while the leaves are issued.
type authority struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

func newAuthority(commonName string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, certPEM: encodeCert(der), keyPEM: keyPEM}, nil
}

func (a *authority) issue(spec CertSpec) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.CommonName, Organization: spec.Organizations},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{spec.Usage},
		DNSNames:     spec.DNSNames,
		IPAddresses:  spec.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}

// writeServiceAccountKeys writes sa.key (the controller-manager signs tokens with it, the API server too for the
// TokenRequest API) and sa.pub (the API server verifies tokens with it). RSA because every consumer accepts it.
func writeServiceAccountKeys(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
}

func writePair(dir, base string, certPEM, keyPEM []byte) error {
	path := filepath.Join(dir, base)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path+".crt", certPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(path+".key", keyPEM, 0o600)
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}
