// Package edit holds the changes `kubectl nas` makes to a NodeAgentSet, as pure functions on the object: pause,
// resume, restart, set image, record a change-cause and restore a revision's template and change-cause.
//
// Each function changes the set in memory or returns an error naming what is wrong, and leaves the set untouched
// when it fails, so the command that sends the result to the API server never sends half an edit. Parsing the
// arguments of `set image` lives here too, because it decides which edit is made.
package edit
