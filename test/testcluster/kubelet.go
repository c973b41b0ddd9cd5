package testcluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// PodOutcome is what the fake kubelet makes of a pod bound to a node.
type PodOutcome int

const (
	// PodBecomesReady: phase Running, Ready True (RunningReadyStatus).
	PodBecomesReady PodOutcome = iota
	// PodCrashLoops: phase Running, not ready, containers in CrashLoopBackOff (CrashLoopingStatus).
	PodCrashLoops
	// PodStaysPending: the kubelet leaves the pod alone (the test drives it).
	PodStaysPending
	// PodImagePullFails: phase Pending, not ready, containers in ImagePullBackOff (ImagePullFailingStatus) until
	// the pod's images change to ones with another outcome.
	PodImagePullFails
)

// KubeletOptions configure a fake kubelet.
type KubeletOptions struct {
	// Namespace limits the kubelet to one namespace; empty serves every namespace.
	Namespace string

	// ReadyAfter delays starting a bound pod, counted from when the kubelet first saw it bound, so that rollouts
	// have a window in which new pods are not ready yet.
	ReadyAfter time.Duration

	// Outcome decides each pod's fate. nil: every pod becomes ready.
	Outcome func(*corev1.Pod) PodOutcome

	// ReadyThroughRestart keeps a pod Ready, its Ready transition time unchanged, while the kubelet restarts a
	// container whose image was changed in place, as for a container without a readiness probe that a kubelet kills
	// and starts again in one sync.
	ReadyThroughRestart bool

	// ClockSkew shifts every time the kubelet writes into a pod's status (start and transition times) by this much:
	// positive for a node whose clock runs ahead of the controller's. The moment of the write itself is unchanged.
	ClockSkew time.Duration
}

// Kubelet stands in for the kubelets of every node: it starts pods bound to a node by writing their status
// through the status subresource (when the pod is still Pending, which a pod whose images cannot be pulled stays
// until they change; a pod a test set to Failed or Succeeded stays so), restarts a running pod's containers and
// sidecars whose image was changed in place, and confirms graceful deletions by deleting the pod with grace
// period 0. Stop it with Stop; the
// cluster's Stop stops any still running.
type Kubelet struct {
	cluster *Cluster
	opts    KubeletOptions
	queue   workqueue.TypedRateLimitingInterface[string]
	pods    cache.Indexer
	cancel  context.CancelFunc
	workers sync.WaitGroup

	mu         sync.Mutex
	seenBound  map[types.UID]time.Time
	restarting map[types.UID]time.Time // pods whose changed containers were stopped, since when
	stopOnce   sync.Once
}

// kubeletWorkers is how many pods the fake kubelet handles at once.
const kubeletWorkers = 2

// StartKubelet starts a fake kubelet and waits until it has seen the current pods.
func (c *Cluster) StartKubelet(ctx context.Context, opts KubeletOptions) (*Kubelet, error) {
	runCtx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(c.Clientset, 0, informers.WithNamespace(opts.Namespace))
	informer := factory.Core().V1().Pods().Informer()
	k := &Kubelet{
		cluster:    c,
		opts:       opts,
		queue:      workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		pods:       informer.GetIndexer(),
		cancel:     cancel,
		seenBound:  map[types.UID]time.Time{},
		restarting: map[types.UID]time.Time{},
	}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: func(obj any) {
			if pod, ok := obj.(*corev1.Pod); ok {
				k.forget(pod.UID)
			}
		},
	}); err != nil {
		cancel()
		return nil, fmt.Errorf("fake kubelet: watching pods: %w", err)
	}
	factory.Start(runCtx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			cancel()
			k.queue.ShutDown()
			return nil, fmt.Errorf("fake kubelet: cache for %v did not sync", typ)
		}
	}
	for range kubeletWorkers {
		k.workers.Add(1)
		go func() {
			defer k.workers.Done()
			for k.processNext(runCtx) {
			}
		}()
	}
	c.mu.Lock()
	c.kubelets = append(c.kubelets, k)
	c.mu.Unlock()
	return k, nil
}

// Stop stops the kubelet and waits for its workers. Pods keep the status they have.
func (k *Kubelet) Stop() {
	k.stopOnce.Do(func() {
		k.cancel()
		k.queue.ShutDown()
		k.workers.Wait()
	})
}

