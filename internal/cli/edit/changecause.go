package edit

import (
	"strings"

	v1alpha1 "github.com/nodeagentset/nodeagentset/api/v1alpha1"
)

// Flag is one flag given on the command line, by its long name.
type Flag struct {
	Name  string
	Value string
}

// secretFlags are never written into an annotation.
var secretFlags = map[string]bool{"token": true, "password": true}

// ChangeCause is the command line recorded in the kubernetes.io/change-cause annotation, in kubectl's form:
// the command, its arguments, then each given flag as --name=value (secrets replaced by CLASSIFIED).
func ChangeCause(command string, args []string, flags []Flag) string {
	var b strings.Builder
	b.WriteString(command)
	for _, a := range args {
		b.WriteString(" " + a)
	}
	for _, f := range flags {
		value := f.Value
		if secretFlags[f.Name] {
			value = "CLASSIFIED"
		}
		b.WriteString(" --" + f.Name + "=" + value)
	}
	return b.String()
}

// RecordMode says when a change-cause is recorded, after kubectl's --record flag.
type RecordMode int

const (
	// RecordIfPresent (flag not given) updates the annotation only if the set already has one, so a change-cause
	// recorded earlier is not carried into a revision it does not describe.
	RecordIfPresent RecordMode = iota
	// RecordAlways (--record or --record=true) sets the annotation.
	RecordAlways
	// RecordNever (--record=false) leaves the annotation alone.
	RecordNever
)

// RecordChangeCause sets the set's change-cause annotation according to mode and reports whether it changed.
func RecordChangeCause(set *v1alpha1.NodeAgentSet, cause string, mode RecordMode) bool {
	current, present := set.Annotations[v1alpha1.ChangeCauseAnnotation]
	if mode == RecordNever || (mode == RecordIfPresent && !present) || (present && current == cause) {
		return false
	}
	if set.Annotations == nil {
		set.Annotations = map[string]string{}
	}
	set.Annotations[v1alpha1.ChangeCauseAnnotation] = cause
	return true
}
