package activities

// The types of the application errors activities return: the one list a
// workflow, a retry policy or an operator reading a failure matches on.
// The values are what histories already carry; do not rename them.
const (
	// Retried: a provider or Slack is slow or down, or asks us to wait.
	ErrRateLimited         = "RateLimited"
	ErrProviderUnavailable = "ProviderUnavailable"
	// A channel is held: its provider refuses Tocsin's own configuration
	// or account; retried when its next probe is due.
	ErrChannelHeld = "ChannelHeld"
	// Tocsin's own configuration lacks what the work needs (a key): retried
	// until an operator supplies it, never a fact about a person.
	ErrMisconfigured = "Misconfigured"
	// The campaign is paused (tocsin incident pause): retried until resumed.
	ErrPaused = "Paused"
	// Not retried: the incident cannot go on until a person fixes its input.
	ErrNoApprovedNotice = "NoApprovedNotice"
	ErrTemplate         = "template"
	ErrPlaybook         = "playbook"
	ErrNoInventory      = "NoInventory"
	ErrUnknownSystem    = "UnknownSystem"
)
