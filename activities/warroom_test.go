package activities

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
)

// warRoomPeers is a store and slack-go's slacktest behind the Slack peer.
func warRoomPeers(t *testing.T) (*store.Store, *devpeers.SlackPeer) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	ob, err := devpeers.OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ob.Close() })
	peer := &devpeers.SlackPeer{Outbox: ob}
	peer.Start()
	t.Cleanup(peer.Close)
	return st, peer
}

// TestWarRoomIsPrivateWhenThePlaybookOrTheIncidentSaysSo opens war rooms in
// slack-go's slacktest for a playbook with a public war room.
func TestWarRoomIsPrivateWhenThePlaybookOrTheIncidentSaysSo(t *testing.T) {
	ctx := context.Background()
	st, peer := warRoomPeers(t)

	dir := t.TempDir()
	def, err := playbooks.Embedded("default.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "default.yaml"), []byte(strings.Replace(string(def), "private: true", "private: false", 1)), 0o644))
	a := &Activities{Store: st, Chat: senders.NewWarRoom(senders.SlackConfig{BotToken: "xoxb-test", APIURL: peer.APIURL()}), PlaybookDir: dir}

	for id, restricted := range map[string]bool{"INC-OPEN": false, "INC-INSIDER": true} {
		require.NoError(t, st.CreateIncident(ctx, store.Incident{ID: id, Title: "t", Spec: incident.Spec{Title: "t"}, OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
		res, err := a.OpenWarRoom(ctx, OpenWarRoomInput{IncidentID: id, Title: "t", Playbook: "default", Restricted: restricted})
		require.NoError(t, err)
		require.NotEmpty(t, res.ChannelID)
		private, exists := peer.Private(senders.ChannelName(id))
		require.True(t, exists)
		require.Equal(t, restricted, private, id)
	}
	// A retry finds the channel it made instead of failing on name_taken.
	again, err := a.OpenWarRoom(ctx, OpenWarRoomInput{IncidentID: "INC-OPEN", Title: "t", Playbook: "default"})
	require.NoError(t, err)
	require.NotEmpty(t, again.ChannelID)
}

// TestRestrictedWarRoomInvitesOnlyThePeopleItNames: an insider incident's
// room is not shown to the playbook's on-call responders, only to its opener
// and the restricted_to people who have Slack accounts (in any case).
func TestRestrictedWarRoomInvitesOnlyThePeopleItNames(t *testing.T) {
	ctx := context.Background()
	st, peer := warRoomPeers(t)
	a := &Activities{Store: st, Chat: senders.NewWarRoom(senders.SlackConfig{BotToken: "xoxb-test", APIURL: peer.APIURL()}),
		SlackUsers: map[string]string{"ciso@example.com": "UCISO", "counsel@example.com": "UCOUNSEL", "bystander@example.com": "UBYSTANDER"}}

	spec := incident.Spec{Title: "t", RestrictedTo: []string{"counsel@example.com", "hr@example.com"}}
	require.NoError(t, st.CreateIncident(ctx, store.Incident{ID: "INC-INSIDER", Title: "t", Spec: spec, OpenedBy: "CISO@example.com", OpenedAt: time.Now()}, nil))
	_, err := a.OpenWarRoom(ctx, OpenWarRoomInput{IncidentID: "INC-INSIDER", Title: "t", Playbook: "default"})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"UCISO", "UCOUNSEL"}, peer.Members(senders.ChannelName("INC-INSIDER")))
	private, _ := peer.Private(senders.ChannelName("INC-INSIDER"))
	require.True(t, private, "a restricted incident's room is private")

	// An ordinary incident pages the playbook's responders.
	require.NoError(t, st.CreateIncident(ctx, store.Incident{ID: "INC-OPEN", Title: "t", Spec: incident.Spec{Title: "t"}, OpenedBy: "ciso@example.com", OpenedAt: time.Now()}, nil))
	_, err = a.OpenWarRoom(ctx, OpenWarRoomInput{IncidentID: "INC-OPEN", Title: "t", Playbook: "default"})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"U-SECURITY-ONCALL", "U-GOV-RELATIONS", "U-LEGAL"}, peer.Members(senders.ChannelName("INC-OPEN")))
}
