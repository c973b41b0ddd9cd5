package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// webhookKinds are the objects whose webhooks get rewritten; any other document is an error, so a surprise in the
// generated file is noticed instead of applied.
var webhookKinds = map[string]bool{
	"MutatingWebhookConfiguration":   true,
	"ValidatingWebhookConfiguration": true,
}

// PointAtURL returns copies of the webhook configuration documents whose every webhook calls base plus the path its
// Service reference named, trusting caBundle (PEM). It fails on a document of another kind and on a webhook without
// a Service path, naming the document and the webhook.
func PointAtURL(docs []map[string]any, base *url.URL, caBundle []byte) ([]map[string]any, error) {
	if base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("webhook base URL %q: want https://host:port", base.String())
	}
	if len(caBundle) == 0 {
		return nil, fmt.Errorf("caBundle is empty")
	}
	out := make([]map[string]any, 0, len(docs))
	for i, doc := range docs {
		kind, _ := doc["kind"].(string)
		name := nestedString(doc, "metadata", "name")
		if !webhookKinds[kind] {
			return nil, fmt.Errorf("document %d (%s %q): not a webhook configuration", i+1, kind, name)
		}
		copied := deepCopy(doc).(map[string]any)
		webhooks, _ := copied["webhooks"].([]any)
		for j, w := range webhooks {
			hook, ok := w.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s %q: webhooks[%d] is not an object", kind, name, j)
			}
			hookName, _ := hook["name"].(string)
			path := nestedString(hook, "clientConfig", "service", "path")
			if path == "" {
				return nil, fmt.Errorf("%s %q: webhook %q (webhooks[%d]): clientConfig.service.path is empty",
					kind, name, hookName, j)
			}
			target := *base
			target.Path = strings.TrimSuffix(base.Path, "/") + path
			hook["clientConfig"] = map[string]any{
				"url":      target.String(),
				"caBundle": base64.StdEncoding.EncodeToString(caBundle),
			}
		}
		out = append(out, copied)
	}
	return out, nil
}

func nestedString(obj map[string]any, fields ...string) string {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[f]
	}
	s, _ := cur.(string)
	return s
}

// deepCopy copies the JSON-like values a YAML document decodes to.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}
