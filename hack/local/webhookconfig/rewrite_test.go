package main

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func generatedValidating() map[string]any {
	return map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1",
		"kind":       "ValidatingWebhookConfiguration",
		"metadata":   map[string]any{"name": "validating-webhook-configuration"},
		"webhooks": []any{
			map[string]any{
				"name": "vnodeagentset-v1alpha1.kb.io",
				"clientConfig": map[string]any{
					"service": map[string]any{
						"name":      "webhook-service",
						"namespace": "system",
						"path":      "/validate-apps-nodeagentset-io-v1alpha1-nodeagentset",
					},
				},
				"sideEffects": "None",
			},
		},
	}
}

func TestPointAtURL(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
	tests := []struct {
		name    string
		doc     func() map[string]any
		base    string
		wantURL string
		wantErr string
	}{
		{
			name:    "service path is appended to the manager's base URL",
			doc:     generatedValidating,
			base:    "https://127.0.0.1:17943",
			wantURL: "https://127.0.0.1:17943/validate-apps-nodeagentset-io-v1alpha1-nodeagentset",
		},
		{
			name:    "a base URL with a trailing slash does not double it",
			doc:     generatedValidating,
			base:    "https://127.0.0.1:17943/",
			wantURL: "https://127.0.0.1:17943/validate-apps-nodeagentset-io-v1alpha1-nodeagentset",
		},
		{
			name:    "plain http is refused: the API server only calls webhooks over TLS",
			doc:     generatedValidating,
			base:    "http://127.0.0.1:17943",
			wantErr: `want https://host:port`,
		},
		{
			name: "a document of another kind is refused",
			doc: func() map[string]any {
				return map[string]any{"kind": "Service", "metadata": map[string]any{"name": "webhook-service"}}
			},
			base:    "https://127.0.0.1:17943",
			wantErr: `document 1 (Service "webhook-service"): not a webhook configuration`,
		},
		{
			name: "a webhook without a service path is refused by name",
			doc: func() map[string]any {
				d := generatedValidating()
				hook := d["webhooks"].([]any)[0].(map[string]any)
				hook["clientConfig"] = map[string]any{"url": "https://elsewhere"}
				return d
			},
			base:    "https://127.0.0.1:17943",
			wantErr: `webhook "vnodeagentset-v1alpha1.kb.io" (webhooks[0]): clientConfig.service.path is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := url.Parse(tt.base)
			if err != nil {
				t.Fatal(err)
			}
			in := tt.doc()
			got, err := PointAtURL([]map[string]any{in}, base, ca)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cc := got[0]["webhooks"].([]any)[0].(map[string]any)["clientConfig"].(map[string]any)
			if cc["url"] != tt.wantURL {
				t.Errorf("url = %v, want %s", cc["url"], tt.wantURL)
			}
			if _, hasService := cc["service"]; hasService {
				t.Errorf("service reference kept: %v", cc)
			}
			if cc["caBundle"] != base64.StdEncoding.EncodeToString(ca) {
				t.Errorf("caBundle = %v, want the CA base64-encoded", cc["caBundle"])
			}
			orig := in["webhooks"].([]any)[0].(map[string]any)["clientConfig"].(map[string]any)
			if _, ok := orig["service"]; !ok {
				t.Errorf("input was modified: %v", orig)
			}
		})
	}
}
