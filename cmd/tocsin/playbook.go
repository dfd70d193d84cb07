package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/explain"
	"github.com/tocsin/tocsin/playbooks"
)

func (cl *cli) playbookCmd() *cobra.Command {
	pb := &cobra.Command{Use: "playbook", Short: "Check playbooks and see what they would do"}
	var dir string
	pb.PersistentFlags().StringVar(&dir, "playbooks", "", "directory of playbooks and law/ files that override the built-in ones")

	lint := &cobra.Command{Use: "lint [NAME...]", Short: "Check playbooks and their law files; errors name file:line: field", RunE: func(cmd *cobra.Command, args []string) error {
		names := args
		if len(names) == 0 {
			var err error
			if names, err = playbooks.Names(dir); err != nil {
				return err
			}
		}
		failed := false
		for _, n := range names {
			p, err := playbooks.Load(dir, n)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
				continue
			}
			duties := 0
			for _, l := range p.Laws {
				duties += len(l.Obligations)
			}
			fmt.Printf("%s: ok (%d jurisdictions, %d duties)\n", n, len(p.Laws), duties)
		}
		if failed {
			return errors.New("playbook lint found errors (above)")
		}
		return nil
	}}

	var in explain.Input
	var assessed string
	explainCmd := &cobra.Command{Use: "explain", Short: "Show which duties an incident would trigger, by when and why, without starting anything",
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.PlaybookDir = dir
			if assessed != "" {
				t, err := time.Parse(time.RFC3339, assessed)
				if err != nil {
					return fmt.Errorf("--assessed-at %q: want RFC 3339, like 2026-11-20T10:30:00Z", assessed)
				}
				in.AssessedAt = t
			}
			res, err := explain.Run(cmd.Context(), in)
			if err != nil {
				return err
			}
			if cl.output == "json" {
				return printJSON(res)
			}
			res.Print(os.Stdout)
			return nil
		}}
	explainCmd.Flags().StringVarP(&in.IncidentFile, "file", "f", "incident.yaml", "incident file")
	explainCmd.Flags().StringVar(&in.SystemsFile, "systems", "", "inventory systems file (default: systems.yaml beside the incident)")
	explainCmd.Flags().StringVar(&in.SubjectsFile, "subjects", "", "inventory subjects file (default: subjects.csv beside the incident)")
	explainCmd.Flags().StringVar(&assessed, "assessed-at", "", "when the incident was assessed notifiable (default: not yet; counted from detected_at)")
	pb.AddCommand(lint, explainCmd)
	return pb
}
