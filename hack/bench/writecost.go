package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// writeCost is what one kind of write costs the API server and etcd, measured as their CPU over a batch of such
// writes divided by the batch's size (so it includes the watch events every watcher gets). The bench measures it on
// the control plane before any node is registered, when nothing else writes.
type writeCost struct {
	Write string `json:"write"`
	Pods  int    `json:"pods"`
	// The medians over writeCostRounds rounds, and every round's figure.
	APIServerCPUMillis       float64   `json:"apiserverCPUMillisPerWrite"`
	EtcdCPUMillis            float64   `json:"etcdCPUMillisPerWrite"`
	APIServerCPUMillisRounds []float64 `json:"apiserverCPUMillisPerWriteRounds"`
	EtcdCPUMillisRounds      []float64 `json:"etcdCPUMillisPerWriteRounds"`
}

// writeCostRounds is how often the whole sequence is written: one round's figures vary by a fifth and more with
// what else the API server happens to do (its own garbage collection), the median of three less.
const writeCostRounds = 3

// leaseRenewal is the name of the lease renewal's write cost, which the phases' figures are corrected by.
const leaseRenewal = "node lease renewal"

// writeCostNode is the node the measured pods are bound to. No such node exists, so no kwok would ever take them
// on and every write is the bench's own; the scheduler and the garbage collector watch them, as they watch the
// sets' pods.
const writeCostNode = "bench-write-cost-node"

