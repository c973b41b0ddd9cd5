# NodeAgentSet: build, generate, test, run.
#
# Every tool is built from the Go module proxy into bin/ (git-ignored), cached by version.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

IMG ?= controller:latest
LOCALBIN ?= $(shell pwd)/bin
GO ?= go

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)

# Kubernetes components for the tests and the local cluster (hack/cluster-binaries.sh).
K8S_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.5.35
KWOK_VERSION ?= v0.8.0
export K8S_VERSION ETCD_VERSION KWOK_VERSION
CLUSTER_BIN_DIR ?= $(LOCALBIN)/cluster
export CLUSTER_BIN_DIR

# envtest finds etcd and kube-apiserver here; the integration suites also find kube-scheduler and
# kube-controller-manager here.
ENVTEST_ASSETS_DIR = $(CLUSTER_BIN_DIR)/envtest-$(K8S_VERSION)-$(ETCD_VERSION)

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-20s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD, RBAC role and webhook configurations from the markers, and the Helm chart.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:generateEmbeddedObjectMeta=true webhook paths="./..." output:crd:artifacts:config=config/crd/bases
	@# Descriptions serve kubectl explain; the pod template's are dropped to keep the CRD under the 256 KiB that
	@# client-side kubectl apply can store in its last-applied annotation.
	$(GO) run ./hack/crddescriptions config/crd/bases/apps.nodeagentset.io_nodeagentsets.yaml
	@# The Helm chart is generated from config/default, so it follows every change to config/.
	$(GO) run ./hack/packaging/cmd/helmchart --version $(VERSION)

.PHONY: generate
generate: controller-gen ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## go fmt.
	$(GO) fmt ./...

.PHONY: vet
vet: ## go vet.
	$(GO) vet ./...

.PHONY: cluster-binaries
cluster-binaries: ## Build etcd, kube-apiserver, kube-scheduler and kube-controller-manager into bin/ (cached).
	hack/cluster-binaries.sh envtest
	@mkdir -p $(ENVTEST_ASSETS_DIR)
	@ln -sf $(CLUSTER_BIN_DIR)/etcd-$(ETCD_VERSION)/etcd $(ENVTEST_ASSETS_DIR)/etcd
	@for c in kube-apiserver kube-scheduler kube-controller-manager; do \
		ln -sf $(CLUSTER_BIN_DIR)/kubernetes-$(K8S_VERSION)/$$c $(ENVTEST_ASSETS_DIR)/$$c; done

.PHONY: test
test: manifests generate vet cluster-binaries ## Run the unit tables and the integration suites against a real API server.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS_DIR)" $(GO) test ./... -count=1 -timeout 40m

##@ Build

.PHONY: build
build: manifests generate ## Build the manager and the kubectl plugin.
	$(GO) build -o bin/manager ./cmd
	$(GO) build -o bin/kubectl-nas ./cmd/kubectl-nas

.PHONY: run
run: manifests generate ## Run the manager against the cluster in $$KUBECONFIG, webhooks off.
	ENABLE_WEBHOOKS=false $(GO) run ./cmd

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)

##@ Local cluster

.PHONY: run-local
run-local: ## Run NodeAgentSet on a local simulated cluster (kwok nodes); Ctrl-C stops it. DETACH=1: background, NODES=n, REPLICAS=2: two managers with leader election.
	$(if $(REPLICAS),REPLICAS=$(REPLICAS)) hack/run-local.sh $(if $(filter 1 true yes,$(DETACH)),--detach) $(if $(NODES),--nodes $(NODES)) $(RUN_LOCAL_ARGS)

.PHONY: stop-local
stop-local: ## Stop the local cluster started with make run-local DETACH=1 and remove its state.
	hack/stop-local.sh

.PHONY: test-e2e
test-e2e: ## Replay the seed walkthroughs with kubectl and kubectl nas on a fresh local cluster the suite starts.
	hack/cluster-binaries.sh local >/dev/null
	$(GO) test -tags e2e ./test/e2e/ -count=1 -timeout 30m -v -ginkgo.v

##@ Benchmarks

# make bench BENCH_ARGS='--nodes 3000 --qps 5000 --burst 10000 --repeats 3'; hack/bench/doc.go lists the flags.
BENCH_ARGS ?=
.PHONY: bench
bench: manifests generate ## Upstream DaemonSet controller vs NodeAgentSet on kwok nodes: CPU, memory, wall time per phase.
	hack/cluster-binaries.sh bench >/dev/null
	$(GO) build -o bin/manager ./cmd
	$(GO) build -o bin/local/ ./hack/local/certgen
	$(GO) build -o bin/bench ./hack/bench
	bin/bench --root . --manager bin/manager --certgen bin/local/certgen $(BENCH_ARGS)

##@ Packaging

# The operator version the OLM bundle is built for (MAJOR.MINOR.PATCH), and its channels.
VERSION ?= 0.1.0
BUNDLE_CHANNELS ?= candidate
BUNDLE_DEFAULT_CHANNEL ?= candidate
CONTAINER_TOOL ?= docker

.PHONY: helm-chart
helm-chart: manifests ## Regenerate charts/nodeagentset from config/default for VERSION (make manifests does it too).

.PHONY: plugin-archives
plugin-archives: ## Cross-compile kubectl nas into dist/plugins/ for krew (6 platforms, each with .sha256) and write plugins/nas.yaml for VERSION.
	$(GO) run ./hack/packaging/cmd/krew --version v$(VERSION) --out dist/plugins --manifest plugins/nas.yaml

.PHONY: docker-build
docker-build: ## Build the manager image IMG with $(CONTAINER_TOOL) (Dockerfile).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: build-installer
build-installer: manifests generate ## Write dist/install.yaml: config/default rendered with the manager image IMG.
	$(GO) run ./hack/packaging/cmd/installer --image $(IMG) --out dist/install.yaml

.PHONY: bundle
bundle: manifests generate ## Write the OLM bundle (bundle/, bundle.Dockerfile) for VERSION with the manager image IMG.
	$(GO) run ./hack/packaging/cmd/bundle --version $(VERSION) --image $(IMG) \
		--channels $(BUNDLE_CHANNELS) --default-channel $(BUNDLE_DEFAULT_CHANNEL)