func (k *Kubelet) processNext(ctx context.Context) bool {
	key, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(key)
	retryAfter, err := k.sync(ctx, key)
	switch {
	case err != nil && ctx.Err() == nil:
		k.queue.AddRateLimited(key)
	case retryAfter > 0:
		k.queue.Forget(key)
		k.queue.AddAfter(key, retryAfter)
	default:
		k.queue.Forget(key)
	}
	return true
}

// sync acts on one pod; a positive duration asks to look again after it.
func (k *Kubelet) sync(ctx context.Context, key string) (time.Duration, error) {
	obj, exists, err := k.pods.GetByKey(key)
	if err != nil || !exists {
		return 0, err
	}
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		// The containers "stopped": confirm the deletion as the kubelet does once a pod has terminated.
		err := k.cluster.ForceDeletePod(ctx, pod.Namespace, pod.Name, pod.UID)
		if apierrors.IsConflict(err) {
			return 0, nil // a newer pod of that name; its own event brings it here
		}
		return 0, err
	}
	if pod.Status.Phase == corev1.PodRunning {
		return k.restartChangedContainers(ctx, pod)
	}
	if pod.Spec.NodeName == "" || (pod.Status.Phase != corev1.PodPending && pod.Status.Phase != "") {
		return 0, nil
	}
	outcome := PodBecomesReady
	if k.opts.Outcome != nil {
		outcome = k.opts.Outcome(pod)
	}
	if outcome == PodStaysPending {
		return 0, nil
	}
	if wait := k.opts.ReadyAfter - time.Since(k.boundSince(pod.UID)); wait > 0 {
		return wait, nil
	}
	updated := pod.DeepCopy()
	now := time.Now().Add(k.opts.ClockSkew)
	switch outcome {
	case PodCrashLoops:
		updated.Status = CrashLoopingStatus(pod, now, 1)
	case PodImagePullFails:
		if showsImagePullFailing(pod) {
			return 0, nil // said so already
		}
		updated.Status = ImagePullFailingStatus(pod, now)
	default:
		updated.Status = RunningReadyStatus(pod, now)
	}
	_, err = k.cluster.Clientset.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	// A conflict means the cache is behind; the newer pod arrives as an event and is retried with backoff too.
	return 0, err
}

// boundSince is when this kubelet first saw the pod bound.
func (k *Kubelet) boundSince(uid types.UID) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.seenBound[uid]
	if !ok {
		t = time.Now()
		k.seenBound[uid] = t
	}
	return t
}

func (k *Kubelet) forget(uid types.UID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.seenBound, uid)
	delete(k.restarting, uid)
}

// restartChangedContainers does what a kubelet does when a running pod's container image is changed in place: it
// stops the container (the pod turns not ready), then, after ReadyAfter, starts it on the new image (restartCount
// + 1, a new container ID, the new image and image ID in its status) and the pod is ready again. With
// ReadyThroughRestart the pod stays Ready throughout, its Ready transition time unchanged, as for a container
// without a readiness probe that the kubelet kills and starts in one sync. Sidecars (init containers with
// restartPolicy Always) are restarted the same way; other init containers completed and are not run again, so a
// new image for one changes nothing in the status. The Outcome for the pod with its new images holds here too: an
// image that cannot be pulled leaves the container waiting in ImagePullBackOff, one that crash-loops leaves it in
// CrashLoopBackOff, and the pod not ready.
func (k *Kubelet) restartChangedContainers(ctx context.Context, pod *corev1.Pod) (time.Duration, error) {
	changed := changedContainers(pod)
	if len(changed) == 0 {
		// Nothing (or nothing any more) to restart: a later image change starts a restart of its own.
		k.clearRestarting(pod.UID)
		return 0, nil
	}
	updated := pod.DeepCopy()
	now := metav1.Now()
	// Look again once the restart is due; at least a moment later, so that a zero ReadyAfter still comes back.
	due := max(k.opts.ReadyAfter, time.Millisecond)
	if _, restarting := k.restartMarked(pod.UID); !restarting {
		k.markRestarting(pod.UID)
		if k.opts.ReadyThroughRestart || !podConditionTrue(pod, corev1.PodReady) {
			return due, nil
		}
		// Stopping: the changed containers are not ready, and so neither is the pod.
		for _, cs := range changedStatuses(updated, changed) {
			cs.Ready = false
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		}
		setPodCondition(updated, corev1.ContainersReady, corev1.ConditionFalse, now)
		setPodCondition(updated, corev1.PodReady, corev1.ConditionFalse, now)
		return due, k.writeRestartStatus(ctx, updated, false)
	}
	if wait := k.opts.ReadyAfter - time.Since(k.restartingSince(pod.UID)); wait > 0 {
		return wait, nil
	}
	outcome := PodBecomesReady
	if k.opts.Outcome != nil {
		outcome = k.opts.Outcome(pod)
	}
	images := runningImages(pod)
	started, notStarted := true, false
	for _, cs := range changedStatuses(updated, changed) {
		image := images[cs.Name]
		stopped := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", FinishedAt: now}}
		switch outcome {
		case PodImagePullFails:
			// No container is created: the status names the image the kubelet tries to pull.
			cs.LastTerminationState = stopped
			cs.Image, cs.ImageID, cs.ContainerID = image, "", ""
			cs.Ready, cs.Started = false, &notStarted
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: imagePullBackOff, Message: "Back-off pulling image " + image}}
		case PodCrashLoops:
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 1, Reason: "Error", FinishedAt: now}}
			cs.Image, cs.ImageID = image, fakeImageID(image)
			cs.RestartCount++
			cs.ContainerID = fakeContainerID(pod, cs.Name, cs.RestartCount)
			cs.Ready, cs.Started = false, &notStarted
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "CrashLoopBackOff", Message: "back-off restarting failed container " + cs.Name}}
		default:
			cs.LastTerminationState = stopped
			cs.Image, cs.ImageID = image, fakeImageID(image)
			cs.RestartCount++
			cs.ContainerID = fakeContainerID(pod, cs.Name, cs.RestartCount)
			cs.Ready, cs.Started = true, &started
			cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
		}
	}
	// A condition that keeps its status keeps its transition time: with ReadyThroughRestart a pod that was Ready
	// all along shows no new transition.
	ready := corev1.ConditionTrue
	if outcome == PodImagePullFails || outcome == PodCrashLoops {
		ready = corev1.ConditionFalse
	}
	setPodCondition(updated, corev1.ContainersReady, ready, now)
	setPodCondition(updated, corev1.PodReady, ready, now)
	return 0, k.writeRestartStatus(ctx, updated, true)
}

