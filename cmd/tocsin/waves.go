package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
)

// addCmd adds people found after the first notice to an incident.
func (cl *cli) addCmd() *cobra.Command {
	var systems, subjectsFile string
	cmd := &cobra.Command{Use: "add ID (--systems A,B | --subjects-file F)", Short: "Add people found after the first notice: a follow-up wave scoped against the same snapshot, told once legal approves what it newly needs (legal, admins; audited)",
		Long: `Add people forensics found after the first notice. --systems names more
systems the breach reached (everyone whose data sits in them joins the
affected set); --subjects-file names people (one subject ID per line, or a
CSV with a subject_id column), scoped by the incident's systems and any
named with --systems. Nobody already affected is scoped again or told
twice. The plan assesses the duties again on everyone now affected: duties
the new people trigger (a new jurisdiction, a threshold crossed) are
tracked and drafted for legal, with notices for readers of a new language;
once legal approves them, only the new people are told.`,
		Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			var list []string
			for _, s := range strings.Split(systems, ",") {
				if s = strings.TrimSpace(s); s != "" {
					list = append(list, s)
				}
			}
			if len(list) == 0 && subjectsFile == "" {
				return errors.New("give --systems, --subjects-file or both")
			}
			w, err := cl.apiCalls().AddWave(cmd.Context(), args[0], list, subjectsFile)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(w)
			}
			fmt.Printf("%s: wave %d %s by %s; the plan scopes it, drafts what it newly needs for legal, then tells only its new people (tocsin incident show %s)\n",
				args[0], w.Wave, w.Status, w.RequestedBy, args[0])
			return nil
		}}
	cmd.Flags().StringVar(&systems, "systems", "", "systems the breach also reached, comma-separated (IDs of the incident's inventory snapshot)")
	cmd.Flags().StringVar(&subjectsFile, "subjects-file", "", "people forensics named: one subject ID per line, or a CSV with a subject_id column")
	return cmd
}

// waveNamed says what a wave named.
func waveNamed(w api.WaveView) string {
	var parts []string
	if len(w.Systems) > 0 {
		parts = append(parts, "systems "+strings.Join(w.Systems, ", "))
	}
	if w.Named > 0 {
		parts = append(parts, fmt.Sprintf("%d people from %s", w.Named, w.SubjectsFile))
	}
	return strings.Join(parts, " and ")
}

// waveStatus says where a wave stands, as `incident show` prints it.
func waveStatus(w api.WaveView) string {
	var out string
	switch w.Status {
	case "queued":
		return "queued: it runs once the current step of the plan is done"
	case "scoping":
		return "scoping"
	case "failed":
		return "failed: " + w.Error
	default:
		out = fmt.Sprintf("%d people added", w.Added)
	}
	if len(w.Duties) > 0 {
		out += "; new duties " + strings.Join(w.Duties, ", ")
	}
	if len(w.Drafts) > 0 {
		out += "; drafted " + strings.Join(w.Drafts, ", ")
	}
	if len(w.Supplementary) > 0 {
		out += "; supplementary reports " + strings.Join(w.Supplementary, ", ")
	}
	switch w.Status {
	case "awaiting_approval":
		out += "; waiting for legal to approve them"
	case "notifying":
		out += "; notifying them"
	case "done":
		out += "; done"
	}
	return out
}
