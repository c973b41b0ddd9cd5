// Package objref spells a NodeAgentSet's name the ways kubectl output does and reads the names users type.
//
// kubectl prints an object as `<kind>.<group>/<name>` after a change (`daemonset.apps/x rolled back`) and as
// `<resource>.<group> "<name>"` in errors (`daemonsets.apps "x" not found`). The plugin uses the same two forms with
// the NodeAgentSet group, so its output reads like kubectl's and a printed name can be pasted back as an argument.
package objref
