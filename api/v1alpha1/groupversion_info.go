// Package v1alpha1 contains the NodeAgentSet API, group apps.nodeagentset.io, version v1alpha1.
//
// A NodeAgentSet's spec and status carry the apps/v1 DaemonSet field names and meanings, so a DaemonSet manifest
// becomes a NodeAgentSet by changing its apiVersion and kind. The fields that go beyond a DaemonSet (rollout pause and
// partition, kstatus conditions, revisions in status) are additions that a DaemonSet manifest simply does not set.
//
// +kubebuilder:object:generate=true
// +groupName=apps.nodeagentset.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the NodeAgentSet API.
	GroupVersion = schema.GroupVersion{Group: "apps.nodeagentset.io", Version: "v1alpha1"}

	// SchemeBuilder registers the API's types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the API's types to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
