package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tocsin/tocsin/activities"
)

// worldPeople live in Japan, Korea, Brazil, France and Spain, with one
// Italian speaker in Germany (no Italian notice: Germany's language) and
// one Dutch speaker in the Netherlands (neither: the playbook's default).
const worldPeople = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n" +
	"w1,山田太郎,w1@example.com,,,ja-JP,JP,1980,account-db\n" +
	"w2,김민준,w2@example.com,,,ko,KR,1985,account-db\n" +
	"w3,João Silva,w3@example.com,,,pt-BR,BR,1990,account-db\n" +
	"w4,Chloé Martin,w4@example.com,,,fr,FR,1975,account-db\n" +
	"w5,Lucía García,w5@example.com,,,es,ES,1995,account-db\n" +
	"w6,Giulia Rossi,w6@example.com,,,it,DE,1970,account-db\n" +
	"w7,Daan de Vries,w7@example.com,,,nl,NL,1982,account-db\n"

// TestEveryoneIsToldInTheirLanguageOrWhereTheyLive: each person's e-mail
// arrives in their language (Japanese, Korean, Brazilian Portuguese,
// French, Spanish), an Italian speaker in Germany reads German, a Dutch
// speaker the playbook's English; each notice was a draft legal approved.
// The incident's texts are not translated into Japanese: the notice was
// held until legal approved it with a comment, and tells its reader, in
// Japanese, that some details follow in English; its times are Japan's.
func TestEveryoneIsToldInTheirLanguageOrWhereTheyLive(t *testing.T) {
	ctx := context.Background()
	r := runSampleIncidentWith(t, worldPeople, "", nil)
	var notices []string
	for _, d := range r.view.Drafts {
		if d.Kind == activities.KindNotice {
			notices = append(notices, d.Name)
		}
	}
	require.ElementsMatch(t, []string{"notice-ja", "notice-ko", "notice-pt-BR", "notice-fr", "notice-es", "notice-de", "notice-en"}, notices)
	entries, err := r.dev.Outbox.List(ctx, r.id)
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range entries {
		if e.Channel == "email" {
			got[e.SubjectID] = e.Subject + "\n" + e.Body
		}
	}
	for _, d := range r.view.Drafts {
		if d.Name == "notice-ja" {
			require.Equal(t, []string{"title", "description", "cause", "measures", "advice", "remedies"}, d.Untranslated,
				"the sample translates its texts into Chinese only: legal approved the Japanese notice with a comment")
			require.NotEmpty(t, d.Comment)
		}
	}
	for id, want := range map[string][]string{
		"w1": {"個人情報の漏えい等に関するお知らせ", "お客様各位", "漏えい等が発生したおそれがある個人データの項目",
			"以下の内容の一部は、翻訳が整うまで英語で記載しています。", "当社は2026年11月20日 17:00（日本時間）に本事案を認識しました。"},
		"w2": {"개인정보 유출 통지", "고객님께", "유출된 개인정보의 항목"},
		"w3": {"Comunicado de incidente de segurança", "Prezado(a) cliente", "Quais dados foram afetados"},
		"w4": {"Notification d’une violation de vos données personnelles", "Madame, Monsieur", "Les données concernées"},
		"w5": {"Notificación de una violación de sus datos personales", "Estimado/a cliente", "Qué información se ha visto afectada"},
		"w6": {"Benachrichtigung über eine Verletzung des Schutzes Ihrer Daten", "Sehr geehrte Kundin", "Welche Daten betroffen sind"},
		"w7": {"Notice of Data Breach", "Dear customer", "What information was involved"},
	} {
		for _, w := range want {
			require.Contains(t, got[id], w, "%s's e-mail", id)
		}
	}
}
