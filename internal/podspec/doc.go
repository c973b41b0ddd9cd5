// Package podspec decides, without touching the API server, whether two descriptions of a pod run the same thing:
// a revision's effective template against another's, or a live pod against the pod the controller would create.
//
// The two sides come from different places. A NodeAgentSet's template is stored as written (a custom resource is
// not defaulted by the API server), a DaemonSet's template is defaulted, and a live pod also carries what the API
// server and its admission plugins added (the service account token volume, nodeName, priority, pod-level
// defaults). Both sides are normalised the same way before they are compared: unset fields get the API server's
// defaults, and the additions that neither controller chose are removed. Normalising only fills what is unset, so
// a field set on one side is never made equal to a different value on the other; a default this package does not
// know makes two pods compare different, which costs a replacement, never a wrong relabel.
package podspec
