// Command bench measures what it costs to run a node agent with NodeAgentSet against the upstream DaemonSet
// controller, on one real control plane with simulated nodes.
//
// It starts etcd, kube-apiserver, kube-scheduler and a kube-controller-manager running only the garbage collector
// (all built by hack/cluster-binaries.sh), registers N kwok nodes that hack/local/stages makes Ready, waits until
// kwok has listed the pods of each node it took (lists that would otherwise load only the first turn), and then lets
// the two controllers take turns: kube-controller-manager --controllers=daemonset with a DaemonSet, and the
// NodeAgentSet manager (bin/manager) with a NodeAgentSet of the same pod template, both with the same client
// QPS/burst and sync workers. Only the controller whose turn it is runs. Each turn has three phases:
//
//   - create: the set is created; the phase ends when every node runs a Ready pod of it;
//   - rollout: the image is changed (RollingUpdate, maxUnavailable 10%); the phase ends when every node runs an
//     available pod with the new image and no pod with the old image is left that is not terminating;
//   - delete: the set is deleted (background propagation, so the garbage collector removes the pods); the phase
//     ends when none of its pods is left.
//
// Waits use watches (informers), never fixed sleeps. For every phase it records the wall time, the CPU seconds of
// each process (utime+stime from /proc/PID/stat) and the controller's peak RSS (VmHWM from /proc/PID/status, reset
// through /proc/PID/clear_refs at the start of each phase). The order of the two controllers alternates between
// repeats so both see the same machine load on average. Each phase also reports the pods' turnarounds (from asking
// for the wanted image to running it Ready) and, for the rollout, how long a freed slot of the maxUnavailable budget
// stayed idle before the next pod took it: what the controller and the API server add between the pods' own
// turnarounds. Results are printed as a table and written as JSON.
//
// Two optional measurements come before the first turn, on the same control plane: --write-costs, before the nodes
// are registered (so nothing else writes), creates, binds, gives a status, patches in place and deletes that many
// pods on a node that does not exist, one kind of write at a time, renews as many leases of its own and writes as
// many statuses of each kind of set, and reports the API server's and etcd's CPU per write, the figures a phase's
// writes add up from; with it, every phase also gets the API server's CPU less its node lease renewals (their
// count times the measured cost of one), since kwok renews leases as fast as the busy machine lets it and a turn
// that leaves it more CPU would otherwise carry more of them. --idle, once the nodes are Ready, measures what the
// components cost with no controller (node leases, the watches): the steady load every phase pays per second.
//
// Every process the bench starts is in its own process group and gets SIGKILL if the bench dies; on any exit path,
// including --timeout and Ctrl-C, the bench stops them and removes its state directory.
//
// Usage (see make bench): bench --nodes 1000 --qps 100 --burst 100 --repeats 2 --out bench.json
package main
