package placement

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/distribution/reference"
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
// container started again on its new image, and, when none is pending, since when the last of them runs (zero if
// none says). See containerRestartedOnNewImage for what counts. A pod without the annotation, or whose annotation
// is unreadable, has nothing pending: it was created with its images.
//
// startedAt matters for minReadySeconds: the kubelet kills and starts a changed container in one sync, so a pod
// without readiness probes may never report itself not ready in between, and its Ready transition time can predate
// the patch; minReadySeconds counts from the later of the two.
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

// InPlaceUpdatePending reports whether pod was patched in place to its current revision and the kubelet has not yet
// run every changed container on its new image.
func InPlaceUpdatePending(pod *corev1.Pod) bool {
	pending, _ := inPlaceUpdateProgress(pod)
	return pending
}

// containerRestartedOnNewImage reports whether the container name runs specImage since the patch, and since when.
// It must be running and ready, and:
//   - on the new image: the status names specImage (both normalized as the runtime reports them), or shows its
//     digest; or, when the container ran before the patch, shows another image ID than then (a runtime may report
//     the image by another of its tags). Without an earlier image ID that last test would accept the old image
//     starting late (a pod patched while still pulling it), so it is not made;
//   - started since the patch: restartCount up, or another container than before. A container that had not run
//     before the patch (its image could not be pulled, or the pod had not started) starts on the new image with
//     restartCount 0, and whatever runs the new image now started since. A state written before container IDs
//     were recorded (an image ID but no container ID) uses the restart count alone.
//
// A container that already ran the spec's image before the patch has nothing to wait for: the kubelet does not
// restart it.
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
			if before.ImageID != "" && sameImage(before.Image, specImage) {
				return runsImage(cs, specImage), at
			}
			newImage := runsImage(cs, specImage) ||
				(before.ImageID != "" && cs.ImageID != "" && cs.ImageID != before.ImageID)
			neverRan := before.ImageID == "" && before.ContainerID == ""
			started := neverRan || cs.RestartCount > before.RestartCount ||
				(before.ContainerID != "" && cs.ContainerID != before.ContainerID)
			return newImage && started, at
		}
	}
	return false, time.Time{}
}

// runsImage reports whether the status cs shows the spec image: the same reference once both are normalized, or,
// for an image pinned by digest, an image ID with that digest.
func runsImage(cs *corev1.ContainerStatus, image string) bool {
	if sameImage(cs.Image, image) {
		return true
	}
	if i := strings.LastIndex(image, "@"); i >= 0 && cs.ImageID != "" {
		return strings.HasSuffix(cs.ImageID, image[i+1:])
	}
	return false
}

// sameImage reports whether two image references name the same image once normalized as container runtimes report
// them (docker.io/library/ for a short Docker Hub name, :latest for no tag), e.g. "nginx:1.25" and
// "docker.io/library/nginx:1.25". References that do not parse are compared as written.
func sameImage(a, b string) bool {
	if a == b {
		return true
	}
	na, nb := normalizedImages.of(a), normalizedImages.of(b)
	return na.ok && nb.ok && na.ref == nb.ref
}

// normalizedImages remembers normalized image references: every pass asks of each pod updated in place whether its
// status shows the spec's image, and parsing a reference is a few regular expressions. The references repeat (a set
// runs a few images).
var normalizedImages = newMemo(func(image string) normalizedImage {
	if named, err := reference.ParseDockerRef(image); err == nil {
		return normalizedImage{ref: named.String(), ok: true}
	}
	return normalizedImage{}
})

type normalizedImage struct {
	ref string
	ok  bool
}

// RestartsSinceRevision counts the container restarts of pod since it began running the revision its hash label
// names. A pod created for that revision counts every restart. A pod patched to it in place counts, for each
// changed container, only the restarts after the one the image change itself caused (the annotation recorded the
// count before the patch; a container that had never started caused none); its other containers count as they are.
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
				// The image change restarted the container once, unless it had never started (its image could not be
				// pulled): then it started on the new image without a restart.
				caused := int32(1)
				if before.ImageID == "" && before.ContainerID == "" && before.RestartCount == 0 {
					caused = 0
				}
				count = max(0, count-before.RestartCount-caused)
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
// serve a whole set.
var parsedStates = newMemo(func(raw string) parsedState {
	var p parsedState
	p.ok = json.Unmarshal([]byte(raw), &p.state) == nil
	if !p.ok {
		p.state = InPlaceUpdateState{}
	}
	return p
})

type parsedState struct {
	state InPlaceUpdateState
	ok    bool
}

// parseInPlaceUpdateState decodes an in-place-update-state annotation; ok is false when it is not valid JSON of that
// shape. The state returned is shared between callers and must not be modified.
func parseInPlaceUpdateState(raw string) (InPlaceUpdateState, bool) {
	p := parsedStates.of(raw)
	return p.state, p.ok
}