// measureWriteCosts writes n pods through the life the two controllers give theirs, one kind of write at a time,
// and reports what each kind costs: the create and the binding every new pod needs, the kubelet's status update,
// the strategic merge patch an in-place update sends (images, revision label, update-state annotation, as the
// NodeAgentSet does), the same kind of change as a JSON patch, and the delete; and a node lease's renewal, the
// load kwok puts on the API server whatever the controllers do; and each controller's status write. A rollout that recreates a pod pays create,
// binding, status and delete; one that updates it in place pays the patch and a status update.
func (c *cluster) measureWriteCosts(ctx context.Context, n int) ([]writeCost, error) {
	pods := c.kube.CoreV1().Pods(namespace)
	name := func(i int) string { return "bench-write-cost-" + strconv.Itoa(i) }
	uids := make([]types.UID, n)
	now := metav1.Now()
	writes := []struct {
		name  string
		write func(i int) error
	}{
		{"create", func(i int) error {
			tpl := template("write-cost", "write-cost")
			pod := &corev1.Pod{ObjectMeta: tpl.ObjectMeta, Spec: tpl.Spec}
			pod.Name, pod.Namespace = name(i), namespace
			// No scheduler takes it: the binding below is measured on its own.
			pod.Spec.SchedulerName = "bench-write-cost"
			created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
			if err == nil {
				uids[i] = created.UID
			}
			return err
		}},
		{"binding", func(i int) error {
			return pods.Bind(ctx, &corev1.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: name(i), Namespace: namespace, UID: uids[i]},
				Target:     corev1.ObjectReference{Kind: "Node", Name: writeCostNode},
			}, metav1.CreateOptions{})
		}},
		{"status (running, Ready)", func(i int) error {
			return patchPodStatus(ctx, c, name(i), imageV1, now)
		}},
		{"in-place patch", func(i int) error {
			body, err := json.Marshal(map[string]any{
				"metadata": map[string]any{
					"uid":    uids[i],
					"labels": map[string]string{"controller-revision-hash": "write-cost-2"},
					"annotations": map[string]string{"apps.nodeagentset.io/in-place-update-state": fmt.Sprintf(
						`{"revision":"write-cost-2","containers":{"agent":{"imageID":"kwok://%s","restartCount":0}}}`, imageV1)},
				},
				"spec": map[string]any{"containers": []map[string]any{{"name": "agent", "image": imageV2}}},
			})
			if err != nil {
				return err
			}
			_, err = pods.Patch(ctx, name(i), types.StrategicMergePatchType, body, metav1.PatchOptions{})
			return err
		}},
		{"status (restarted)", func(i int) error {
			return patchPodStatus(ctx, c, name(i), imageV2, now)
		}},
		{"in-place JSON patch", func(i int) error {
			// The same kind of change as a JSON patch (the image back, another revision label), to tell what the
			// patch format costs from what any update of a pod costs.
			body, err := json.Marshal([]map[string]any{
				{"op": "test", "path": "/metadata/uid", "value": uids[i]},
				{"op": "replace", "path": "/spec/containers/0/image", "value": imageV1},
				{"op": "replace", "path": "/metadata/labels/controller-revision-hash", "value": "write-cost-3"},
			})
			if err != nil {
				return err
			}
			_, err = pods.Patch(ctx, name(i), types.JSONPatchType, body, metav1.PatchOptions{})
			return err
		}},
		{"delete", func(i int) error {
			// As the controllers delete: the pod's own grace period (0 in the bench's template).
			uid := uids[i]
			return pods.Delete(ctx, name(i), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		}},
	}
	// Node lease renewals, kwok's steady load: leases of the bench's own (in the bench's namespace, so no node's),
	// renewed as kwok renews a node's (an update of renewTime).
	leases := c.kube.CoordinationV1().Leases(namespace)
	leaseName := func(i int) string { return "bench-write-cost-" + strconv.Itoa(i) }
	held := make([]*coordinationv1.Lease, n)
	if err := parallel(ctx, n, 8, func(i int) error {
		var err error
		held[i], err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: leaseName(i), Namespace: namespace},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(leaseName(i)), LeaseDurationSeconds: ptr.To[int32](40),
				RenewTime: &metav1.MicroTime{Time: time.Now()}},
		}, metav1.CreateOptions{})
		return err
	}); err != nil {
		return nil, fmt.Errorf("write costs, creating leases: %w", err)
	}
	defer func() {
		// Best effort: the leases hold no node and go with the state directory anyway.
		_ = parallel(context.WithoutCancel(ctx), n, 8, func(i int) error {
			return leases.Delete(context.WithoutCancel(ctx), leaseName(i), metav1.DeleteOptions{})
		})
	}()
	writes = append(writes, struct {
		name  string
		write func(i int) error
	}{leaseRenewal, func(i int) error {
		// As kwok and the kubelet renew: an update of the lease they hold, no read first.
		lease := held[i].DeepCopy()
		lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		renewed, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
		if err == nil {
			held[i] = renewed
		}
		return err
	}})

	// Each controller's status write: writeCostSets sets of each kind, as newSet makes them but on no node, each
	// updated by one worker in turn (an update of the set's status as its controller sends it: the whole object).
	for _, ctl := range []string{upstream, nodeAgentSet} {
		sets, err := c.createWriteCostSets(ctx, ctl)
		if err != nil {
			return nil, err
		}
		defer func() {
			// The sets must be gone before the turns: a controller would otherwise take them on.
			for i := range sets {
				_ = c.dyn.Resource(gvrFor(ctl)).Namespace(namespace).Delete(context.WithoutCancel(ctx),
					sets[i].GetName(), metav1.DeleteOptions{})
			}
		}()
		name := "DaemonSet status update"
		if ctl == nodeAgentSet {
			name = "NodeAgentSet status update"
		}
		writes = append(writes, struct {
			name  string
			write func(i int) error
		}{name, func(i int) error {
			if i >= writeCostSets {
				return nil // the first writeCostSets workers write every set's n updates
			}
			for k := i; k < n; k += writeCostSets {
				obj := sets[i].DeepCopy()
				if err := unstructured.SetNestedMap(obj.Object, setStatus(ctl, k), "status"); err != nil {
					return err
				}
				updated, err := c.dyn.Resource(gvrFor(ctl)).Namespace(namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{})
				if err != nil {
					return err
				}
				sets[i] = updated
			}
			return nil
		}})
	}

	out := make([]writeCost, len(writes))
	for round := 1; round <= writeCostRounds; round++ {
		for k, w := range writes {
			before, err := c.sampleFixed()
			if err != nil {
				return nil, err
			}
			start := time.Now()
			if err := parallel(ctx, n, 8, w.write); err != nil {
				return nil, fmt.Errorf("write costs, %s: %w", w.name, err)
			}
			after, err := c.sampleFixed()
			if err != nil {
				return nil, err
			}
			wall := time.Since(start).Seconds()
			perWrite := func(name string) float64 {
				return (after[name].CPU - before[name].CPU).Seconds() * 1000 / float64(n)
			}
			api, etcd := perWrite("kube-apiserver"), perWrite("etcd")
			logf("write cost of %s, round %d: kube-apiserver %.2f ms, etcd %.2f ms per write (%d writes in %.1fs)",
				w.name, round, api, etcd, n, wall)
			out[k].Write, out[k].Pods = w.name, n
			out[k].APIServerCPUMillisRounds = append(out[k].APIServerCPUMillisRounds, api)
			out[k].EtcdCPUMillisRounds = append(out[k].EtcdCPUMillisRounds, etcd)
		}
		// The pods are gone with the last write, unless their delete was graceful.
		left, err := pods.List(ctx, metav1.ListOptions{LabelSelector: setLabel + "=write-cost"})
		if err != nil {
			return nil, err
		}
		if len(left.Items) > 0 {
			return nil, fmt.Errorf("write costs: %d pods still exist after their delete", len(left.Items))
		}
	}
	for k := range out {
		out[k].APIServerCPUMillis = median(out[k].APIServerCPUMillisRounds)
		out[k].EtcdCPUMillis = median(out[k].EtcdCPUMillisRounds)
	}
	return out, nil
}

