// Package revision turns a NodeAgentSet's pod template into ControllerRevisions and decides, without side effects,
// which revision is the update revision, which number it gets and which old revisions may be pruned.
//
// A revision stores the template as the patch `{"spec":{"template":{...,"$patch":"replace"}}}`, the format the
// apps/v1 DaemonSet controller stores, so a rollback is "apply the revision's patch to the set". A set with
// spec.nodeOverrides stores them beside the template (`"nodeOverrides":[...]` in the same spec object) and hashes
// them with it, so an override change is a new revision like a template change. Revision numbers only
// grow: going back to an old template re-numbers that template's revision as the newest instead of creating a copy.
package revision
