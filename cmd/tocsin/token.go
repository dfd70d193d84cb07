package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/store"
)

func (cl *cli) tokenCmd() *cobra.Command {
	var db, identity, role string
	var expires time.Duration
	open := func() (*store.Store, error) { return store.Open(db) }
	cmd := &cobra.Command{Use: "token", Short: "Create an API token for an identity and role (production); list and revoke them", RunE: func(cmd *cobra.Command, _ []string) error {
		switch role {
		case api.RoleResponder, api.RoleLegal, api.RoleAdmin, api.RoleViewer, api.RoleDrill, api.RolePlatform, api.RoleSupport:
		default:
			return fmt.Errorf("--role %q: use responder, legal, admin, viewer, support (answers people's inquiries only), drill (runs drills, sees drill incidents only) or platform (reads on-site inboxes only)", role)
		}
		if identity == "" || !strings.Contains(identity, "@") {
			return fmt.Errorf("--identity %q: give the e-mail address the person signs in with", identity)
		}
		if expires < 0 {
			return fmt.Errorf("--expires %s: give a positive duration (720h) or leave it out for a token that does not expire", expires)
		}
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close()
		tok := api.NewToken()
		t := store.Token{Identity: identity, Role: role}
		if expires > 0 {
			t.Expires = time.Now().Add(expires)
		}
		if err := st.PutToken(cmd.Context(), api.HashToken(tok), t); err != nil {
			return err
		}
		fmt.Println(tok)
		return nil
	}}
	cmd.PersistentFlags().StringVar(&db, "database", "tocsin.db", "Tocsin's database: a SQLite file or postgres://...")
	cmd.Flags().StringVar(&identity, "identity", "", "who the token belongs to (email)")
	cmd.Flags().StringVar(&role, "role", "", "responder, legal, admin, viewer, drill or platform")
	cmd.Flags().DurationVar(&expires, "expires", 0, "how long the token is valid (720h); none: until revoked")

	var listOutput string
	list := &cobra.Command{Use: "list", Short: "List API tokens: ID, identity, role, created, expires (never the tokens themselves)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close()
		toks, err := st.APITokens(cmd.Context())
		if err != nil {
			return err
		}
		if listOutput == "json" {
			type row struct {
				ID       string     `json:"id"`
				Identity string     `json:"identity"`
				Role     string     `json:"role"`
				Created  time.Time  `json:"created_at"`
				Expires  *time.Time `json:"expires_at,omitempty"`
				Expired  bool       `json:"expired,omitempty"`
			}
			rows := []row{}
			for _, t := range toks {
				r := row{ID: t.ID, Identity: t.Identity, Role: t.Role, Created: t.Created}
				if !t.Expires.IsZero() {
					r.Expires, r.Expired = &t.Expires, time.Now().After(t.Expires)
				}
				rows = append(rows, r)
			}
			return printJSON(rows)
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tIDENTITY\tROLE\tCREATED\tEXPIRES")
		for _, t := range toks {
			exp := "never"
			if !t.Expires.IsZero() {
				exp = t.Expires.UTC().Format(time.RFC3339)
				if time.Now().After(t.Expires) {
					exp += " (expired)"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Identity, t.Role, t.Created.UTC().Format(time.RFC3339), exp)
		}
		return tw.Flush()
	}}
	list.Flags().StringVarP(&listOutput, "output", "o", "text", "text or json")
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke an API token (ID as `token list` shows it): end its identity's console sessions and suspend their Slack mapping until a token is issued to them again", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		st, err := open()
		if err != nil {
			return err
		}
		defer st.Close()
		t, err := st.RevokeToken(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		fmt.Printf("revoked token %s of %s (%s); their console sessions are ended and their Slack mapping suspended\n", t.ID, t.Identity, t.Role)
		return nil
	}}
	cmd.AddCommand(list, revoke)
	return cmd
}
