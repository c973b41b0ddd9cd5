// Package render renders the repository's kustomizations with kustomize's krusty library, optionally with the
// manager image replaced, and returns the result as YAML or as objects. It never writes into config/: the image is
// set by a kustomize overlay built in memory.
package render