// patchPodStatus reports the pod's only container running image and the pod Ready, as kwok's stages do.
func patchPodStatus(ctx context.Context, c *cluster, name, image string, at metav1.Time) error {
	status := map[string]any{
		"phase": corev1.PodRunning,
		"conditions": []map[string]any{
			{"type": corev1.PodReady, "status": corev1.ConditionTrue, "lastTransitionTime": at},
			{"type": corev1.ContainersReady, "status": corev1.ConditionTrue, "lastTransitionTime": at},
		},
		"containerStatuses": []map[string]any{{
			"name": "agent", "image": image, "imageID": "kwok://" + image, "ready": true, "started": true,
			"restartCount": 1, "state": map[string]any{"running": map[string]any{"startedAt": at}},
		}},
	}
	body, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	_, err = c.kube.CoreV1().Pods(namespace).Patch(ctx, name, types.StrategicMergePatchType, body, metav1.PatchOptions{}, "status")
	return err
}

// lessLeaseRenewals sets every phase's API server CPU less its node lease renewals, from the measured cost of one;
// without that measurement it leaves them unset.
func lessLeaseRenewals(turns []turnResult, costs []writeCost) {
	perRenewal := -1.0
	for _, c := range costs {
		if c.Write == leaseRenewal {
			perRenewal = c.APIServerCPUMillis / 1000
		}
	}
	if perRenewal < 0 {
		return
	}
	for t := range turns {
		for p := range turns[t].Phases {
			ph := &turns[t].Phases[p]
			v := ph.CPUSeconds["kube-apiserver"] - float64(ph.APIRequests["PUT leases"])*perRenewal
			ph.APIServerCPULessLeases = &v
		}
	}
}

// writeCostSets is how many sets of each kind the status write costs update, one worker each.
const writeCostSets = 8

// createWriteCostSets creates writeCostSets sets of ctl's kind with the bench's template and a node selector no
// node matches, so no pod is ever made for them.
func (c *cluster) createWriteCostSets(ctx context.Context, ctl string) ([]*unstructured.Unstructured, error) {
	sets := make([]*unstructured.Unstructured, writeCostSets)
	for i := range sets {
		obj, err := newSet(ctl, "write-cost", "bench-write-cost-"+strconv.Itoa(i), v1alpha1.RecreatePodUpdatePolicy)
		if err != nil {
			return nil, err
		}
		if err := unstructured.SetNestedStringMap(obj.Object, map[string]string{"bench/write-cost": "no-node"},
			"spec", "template", "spec", "nodeSelector"); err != nil {
			return nil, err
		}
		if sets[i], err = c.dyn.Resource(gvrFor(ctl)).Namespace(namespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("write costs, creating a set: %w", err)
		}
	}
	return sets, nil
}

// setStatus is a status as ctl writes one mid-rollout, with counters that differ from write to write (k). The
// NodeAgentSet's carries its conditions and revisions too, as the manager's does.
func setStatus(ctl string, k int) map[string]any {
	ready := int64(k % 1000)
	status := map[string]any{
		"currentNumberScheduled": int64(1000), "numberMisscheduled": int64(0), "desiredNumberScheduled": int64(1000),
		"numberReady": ready, "observedGeneration": int64(1), "updatedNumberScheduled": ready,
		"numberAvailable": ready, "numberUnavailable": 1000 - ready,
	}
	if ctl == upstream {
		return status
	}
	now := time.Now().UTC().Format(time.RFC3339)
	condition := func(kind, value, reason, message string) map[string]any {
		return map[string]any{"type": kind, "status": value, "reason": reason, "message": message,
			"lastTransitionTime": now, "observedGeneration": int64(1)}
	}
	status["currentRevision"], status["updateRevision"] = "bench-write-cost-1", "bench-write-cost-2"
	status["conditions"] = []any{
		condition(v1alpha1.ConditionReady, "False", "RollingUpdate", fmt.Sprintf("%d of 1000 pods available", ready)),
		condition(v1alpha1.ConditionProgressing, "True", "RollingUpdate", fmt.Sprintf("%d of 1000 pods updated", ready)),
		condition(v1alpha1.ConditionReconciling, "True", "RollingUpdate", "rolling update in progress"),
	}
	return status
}
