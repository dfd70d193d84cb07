package main

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/store"
)

// inquiriesCmd lets support see, answer and close the questions notified
// people ask on their notice's verify page.
func (cl *cli) inquiriesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "inquiries", Short: "Questions notified people asked about their notice: list, answer, close (support, responders, legal, admins)"}
	var incident, status string
	list := &cobra.Command{Use: "list", Short: "List questions, oldest first", Args: cobra.NoArgs, RunE: func(c *cobra.Command, _ []string) error {
		q := url.Values{}
		if incident != "" {
			q.Set("incident", incident)
		}
		if status != "" {
			q.Set("status", status)
		}
		var out []store.Inquiry
		if err := cl.conn().Do(c.Context(), "GET", "/api/v1/inquiries?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(out)
		}
		for _, i := range out {
			fmt.Printf("%s  %s  %s  %s  %s (via %s)\n  Q: %s\n", i.ID, i.IncidentID, i.SubjectID, i.Status, i.AskedAt.UTC().Format("2006-01-02 15:04 UTC"), i.Channel, i.Question)
			if i.Answer != "" {
				fmt.Printf("  A: %s (%s, %s)\n", i.Answer, i.AnsweredBy, i.AnsweredAt.UTC().Format("2006-01-02 15:04 UTC"))
			}
		}
		if len(out) == 0 {
			fmt.Println("no questions")
		}
		return nil
	}}
	list.Flags().StringVar(&incident, "incident", "", "one incident's questions")
	list.Flags().StringVar(&status, "status", "", "open, answered or closed")
	var answer string
	answerCmd := &cobra.Command{Use: "answer QID", Short: "Answer a question: the person reads it where they asked (audited)", Args: cobra.ExactArgs(1), RunE: func(c *cobra.Command, args []string) error {
		var out store.Inquiry
		if err := cl.conn().Do(c.Context(), "POST", "/api/v1/inquiries/"+args[0]+"/answer", api.AnswerRequest{Answer: answer}, &out); err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(out)
		}
		fmt.Printf("%s answered by %s; the person reads it on their notice's page\n", out.ID, out.AnsweredBy)
		return nil
	}}
	answerCmd.Flags().StringVar(&answer, "text", "", "the answer")
	answerCmd.MarkFlagRequired("text")
	closeCmd := &cobra.Command{Use: "close QID", Short: "Close a question (answered, or needing none; audited)", Args: cobra.ExactArgs(1), RunE: func(c *cobra.Command, args []string) error {
		var out store.Inquiry
		if err := cl.conn().Do(c.Context(), "POST", "/api/v1/inquiries/"+args[0]+"/close", nil, &out); err != nil {
			return err
		}
		if cl.output == "json" {
			return printJSON(out)
		}
		fmt.Printf("%s closed\n", out.ID)
		return nil
	}}
	cmd.AddCommand(list, answerCmd, closeCmd)
	return cmd
}