// writeRestartStatus writes a status of an in-place restart; done ends the restart, so that the pod's next image
// change starts another.
func (k *Kubelet) writeRestartStatus(ctx context.Context, pod *corev1.Pod, done bool) error {
	_, err := k.cluster.Clientset.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or a newer version of the pod is on its way here
	}
	if err == nil && done {
		k.clearRestarting(pod.UID)
	}
	return err
}

func (k *Kubelet) clearRestarting(uid types.UID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.restarting, uid)
}

// runningImages are the spec's images of the containers and sidecars by name: what the kubelet keeps running.
func runningImages(pod *corev1.Pod) map[string]string {
	images := map[string]string{}
	for _, c := range pod.Spec.InitContainers {
		if isSidecar(c) {
			images[c.Name] = c.Image
		}
	}
	for _, c := range pod.Spec.Containers {
		images[c.Name] = c.Image
	}
	return images
}

// changedContainers names the containers and sidecars whose status shows another image than the spec asks for.
func changedContainers(pod *corev1.Pod) map[string]bool {
	images := runningImages(pod)
	out := map[string]bool{}
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range list {
			if want, ok := images[cs.Name]; ok && cs.Image != want {
				out[cs.Name] = true
			}
		}
	}
	return out
}

// changedStatuses points at the statuses in pod of the containers named in changed.
func changedStatuses(pod *corev1.Pod, changed map[string]bool) []*corev1.ContainerStatus {
	var out []*corev1.ContainerStatus
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for i := range list {
			if changed[list[i].Name] {
				out = append(out, &list[i])
			}
		}
	}
	return out
}

func podConditionTrue(pod *corev1.Pod, typ corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == typ {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func setPodCondition(pod *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, now metav1.Time) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == typ {
			if pod.Status.Conditions[i].Status != status {
				pod.Status.Conditions[i].Status, pod.Status.Conditions[i].LastTransitionTime = status, now
			}
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: now})
}

func (k *Kubelet) markRestarting(uid types.UID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.restarting[uid] = time.Now()
}

// restartMarked is when this kubelet began restarting the pod's changed containers, if it has.
func (k *Kubelet) restartMarked(uid types.UID) (time.Time, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.restarting[uid]
	return t, ok
}

// restartingSince is when this kubelet stopped the pod's changed containers (now, if it did not see that).
func (k *Kubelet) restartingSince(uid types.UID) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.restarting[uid]
	if !ok {
		t = time.Now()
		k.restarting[uid] = t
	}
	return t
}
