package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"text/tabwriter"
)

type results struct {
	Config     configJSON     `json:"config"`
	Machine    machineJSON    `json:"machine"`
	Started    string         `json:"started"`
	LoadAfter  string         `json:"loadAfter"`
	Idle       *idleResult    `json:"idle,omitempty"`
	WriteCosts []writeCost    `json:"writeCosts,omitempty"`
	Turns      []turnResult   `json:"turns"`
	Summary    []phaseSummary `json:"summary"`
}

type configJSON struct {
	Nodes        int     `json:"nodes"`
	Sets         int     `json:"sets"`
	QPS          float64 `json:"qps"`
	Burst        int     `json:"burst"`
	Workers      int     `json:"workers"`
	Repeats      int     `json:"repeats"`
	SchedulerQPS float64 `json:"schedulerQPS"`
	// KwokPodParallelism is kwok's podPlayStageParallelism: how many pod stages (starts, deletes, restarts) it plays
	// at once.
	KwokPodParallelism int `json:"kwokPodParallelism"`
	// PodUpdatePolicy is the NodeAgentSet's podUpdatePolicy.
	PodUpdatePolicy string `json:"podUpdatePolicy"`
	// ManagerArgs are the extra manager flags of --manager-arg.
	ManagerArgs []string `json:"managerArgs,omitempty"`
}

// idleResult is the control plane's cost with its nodes and no controller under test (--idle).
type idleResult struct {
	Seconds     float64            `json:"seconds"`
	CPUSeconds  map[string]float64 `json:"cpuSeconds"`
	APIRequests map[string]int     `json:"apiRequests"`
}

