// Package history reads a NodeAgentSet's rollout history from its ControllerRevisions: which revisions belong to the
// set, the REVISION / CHANGE-CAUSE table of `kubectl nas rollout history`, and which revision `rollout undo` goes
// back to.
//
// The controller writes the revisions (internal/revision holds the storage format); this package only reads them.
// A revision belongs to a set when the set is its controller (ownerReference with controller=true and the set's
// UID), the rule kubectl applies to a DaemonSet's revisions.
package history
