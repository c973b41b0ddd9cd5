package placement

import (
	"encoding/json"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// InPlaceUpdateState is the value of the in-place-update-state annotation: per changed container, what its status
// said just before the controller patched its image.
type InPlaceUpdateState struct {
	// Revision is the controller-revision-hash the pod was moved to.
	Revision   string                          `json:"revision"`
	Containers map[string]ContainerBeforePatch `json:"containers"`
}

// ContainerBeforePatch is one container's status before its image was patched.
type ContainerBeforePatch struct {
	Image   string `json:"image,omitempty"`
	ImageID string `json:"imageID,omitempty"`
	// ContainerID is the container that ran (or last ran) then; empty when none had been created, as for a pod
	// whose image could not be pulled.
	ContainerID  string `json:"containerID,omitempty"`
	RestartCount int32  `json:"restartCount"`
}

// NewInPlaceUpdateState records the status of the containers named in images (container name to new image) as pod
// reports it now.
func NewInPlaceUpdateState(pod *corev1.Pod, revision string, images map[string]string) InPlaceUpdateState {
	st := InPlaceUpdateState{Revision: revision, Containers: map[string]ContainerBeforePatch{}}
	statuses := append(append([]corev1.ContainerStatus(nil), pod.Status.ContainerStatuses...), pod.Status.InitContainerStatuses...)
	for name := range images {
		before := ContainerBeforePatch{}
		for _, cs := range statuses {
			if cs.Name == name {
				before = ContainerBeforePatch{Image: cs.Image, ImageID: cs.ImageID, ContainerID: cs.ContainerID,
					RestartCount: cs.RestartCount}
			}
		}
		st.Containers[name] = before
	}
	return st
}

// inPlaceUpdateProgress reports whether pod was patched in place and the kubelet has not yet reported every changed
// container started again on its new image: running and ready, showing the spec's image or an imageID other than
// before, and started since the patch (restartCount up, or another container than before). A container that had
// never started (its image could not be pulled) starts on the new image with restartCount 0, so the container ID
// tells that start. A container that already ran the spec's image before the patch has nothing to wait for: the
// kubelet does not restart it. A pod without the annotation, or whose annotation is unreadable, has nothing pending:
// it was created with its images.
//
// When nothing is pending, startedAt is when the last of the changed containers started running (zero if none
// says). The kubelet kills and starts a changed container in one sync, so a pod without readiness probes may never
// report itself not ready in between, and its Ready transition time can predate the patch; minReadySeconds counts
// from the later of the two.
func inPlaceUpdateProgress(pod *corev1.Pod) (pending bool, startedAt time.Time) {
	raw, ok := pod.Annotations[v1alpha1.InPlaceUpdateStateAnnotation]
	if !ok {
		return false, time.Time{}
	}
	st, ok := parseInPlaceUpdateState(raw)
	if !ok {
		return false, time.Time{}
	}
	if st.Revision != pod.Labels[v1alpha1.ControllerRevisionHashLabel] {
		// Moved on since (relabelled to yet another revision): that move is what counts now.
		return false, time.Time{}
	}
	specImages := map[string]string{}
	for _, c := range pod.Spec.Containers {
		specImages[c.Name] = c.Image
	}
	for _, c := range pod.Spec.InitContainers {
		specImages[c.Name] = c.Image
	}
	for name, before := range st.Containers {
		started, at := containerRestartedOnNewImage(pod, name, specImages[name], before)
		if !started {
			return true, time.Time{}
		}
		if at.After(startedAt) {
			startedAt = at
		}
	}
	return false, startedAt
}

// containerRestartedOnNewImage reports whether the container name runs specImage since the patch (see
// inPlaceUpdateProgress), and since when.
func containerRestartedOnNewImage(pod *corev1.Pod, name, specImage string, before ContainerBeforePatch) (bool, time.Time) {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range list {
			cs := &list[i]
			if cs.Name != name {
				continue
			}
			if !cs.Ready || cs.State.Running == nil {
				return false, time.Time{}
			}
			at := cs.State.Running.StartedAt.Time
			if before.Image == specImage {
				return cs.Image == specImage, at
			}
			newImage := cs.Image == specImage || (cs.ImageID != "" && cs.ImageID != before.ImageID)
			started := cs.RestartCount > before.RestartCount || cs.ContainerID != before.ContainerID
			return newImage && started, at
		}
	}
	return false, time.Time{}
}

// RestartsSinceRevision counts the container restarts of pod since it began running the revision its hash label
// names. A pod created for that revision counts every restart. A pod patched to it in place counts, for each
// changed container, only the restarts after the one the image change itself caused (the annotation recorded the
// count before the patch); its other containers count as they are.
func RestartsSinceRevision(pod *corev1.Pod) int32 {
	var st InPlaceUpdateState
	if raw, ok := pod.Annotations[v1alpha1.InPlaceUpdateStateAnnotation]; ok {
		if parsed, ok := parseInPlaceUpdateState(raw); ok && parsed.Revision == pod.Labels[v1alpha1.ControllerRevisionHashLabel] {
			st = parsed
		}
	}
	var n int32
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range statuses {
			count := cs.RestartCount
			if before, changed := st.Containers[cs.Name]; changed {
				count = max(0, count-before.RestartCount-1)
			}
			n += count
		}
	}
	return n
}

// parsedStates remembers the annotation values already parsed. Every pass asks each pod of a set whether an in-place
// update is pending, and a pod keeps its annotation after the update, so without it a 1000-pod set decoded 1000 JSON
// documents per pass (a tenth of the manager's CPU in an in-place rollout, in the bench's profile). The values repeat
// across a set's pods: the pods moved to one revision from the same status record the same thing, so a few entries
// serve a whole set. It is a cache of a pure function: nothing decided depends on what it holds, and it is emptied
// when it reaches maxParsedStates entries, which bounds its memory whatever the annotations say.
var parsedStates = struct {
	sync.Mutex
	byRaw map[string]parsedState
}{byRaw: map[string]parsedState{}}

type parsedState struct {
	state InPlaceUpdateState
	ok    bool
}

const maxParsedStates = 4096

// parseInPlaceUpdateState decodes an in-place-update-state annotation; ok is false when it is not valid JSON of that
// shape. The state returned is shared between callers and must not be modified.
func parseInPlaceUpdateState(raw string) (InPlaceUpdateState, bool) {
	parsedStates.Lock()
	p, found := parsedStates.byRaw[raw]
	parsedStates.Unlock()
	if found {
		return p.state, p.ok
	}
	p.ok = json.Unmarshal([]byte(raw), &p.state) == nil
	if !p.ok {
		p.state = InPlaceUpdateState{}
	}
	parsedStates.Lock()
	if len(parsedStates.byRaw) >= maxParsedStates {
		clear(parsedStates.byRaw)
	}
	parsedStates.byRaw[raw] = p
	parsedStates.Unlock()
	return p.state, p.ok
}
