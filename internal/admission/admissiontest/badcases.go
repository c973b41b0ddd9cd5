package admissiontest

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// The apiserver's wording for malformed names and values, reused by many cases.
const (
	qualifiedNameMsg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with " +
		"an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is " +
		"'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
	labelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and " +
		"must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used " +
		"for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
	dns1123LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must " +
		"start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is " +
		"'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
	envVarNameMsg = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or " +
		"'.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used " +
		"for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
	percentMsg = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', " +
		"regex used for validation is '[0-9]+%')"
)

// BadCases returns the manifests that must be rejected, each with its home (the part of the apiserver that refuses
// it) and the one error it produces there. Schema cases come out with the apiserver's wording for OpenAPI and CEL
// errors; a CEL rule's message is written so the error names the field and the value as the webhook's would.
func BadCases() []BadCase {
	return []BadCase{
		// Selector.
		{
			Case: Case{"selector missing", func(s *v1alpha1.NodeAgentSet) { s.Spec.Selector = nil }},
			Home: Schema,
			Want: "spec.selector: Required value",
		},
		{
			Case: Case{"selector empty", func(s *v1alpha1.NodeAgentSet) { s.Spec.Selector = &metav1.LabelSelector{} }},
			Home: Schema,
			Want: "spec.selector: Invalid value: empty selector is invalid for a NodeAgentSet: it would select " +
				"every pod in the namespace",
		},
		{
			Case: Case{"selector does not match template labels", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
			}},
			Home: Webhook,
			Want: `spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: selector does not match template labels`,
		},
		{
			Case: Case{"selector expression with unknown operator", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Like", Values: []string{"x"}}}
			}},
			Home: Webhook,
			Want: `spec.selector.matchExpressions[0].operator: Invalid value: "Like": not a valid selector operator`,
		},
		{
			Case: Case{"selector expression In without values", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn}}
			}},
			Home: Webhook,
			Want: "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
		},
		{
			Case: Case{"selector label key with a space", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Selector.MatchLabels["bad key"] = "x"
			}},
			Home: Webhook,
			Want: `spec.selector.matchLabels: Invalid value: "bad key": ` + qualifiedNameMsg,
		},

		// Pod template.
		{
			Case: Case{"template label value invalid", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Labels["tier"] = "node agent"
			}},
			Home: Webhook,
			Want: `spec.template.metadata.labels[tier]: Invalid value: "node agent": ` + labelValueMsg,
		},
		{
			Case: Case{"template annotation key invalid", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Annotations = map[string]string{"bad key": "x"}
			}},
			Home: Webhook,
			Want: `spec.template.metadata.annotations: Invalid value: "bad key": ` + qualifiedNameMsg,
		},
		{
			Case: Case{"restartPolicy Never", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).RestartPolicy = corev1.RestartPolicyNever
			}},
			Home: Schema,
			Want: `spec.template.spec.restartPolicy: Invalid value: "Never": supported values: "Always"`,
		},
		{
			Case: Case{"restartPolicy OnFailure", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).RestartPolicy = corev1.RestartPolicyOnFailure
			}},
			Home: Schema,
			Want: `spec.template.spec.restartPolicy: Invalid value: "OnFailure": supported values: "Always"`,
		},
		{
			Case: Case{"activeDeadlineSeconds set", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).ActiveDeadlineSeconds = ptr.To[int64](600)
			}},
			Home: Schema,
			Want: "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in NodeAgentSet is not " +
				"supported: its pods run until the set removes them",
		},
		{
			Case: Case{"nodeSelector key invalid", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).NodeSelector = map[string]string{"-disk": "ssd"}
			}},
			Home: Webhook,
			Want: `spec.template.spec.nodeSelector: Invalid value: "-disk": ` + qualifiedNameMsg,
		},
		{
			Case: Case{"nodeSelector value invalid", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).NodeSelector = map[string]string{"disk": "ssd!"}
			}},
			Home: Webhook,
			Want: `spec.template.spec.nodeSelector[disk]: Invalid value: "ssd!": ` + labelValueMsg,
		},
		{
			Case: Case{"required node affinity without nodeSelectorTerms", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity()
			}},
			Home: Schema,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				"nodeSelectorTerms: Required value",
		},
		{
			Case: Case{"required node affinity with an empty list of terms", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity()
				podSpec(s).Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = []corev1.NodeSelectorTerm{}
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				"nodeSelectorTerms: Required value: must have at least one node selector term",
		},
		{
			Case: Case{"required node affinity with unknown operator", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity(nodeLabelTerm("zone", "Near", "a"))
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				`nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`,
		},
		{
			Case: Case{"required node affinity In without values", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity(nodeLabelTerm("zone", corev1.NodeSelectorOpIn))
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				"nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` " +
				"is 'In' or 'NotIn'",
		},
		{
			Case: Case{"required node affinity Exists with values", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity(nodeLabelTerm("zone", corev1.NodeSelectorOpExists, "a"))
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				"nodeSelectorTerms[0].matchExpressions[0].values: Forbidden: may not be specified when `operator` " +
				"is 'Exists' or 'DoesNotExist'",
		},
		{
			Case: Case{"required node affinity Gt with two values", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity(nodeLabelTerm("cpus", corev1.NodeSelectorOpGt, "4", "8"))
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				"nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified single value " +
				"when `operator` is 'Lt' or 'Gt'",
		},
		{
			Case: Case{"required node affinity key invalid", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity(nodeLabelTerm("zone!", corev1.NodeSelectorOpExists))
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				`nodeSelectorTerms[0].matchExpressions[0].key: Invalid value: "zone!": ` + qualifiedNameMsg,
		},
		{
			Case: Case{"required node affinity value invalid", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity(nodeLabelTerm("zone", corev1.NodeSelectorOpIn, "eu west"))
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				`nodeSelectorTerms[0].matchExpressions[0].values[0]: Invalid value: "eu west": ` + labelValueMsg,
		},
		{
			Case: Case{"required node affinity field other than metadata.name", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = requiredNodeAffinity(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
					{Key: "spec.unschedulable", Operator: corev1.NodeSelectorOpIn, Values: []string{"false"}},
				}})
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution." +
				`nodeSelectorTerms[0].matchFields[0].key: Invalid value: "spec.unschedulable": not a valid field selector key`,
		},
		{
			Case: Case{"preferred node affinity weight 0", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
					PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{
						{Weight: 0, Preference: nodeLabelTerm("zone", corev1.NodeSelectorOpIn, "a")},
					},
				}}
			}},
			Home: Webhook,
			Want: "spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: " +
				"Invalid value: 0: must be in the range 1-100",
		},

		// Containers.
		{
			Case: Case{"no containers", func(s *v1alpha1.NodeAgentSet) { podSpec(s).Containers = nil }},
			Home: Schema,
			Want: "spec.template.spec.containers: Required value",
		},
		{
			Case: Case{"containers an empty list", func(s *v1alpha1.NodeAgentSet) { podSpec(s).Containers = []corev1.Container{} }},
			Home: Schema,
			Want: "spec.template.spec.containers: Required value: must have at least one container",
		},
		{
			Case: Case{"container without a name", func(s *v1alpha1.NodeAgentSet) { podSpec(s).Containers[0].Name = "" }},
			Home: Webhook,
			Want: "spec.template.spec.containers[0].name: Required value",
		},
		{
			Case: Case{"container name not a DNS label", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Containers[0].Name = "Agent_1"
			}},
			Home: Webhook,
			Want: `spec.template.spec.containers[0].name: Invalid value: "Agent_1": ` + dns1123LabelMsg,
		},
		{
			Case: Case{"container without an image", func(s *v1alpha1.NodeAgentSet) { podSpec(s).Containers[0].Image = "" }},
			Home: Webhook,
			Want: "spec.template.spec.containers[0].image: Required value",
		},
		{
			Case: Case{"two containers with one name", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Containers = append(podSpec(s).Containers, corev1.Container{Name: "agent", Image: "busybox"})
			}},
			Home: Schema,
			Want: `spec.template.spec.containers[1]: Duplicate value: {"name":"agent"}`,
		},
		{
			Case: Case{"init container named like a container", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).InitContainers = []corev1.Container{{Name: "agent", Image: "busybox"}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.containers[0].name: Duplicate value: "agent"`,
		},
		{
			Case: Case{"init container without an image", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).InitContainers = []corev1.Container{{Name: "setup"}}
			}},
			Home: Webhook,
			Want: "spec.template.spec.initContainers[0].image: Required value",
		},
		{
			Case: Case{"ephemeral container in the template", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).EphemeralContainers = []corev1.EphemeralContainer{{
					EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"},
				}}
			}},
			Home: Schema,
			Want: "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
		},

		// Tolerations.
		{
			Case: Case{"toleration key invalid", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Key: "dedicated node", Operator: corev1.TolerationOpExists}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.tolerations[0].key: Invalid value: "dedicated node": ` + qualifiedNameMsg,
		},
		{
			Case: Case{"toleration with empty key and operator Equal", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpEqual, Value: "x"}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when ` +
				"`key` is empty, which means \"match all values and all keys\"",
		},
		{
			Case: Case{"toleration Exists with a value", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Value: "agents"}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.tolerations[0].value: Invalid value: "agents": value must be empty when ` +
				"`operator` is 'Exists'",
		},
		{
			Case: Case{"toleration Equal with an invalid value", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "node agents"}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.tolerations[0].value: Invalid value: "node agents": ` + labelValueMsg,
		},
		{
			Case: Case{"toleration with an unknown effect", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: "NoRun"}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: ` +
				`"NoSchedule", "PreferNoSchedule", "NoExecute"`,
		},
		{
			Case: Case{"toleration with an unknown operator", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{Key: "cpus", Operator: corev1.TolerationOpGt, Value: "4"}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.tolerations[0].operator: Unsupported value: "Gt": supported values: "Equal", "Exists"`,
		},
		{
			Case: Case{"tolerationSeconds without NoExecute", func(s *v1alpha1.NodeAgentSet) {
				podSpec(s).Tolerations = []corev1.Toleration{{
					Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
					TolerationSeconds: ptr.To[int64](30),
				}}
			}},
			Home: Webhook,
			Want: `spec.template.spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' ` +
				"when `tolerationSeconds` is set",
		},

		// Rollout bounds.
		{
			Case: Case{"update strategy type Recreate", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy.Type = "Recreate"
			}},
			Home: Schema,
			Want: `spec.updateStrategy.type: Unsupported value: "Recreate": supported values: "RollingUpdate", "OnDelete"`,
		},
		{
			Case: Case{"maxUnavailable negative", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(intBound(-1), nil)
			}},
			Home: Schema,
			Want: "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0",
		},
		{
			Case: Case{"maxUnavailable not a percent", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(percentBound("ten"), nil)
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "ten": ` + percentMsg,
		},
		{
			Case: Case{"maxUnavailable over 100%", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(percentBound("150%"), nil)
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%`,
		},
		{
			Case: Case{"maxSurge over 100%", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, percentBound("101%"))
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "101%": must not be greater than 100%`,
		},
		{
			Case: Case{"maxSurge a malformed percent", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, percentBound("5 %"))
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "5 %": ` + percentMsg,
		},
		{
			Case: Case{"maxUnavailable and maxSurge both non-zero", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(intBound(1), percentBound("10%"))
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero`,
		},
		{
			Case: Case{"maxUnavailable and maxSurge both zero", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(intBound(0), percentBound("0%"))
			}},
			Home: Schema,
			Want: "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0",
		},
		{
			// maxSurge defaults to 0, so maxUnavailable 0 alone is both zero too, with or without the defaults.
			Case: Case{"maxUnavailable 0 and maxSurge unset", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(intBound(0), nil)
			}},
			Home: Schema,
			Want: "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0",
		},
		{
			Case: Case{"partition negative", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, nil)
				s.Spec.UpdateStrategy.RollingUpdate.Partition = intBound(-2)
			}},
			Home: Schema,
			Want: "spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater than or equal to 0",
		},
		{
			Case: Case{"partition not a percent", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, nil)
				s.Spec.UpdateStrategy.RollingUpdate.Partition = percentBound("half")
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.partition: Invalid value: "half": ` + percentMsg,
		},
		{
			Case: Case{"partition over 100%", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.UpdateStrategy = rollingUpdate(nil, nil)
				s.Spec.UpdateStrategy.RollingUpdate.Partition = percentBound("0101%")
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.partition: Invalid value: "0101%": must not be greater than 100%`,
		},
		// Canary and progress deadline.
		{
			Case: Case{"canary replicas negative", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) { c.Replicas = intBound(-1) })
			}},
			Home: Schema,
			Want: "spec.updateStrategy.rollingUpdate.canary.replicas: Invalid value: -1: must be greater than or equal to 0",
		},
		{
			Case: Case{"canary replicas over 100%", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) { c.Replicas = percentBound("120%") })
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.canary.replicas: Invalid value: "120%": must not be greater than 100%`,
		},
		{
			Case: Case{"canary replicas not a percent", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) { c.Replicas = percentBound("all") })
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.canary.replicas: Invalid value: "all": ` + percentMsg,
		},
		{
			Case: Case{"canary duration negative", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) { c.Duration = &metav1.Duration{Duration: -time.Minute} })
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.canary.duration: Invalid value: "-1m0s": must be greater than or equal to 0`,
		},
		{
			Case: Case{"canary maxRestarts negative", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) { c.MaxRestarts = ptr.To[int32](-1) })
			}},
			Home: Schema,
			Want: "spec.updateStrategy.rollingUpdate.canary.maxRestarts: Invalid value: -1: " +
				"spec.updateStrategy.rollingUpdate.canary.maxRestarts in body should be greater than or equal to 0",
		},
		{
			Case: Case{"canary promotion unknown", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) { c.Promotion = "Later" })
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.canary.promotion: Unsupported value: "Later": supported values: "Auto", "Manual"`,
		},
		{
			Case: Case{"canary onFailure unknown", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) { c.OnFailure = "Rollback" })
			}},
			Home: Schema,
			Want: `spec.updateStrategy.rollingUpdate.canary.onFailure: Unsupported value: "Rollback": supported values: "Pause", "Abort"`,
		},
		{
			Case: Case{"canary node selector with unknown operator", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) {
					c.NodeSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
						{Key: "canary", Operator: "Like", Values: []string{"true"}},
					}}
				})
			}},
			Home: Webhook,
			Want: `spec.updateStrategy.rollingUpdate.canary.nodeSelector.matchExpressions[0].operator: Invalid value: "Like": not a valid selector operator`,
		},
		{
			Case: Case{"canary node selector label value invalid", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(c *v1alpha1.NodeAgentSetCanary) {
					c.NodeSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "yes please"}}
				})
			}},
			Home: Webhook,
			Want: `spec.updateStrategy.rollingUpdate.canary.nodeSelector.matchLabels[canary]: Invalid value: "yes please": ` + labelValueMsg,
		},
		{
			Case: Case{"canary with OnDelete", func(s *v1alpha1.NodeAgentSet) {
				withCanary(s, func(*v1alpha1.NodeAgentSetCanary) {})
				s.Spec.UpdateStrategy.Type = v1alpha1.OnDeleteStrategyType
			}},
			Home: Schema,
			Want: "spec.updateStrategy.rollingUpdate.canary: Forbidden: may not be set when updateStrategy.type is OnDelete",
		},
		{
			Case: Case{"progressDeadlineSeconds negative", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.ProgressDeadlineSeconds = ptr.To[int32](-1)
			}},
			Home: Schema,
			Want: "spec.progressDeadlineSeconds: Invalid value: -1: spec.progressDeadlineSeconds in body should be " +
				"greater than or equal to 0",
		},
		{
			Case: Case{"progressDeadlineSeconds not greater than minReadySeconds", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.MinReadySeconds = 30
				s.Spec.ProgressDeadlineSeconds = ptr.To[int32](30)
			}},
			Home: Schema,
			Want: "spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds",
		},
		// Node overrides.
		{
			Case: Case{"override names a container the template lacks", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{override("large", corev1.ResourceRequirements{}, "sidecar")}
			}},
			Home: Webhook,
			Want: `spec.nodeOverrides[0].containers[0].name: Not found: "sidecar"`,
		},
		{
			Case: Case{"override names duplicated", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{
					override("large", corev1.ResourceRequirements{}, "agent"),
					override("large", corev1.ResourceRequirements{}, "agent"),
				}
			}},
			Home: Schema,
			Want: `spec.nodeOverrides[1]: Duplicate value: {"name":"large"}`,
		},
		{
			Case: Case{"override name not a DNS label", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{override("Large_Nodes", corev1.ResourceRequirements{}, "agent")}
			}},
			Home: Schema,
			Want: `spec.nodeOverrides[0].name: Invalid value: "Large_Nodes": ` + dns1123LabelMsg,
		},
		{
			Case: Case{"override without containers", func(s *v1alpha1.NodeAgentSet) {
				o := override("large", corev1.ResourceRequirements{})
				o.Containers = []v1alpha1.ContainerOverride{}
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{o}
			}},
			Home: Schema,
			Want: "spec.nodeOverrides[0].containers: Invalid value: 0: spec.nodeOverrides[0].containers in body should " +
				"have at least 1 items",
		},
		{
			Case: Case{"override changes one container twice", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{override("large", corev1.ResourceRequirements{}, "agent", "agent")}
			}},
			Home: Schema,
			Want: `spec.nodeOverrides[0].containers[1]: Duplicate value: {"name":"agent"}`,
		},
		{
			Case: Case{"override node selector with unknown operator", func(s *v1alpha1.NodeAgentSet) {
				o := override("large", corev1.ResourceRequirements{}, "agent")
				o.NodeSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "node.kubernetes.io/instance-type", Operator: "Like", Values: []string{"m7i"}}}}
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{o}
			}},
			Home: Webhook,
			Want: `spec.nodeOverrides[0].nodeSelector.matchExpressions[0].operator: Invalid value: "Like": not a valid selector operator`,
		},
		{
			Case: Case{"override request above the template's limit", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{override("large", corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}}, "agent")}
			}},
			Home: Webhook,
			Want: `spec.nodeOverrides[0].containers[0].resources.requests[memory]: Invalid value: "2Gi": must be less than ` +
				`or equal to memory limit of 1Gi`,
		},
		{
			Case: Case{"override limit below the template's request", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{override("small", corev1.ResourceRequirements{
					Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}, "agent")}
			}},
			Home: Webhook,
			Want: `spec.nodeOverrides[0].containers[0].resources.limits[cpu]: Invalid value: "500m": must be greater ` +
				`than or equal to cpu request of 1`,
		},
		{
			Case: Case{"override request negative", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{override("small", corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-1")}}, "agent")}
			}},
			Home: Webhook,
			Want: `spec.nodeOverrides[0].containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater ` +
				`than or equal to 0`,
		},
		{
			Case: Case{"override env name invalid", func(s *v1alpha1.NodeAgentSet) {
				o := override("large", corev1.ResourceRequirements{}, "agent")
				o.Containers[0].Env = []corev1.EnvVar{{Name: "GO=MAXPROCS", Value: "8"}}
				s.Spec.NodeOverrides = []v1alpha1.NodeOverride{o}
			}},
			Home: Webhook,
			Want: `spec.nodeOverrides[0].containers[0].env[0].name: Invalid value: "GO=MAXPROCS": ` + envVarNameMsg,
		},
		{
			Case: Case{"minReadySeconds negative", func(s *v1alpha1.NodeAgentSet) { s.Spec.MinReadySeconds = -5 }},
			Home: Schema,
			Want: "spec.minReadySeconds: Invalid value: -5: spec.minReadySeconds in body should be greater than or equal to 0",
		},
		{
			Case: Case{"revisionHistoryLimit negative", func(s *v1alpha1.NodeAgentSet) {
				s.Spec.RevisionHistoryLimit = ptr.To[int32](-1)
			}},
			Home: Schema,
			Want: "spec.revisionHistoryLimit: Invalid value: -1: spec.revisionHistoryLimit in body should be " +
				"greater than or equal to 0",
		},
	}
}
