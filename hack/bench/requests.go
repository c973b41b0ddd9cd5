package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// requestCounts reads kube-apiserver's apiserver_request_total and sums it by "VERB resource[/subresource]". The
// difference between two readings is what every client asked for in between; with the bench's own and kwok's
// requests the same in both turns, the difference between the turns is the controllers'.
func (c *cluster) requestCounts(ctx context.Context) (map[string]float64, error) {
	raw, err := c.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		value, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		labels := map[string]string{}
		for _, kv := range strings.Split(line[len("apiserver_request_total{"):end], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				labels[k] = strings.Trim(v, `"`)
			}
		}
		key := labels["verb"] + " " + labels["resource"]
		if sub := labels["subresource"]; sub != "" {
			key += "/" + sub
		}
		out[key] += value
	}
	return out, sc.Err()
}

// requestDelta is after minus before, without the zero entries.
func requestDelta(before, after map[string]float64) map[string]int {
	out := map[string]int{}
	for k, a := range after {
		if d := int(a - before[k]); d > 0 {
			out[k] = d
		}
	}
	return out
}

// syncCount reads how many items the controller's work queue has processed (its syncs: reconciles of a set),
// from workqueue_work_duration_seconds_count of the queue named queue, which controller-runtime and
// kube-controller-manager both export.
func syncCount(ctx context.Context, url, queue string) (float64, error) {
	httpClient := insecureLoopbackClient(5 * time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var total float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "workqueue_work_duration_seconds_count{") || !strings.Contains(line, `name="`+queue+`"`) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndexByte(line, '}')+1:]), 64); err == nil {
			total += v
		}
	}
	return total, sc.Err()
}
