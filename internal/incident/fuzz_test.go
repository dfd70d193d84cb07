package incident

import (
	"strings"
	"testing"
)

// FuzzIncidentYAML: an incident file (from the CLI, the console or Slack)
// either parses into a spec with a title, detection time, systems and a
// playbook name that is no path, or is refused naming the file.
func FuzzIncidentYAML(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "playbook: ../x\nrestricted_to: [A@B.C]\n"))
	f.Add([]byte("title: [\ndetected_at: yesterday\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Parse("incident.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "incident.yaml") {
				t.Fatalf("a refusal must name the file: %v", err)
			}
			return
		}
		if strings.TrimSpace(spec.Title) == "" || spec.DetectedAt.IsZero() || len(spec.Systems) == 0 {
			t.Fatalf("accepted without a title, detected_at or systems: %+v", spec)
		}
		if strings.ContainsAny(spec.Playbook, "/\\.") {
			t.Fatalf("accepted a playbook path %q", spec.Playbook)
		}
		for _, who := range spec.RestrictedTo {
			if who != NormalizeIdentity(who) {
				t.Fatalf("restricted_to kept %q as written", who)
			}
		}
	})
}