type machineJSON struct {
	CPUModel   string `json:"cpuModel"`
	CPUs       int    `json:"cpus"`
	Memory     string `json:"memory"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	LoadBefore string `json:"loadavgBefore"`
}

type turnResult struct {
	Controller        string        `json:"controller"`
	Repeat            int           `json:"repeat"`
	LoadBefore        string        `json:"loadavgBefore"`
	StartupCPUSeconds float64       `json:"startupCPUSeconds"`
	PeakRSSBytes      uint64        `json:"peakRSSBytes"`
	Phases            []phaseResult `json:"phases"`
}

type phaseResult struct {
	Phase                string  `json:"phase"`
	WallSeconds          float64 `json:"wallSeconds"`
	StatusSettledSeconds float64 `json:"statusSettledSeconds"`
	StatusSettled        bool    `json:"statusSettled"`
	FirstNewPodSeconds   float64 `json:"firstNewPodSeconds"`
	LastNewPodSeconds    float64 `json:"lastNewPodSeconds"`
	// Syncs is how many set syncs (reconciles) the controller did in the phase; -1 if its metrics were unreadable.
	Syncs                  int                `json:"syncs"`
	LastBoundPodSeconds    float64            `json:"lastBoundPodSeconds"`
	CPUSeconds             map[string]float64 `json:"cpuSeconds"`
	ControllerPeakRSSBytes uint64             `json:"controllerPeakRSSBytes"`
	ControllerRSSBytes     uint64             `json:"controllerRSSBytes"`
	// APIRequests counts the API server's requests during the phase by verb and resource, from every client.
	APIRequests map[string]int `json:"apiRequests"`
	// Timeline is the pods' tallies every half second of the phase, until its goal was met.
	Timeline []timelineSample `json:"timeline"`
	// Turnaround is how long the phase's pods took from asking for the wanted image to running it Ready.
	Turnaround podTurnaround `json:"podTurnaround"`
	// APIServerCPULessLeases is the API server's CPU less what the phase's node lease renewals cost it (their count
	// times the measured cost of one, with --write-costs). kwok renews the leases on two busy cores as it gets CPU,
	// 45 to 170 a second where 1000 nodes ask 100 and 3000 nodes 300, so a turn that leaves it more CPU carries more
	// of them; this figure compares the controllers without that.
	APIServerCPULessLeases *float64 `json:"apiserverCPUSecondsLessLeaseRenewals,omitempty"`
}

// phaseSummary is the median over repeats of one phase (or "total": the three phases summed) per controller, and
// the NodeAgentSet/upstream ratios of the medians.
type phaseSummary struct {
	Phase  string                      `json:"phase"`
	By     map[string]controllerFigure `json:"byController"`
	Ratios map[string]float64          `json:"ratioNodeAgentSetToUpstream,omitempty"`
}

type controllerFigure struct {
	WallSeconds          float64 `json:"wallSeconds"`
	ControllerCPUSeconds float64 `json:"controllerCPUSeconds"`
	APIServerCPUSeconds  float64 `json:"apiserverCPUSeconds"`
	EtcdCPUSeconds       float64 `json:"etcdCPUSeconds"`
	PeakRSSMiB           float64 `json:"controllerPeakRSSMiB"`
	// APIServerCPULessLeasesSeconds is set only when every phase has its APIServerCPULessLeases.
	APIServerCPULessLeasesSeconds float64 `json:"apiserverCPUSecondsLessLeaseRenewals,omitempty"`
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(turns []turnResult) []phaseSummary {
	phases := []string{"create", "rollout", "delete", "total"}
	var out []phaseSummary
	for _, ph := range phases {
		s := phaseSummary{Phase: ph, By: map[string]controllerFigure{}}
		for _, ctl := range []string{upstream, nodeAgentSet} {
			var wall, cpu, api, etcd, rss, apiLessLeases []float64
			lessLeases := true
			for _, t := range turns {
				if t.Controller != ctl {
					continue
				}
				var f controllerFigure
				for _, p := range t.Phases {
					if ph != "total" && p.Phase != ph {
						continue
					}
					f.WallSeconds += p.WallSeconds
					f.ControllerCPUSeconds += p.CPUSeconds[controllerKey]
					f.APIServerCPUSeconds += p.CPUSeconds["kube-apiserver"]
					f.EtcdCPUSeconds += p.CPUSeconds["etcd"]
					f.PeakRSSMiB = max(f.PeakRSSMiB, float64(p.ControllerPeakRSSBytes)/(1<<20))
					if p.APIServerCPULessLeases == nil {
						lessLeases = false
					} else {
						f.APIServerCPULessLeasesSeconds += *p.APIServerCPULessLeases
					}
				}
				wall, cpu = append(wall, f.WallSeconds), append(cpu, f.ControllerCPUSeconds)
				api, etcd = append(api, f.APIServerCPUSeconds), append(etcd, f.EtcdCPUSeconds)
				rss = append(rss, f.PeakRSSMiB)
				apiLessLeases = append(apiLessLeases, f.APIServerCPULessLeasesSeconds)
			}
			if len(wall) == 0 {
				continue
			}
			s.By[ctl] = controllerFigure{
				WallSeconds: median(wall), ControllerCPUSeconds: median(cpu), APIServerCPUSeconds: median(api),
				EtcdCPUSeconds: median(etcd), PeakRSSMiB: median(rss),
			}
			if lessLeases {
				f := s.By[ctl]
				f.APIServerCPULessLeasesSeconds = median(apiLessLeases)
				s.By[ctl] = f
			}
		}
		u, okU := s.By[upstream]
		n, okN := s.By[nodeAgentSet]
		if okU && okN {
			s.Ratios = map[string]float64{
				"wall": ratio(n.WallSeconds, u.WallSeconds), "controllerCPU": ratio(n.ControllerCPUSeconds, u.ControllerCPUSeconds),
				"apiserverCPU": ratio(n.APIServerCPUSeconds, u.APIServerCPUSeconds), "etcdCPU": ratio(n.EtcdCPUSeconds, u.EtcdCPUSeconds),
				"peakRSS": ratio(n.PeakRSSMiB, u.PeakRSSMiB),
			}
			if n.APIServerCPULessLeasesSeconds > 0 && u.APIServerCPULessLeasesSeconds > 0 {
				s.Ratios["apiserverCPULessLeaseRenewals"] = ratio(n.APIServerCPULessLeasesSeconds, u.APIServerCPULessLeasesSeconds)
			}
		}
		out = append(out, s)
	}
	return out
}

// orDash prints a figure that only some runs have (zero when absent).
func orDash(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// printTable writes every turn's phases, then the medians and ratios.
func printTable(w io.Writer, r results) {
	fmt.Fprintf(w, "\n%d nodes, %d set(s), QPS/burst %g/%d, %d repeat(s), NodeAgentSet podUpdatePolicy %s; %s, %d CPUs; load before %s, after %s\n\n",
		r.Config.Nodes, r.Config.Sets, r.Config.QPS, r.Config.Burst, r.Config.Repeats, r.Config.PodUpdatePolicy, r.Machine.CPUModel,
		r.Machine.CPUs, r.Machine.LoadBefore, r.LoadAfter)
	if r.Idle != nil {
		fmt.Fprintf(w, "idle (nodes Ready, no controller) for %.1f s: kube-apiserver %.2f CPU s, etcd %.2f, kwok %.2f, garbage collector %.2f, scheduler %.2f\n\n",
			r.Idle.Seconds, r.Idle.CPUSeconds["kube-apiserver"], r.Idle.CPUSeconds["etcd"], r.Idle.CPUSeconds["kwok"],
			r.Idle.CPUSeconds["garbage-collector"], r.Idle.CPUSeconds["kube-scheduler"])
	}
	if len(r.WriteCosts) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "pod write\tpods\tapiserver CPU ms per write (median)\tlowest–highest\tetcd CPU ms per write (median)\t")
		for _, c := range r.WriteCosts {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f–%.2f\t%.2f\t\n", c.Write, c.Pods, c.APIServerCPUMillis,
				slices.Min(c.APIServerCPUMillisRounds), slices.Max(c.APIServerCPUMillisRounds), c.EtcdCPUMillis)
		}
		_ = tw.Flush()
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "controller\trepeat\tphase\twall s\tsettled s\tctl CPU s\tctl peak RSS MiB\tapiserver CPU s\tetcd CPU s\tscheduler CPU s\tkwok CPU s\tgc CPU s\t")
	for _, t := range r.Turns {
		for _, p := range t.Phases {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f\t%.1f\t%.2f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", t.Controller, t.Repeat, p.Phase,
				p.WallSeconds, p.StatusSettledSeconds, p.CPUSeconds[controllerKey], float64(p.ControllerPeakRSSBytes)/(1<<20),
				p.CPUSeconds["kube-apiserver"], p.CPUSeconds["etcd"], p.CPUSeconds["kube-scheduler"], p.CPUSeconds["kwok"],
				p.CPUSeconds["garbage-collector"])
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "median\tphase\twall s\tctl CPU s\tctl peak RSS MiB\tapiserver CPU s\tless lease renewals\tetcd CPU s\t")
	for _, s := range r.Summary {
		for _, ctl := range []string{upstream, nodeAgentSet} {
			if f, ok := s.By[ctl]; ok {
				fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.2f\t%.1f\t%.2f\t%s\t%.2f\t\n", ctl, s.Phase, f.WallSeconds,
					f.ControllerCPUSeconds, f.PeakRSSMiB, f.APIServerCPUSeconds, orDash(f.APIServerCPULessLeasesSeconds), f.EtcdCPUSeconds)
			}
		}
		if s.Ratios != nil {
			fmt.Fprintf(tw, "ratio NAS/upstream\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%.2f\t\n", s.Phase, s.Ratios["wall"],
				s.Ratios["controllerCPU"], s.Ratios["peakRSS"], s.Ratios["apiserverCPU"],
				orDash(s.Ratios["apiserverCPULessLeaseRenewals"]), s.Ratios["etcdCPU"])
		}
	}
	_ = tw.Flush()
}

func (r results) write(path string) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
