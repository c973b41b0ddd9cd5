// Package krew builds what krew, kubectl's plugin manager, installs `kubectl nas` from: one archive per platform
// (linux, darwin and windows on amd64 and arm64) with its sha256, and the plugin manifest plugins/nas.yaml that
// names them, in the format krew-index accepts.
//
// Validate checks a manifest against the rules krew applies before it installs one (krew's own validation package
// is internal to the krew module, and the module pins client-go in a way a v0.37 client cannot share, so the rules
// are restated here from krew's documentation and source: apiVersion, kind, a safe name that is not a reserved
// Windows device name, a one-line shortDescription, a semantic version, and per platform a uri, a sha256 of 64
// lower-case hex digits, a bin, file operations with from and to, and a non-empty selector on os and arch only).
package krew
