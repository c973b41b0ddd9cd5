// Package packaging holds the programs and libraries that turn config/ into what users install: the one-file
// installer (render), the OLM bundle (olm), and the commands the Makefile runs (cmd/installer, cmd/bundle). They use
// kustomize as a Go library, so no kustomize or operator-sdk binary is needed.
package packaging
