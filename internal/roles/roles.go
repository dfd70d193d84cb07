// Package roles names the roles a person or token holds: one set for the
// API, which checks who may call what, and the workflows, whose validators
// check who may decide what (and receive the role in a signed actor).
package roles

const (
	Responder = "responder"
	Legal     = "legal"
	Admin     = "admin"
	Viewer    = "viewer"
	// Drill is the identity scheduled drills run as: on drill incidents
	// only, it approves and files as people would.
	Drill = "drill"
	// Platform is the platform's notification service: it reads on-site
	// inboxes and nothing else.
	Platform = "platform"
	// Support answers the questions notified people ask (inquiries), and
	// sees nothing else of an incident.
	Support = "support"
)
