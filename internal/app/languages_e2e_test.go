package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
)

// worldPeople live in Japan, Korea, Brazil, France and Spain, with one
// Italian speaker in Germany (no Italian notice: Germany's language), one
// Dutch speaker in the Netherlands (neither: the playbook's default),
// English speakers in Singapore and Sydney, and a Chinese reader in
// China.
const worldPeople = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n" +
	"w1,山田太郎,w1@example.com,,,ja-JP,JP,1980,account-db\n" +
	"w2,김민준,w2@example.com,,,ko,KR,1985,account-db\n" +
	"w3,João Silva,w3@example.com,,,pt-BR,BR,1990,account-db\n" +
	"w4,Chloé Martin,w4@example.com,,,fr,FR,1975,account-db\n" +
	"w5,Lucía García,w5@example.com,,,es,ES,1995,account-db\n" +
	"w6,Giulia Rossi,w6@example.com,,,it,DE,1970,account-db\n" +
	"w7,Daan de Vries,w7@example.com,,,nl,NL,1982,account-db\n" +
	"w8,Tan Wei Ling,w8@example.com,,,en,SG,1988,account-db\n" +
	"w9,Pat Doe,w9@example.com,,,en,AU-NSW,1979,account-db\n" +
	"w10,李雷,w10@example.com,,,zh-CN,CN,1991,account-db\n"

// worldTranslations are the sample's texts in the residents' languages
// (the sample file itself has Chinese); Japanese is added during the run.
var worldTranslations = map[string]map[string]string{
	"ko": {"title": "프로필 미디어 저장소 무단 접근", "description": "공격자가 유출된 접근 키를 이용해 프로필 미디어 저장소와 계정 데이터베이스의 데이터를 읽었습니다.",
		"cause": "버킷 정책이 변경되었습니다.", "measures": "해당 키를 폐기하고 접속 기록을 보존했으며 모든 세션을 초기화했습니다.",
		"advice": "비밀번호를 변경하시고, 인증번호를 요구하는 전화나 메시지에 주의하십시오.", "remedies": "12개월간 명의 도용 방지 서비스를 무료로 제공합니다."},
	"pt-BR": {"title": "Acesso não autorizado ao repositório de mídia de perfil", "description": "Um invasor usou uma chave de acesso vazada para ler objetos do repositório de mídia de perfil.",
		"cause": "Uma política de bucket foi alterada.", "measures": "A chave foi revogada e todas as sessões foram encerradas.",
		"advice": "Troque sua senha e desconfie de ligações que peçam códigos de verificação.", "remedies": "Serviço gratuito de proteção de identidade por 12 meses."},
	"fr": {"title": "Accès non autorisé au stockage des médias de profil", "description": "Un attaquant a utilisé une clé d’accès divulguée pour lire des objets du stockage des médias de profil.",
		"cause": "Une règle d’accès au compartiment a été modifiée.", "measures": "La clé a été révoquée et toutes les sessions réinitialisées.",
		"advice": "Changez votre mot de passe et méfiez-vous des appels qui demandent des codes de vérification.", "remedies": "Service de protection d’identité gratuit pendant 12 mois."},
	"es": {"title": "Acceso no autorizado al almacén de medios de perfil", "description": "Un atacante utilizó una clave de acceso filtrada para leer objetos del almacén de medios de perfil.",
		"cause": "Se modificó la política de un bucket.", "measures": "Revocamos la clave y restablecimos todas las sesiones.",
		"advice": "Cambie su contraseña y desconfíe de llamadas que le pidan códigos de verificación.", "remedies": "Servicio gratuito de protección de identidad durante 12 meses."},
	"de": {"title": "Unbefugter Zugriff auf den Profilmedienspeicher", "description": "Ein Angreifer hat mit einem abgeflossenen Zugangsschlüssel Objekte im Profilmedienspeicher gelesen.",
		"cause": "Eine Bucket-Richtlinie wurde geändert.", "measures": "Der Schlüssel wurde gesperrt und alle Sitzungen zurückgesetzt.",
		"advice": "Ändern Sie Ihr Passwort und seien Sie vorsichtig bei Anrufen, die nach Bestätigungscodes fragen.", "remedies": "Kostenloser Identitätsschutz für 12 Monate."},
}

var japanese = map[string]string{"title": "プロフィール画像ストアへの不正アクセス", "description": "攻撃者が流出したアクセスキーを使い、プロフィール画像ストアのデータを読み取りました。",
	"cause": "バケットのポリシーが変更されました。", "measures": "当該キーを無効化し、すべてのセッションをリセットしました。",
	"advice": "パスワードを変更し、認証コードを尋ねる電話にご注意ください。", "remedies": "12か月間の本人確認保護サービスを無料でご提供します。"}

// withTranslations adds worldTranslations to the sample incident file.
func withTranslations(yaml string) string {
	var b strings.Builder
	b.WriteString("translations:\n")
	for locale, texts := range worldTranslations {
		fmt.Fprintf(&b, "  %s:\n", locale)
		for key, text := range texts {
			fmt.Fprintf(&b, "    %s: %q\n", key, text)
		}
	}
	return strings.Replace(yaml, "translations:\n", b.String(), 1)
}

// TestEveryoneIsToldInTheirLanguageOrWhereTheyLive: each person's e-mail
// arrives in their language (Japanese, Korean, Brazilian Portuguese,
// French, Spanish, Chinese) with the incident's texts translated and its
// times in their own zone; an Italian speaker in Germany reads German, a
// Dutch speaker the playbook's English, English speakers in Singapore and
// Sydney English in their own time. The Japanese notice, untranslated
// at first, is held: legal's approval without a comment is refused until
// a responder translates it. The GDPR report goes to the lead authority
// (France's CNIL) in French; the CAC report has no English but names.
func TestEveryoneIsToldInTheirLanguageOrWhereTheyLive(t *testing.T) {
	ctx := context.Background()
	heldJapanese := func(d api.DraftView) bool { return d.Name == "notice-ja" && len(d.Untranslated) > 0 }
	r := runSample(t, sampleOptions{subjects: worldPeople, incident: withTranslations, leave: heldJapanese,
		playbook: func(dir string) {
			f, err := os.OpenFile(filepath.Join(dir, "default.yaml"), os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString("lead_authority: {EU: FR}\n")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		},
		done: func(v api.View) bool {
			for _, d := range v.Drafts {
				if heldJapanese(d) && d.Status == api.DraftPending && len(d.Missing) == 0 {
					return true
				}
			}
			return false
		}})
	var ja api.DraftView
	for _, d := range r.view.Drafts {
		if d.Name == "notice-ja" {
			ja = d
		}
	}
	require.Equal(t, []string{"title", "description", "cause", "measures", "advice", "remedies"}, ja.Untranslated)
	err := r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/approve", api.DecisionRequest{Draft: ja.Name, Revision: ja.Revision}, nil)
	require.ErrorContains(t, err, "not translated to ja: title, description, cause, measures, advice, remedies")
	require.NoError(t, r.responder.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/facts", api.FactsRequest{Locale: "ja", Set: japanese}, nil))
	r.until(t, func(v api.View) bool { return v.Status == api.StageClosed })

	var notices []string
	for _, d := range r.view.Drafts {
		if d.Kind == activities.KindNotice {
			notices = append(notices, d.Name)
			require.Empty(t, d.Untranslated, "%s: every notice's texts are translated", d.Name)
		}
		if d.Name == "notice-en" {
			require.Equal(t, []string{"Asia/Singapore", "Australia/Sydney", "Europe/Amsterdam"}, d.Zones)
		}
	}
	require.ElementsMatch(t, []string{"notice-ja", "notice-ko", "notice-pt-BR", "notice-fr", "notice-es", "notice-de", "notice-en", "notice-zh-CN"}, notices)

	entries, err := r.dev.Outbox.List(ctx, r.id)
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range entries {
		if e.Channel == "email" {
			got[e.SubjectID] = e.Subject + "\n" + e.Body
		}
	}
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for id, want := range map[string][]string{
		"w1":  {"個人情報の漏えい等に関するお知らせ", "お客様各位", japanese["description"], japanese["measures"], "当社は2026年11月20日 17:00（日本時間）に本事案を認識しました。"},
		"w2":  {"개인정보 유출 통지", "고객님께", worldTranslations["ko"]["description"], worldTranslations["ko"]["advice"], templates.LocalTime(detected, "ko", "Asia/Seoul")},
		"w3":  {"Comunicado de incidente de segurança", worldTranslations["pt-BR"]["description"], templates.LocalTime(detected, "pt-BR", "America/Sao_Paulo")},
		"w4":  {"Notification d’une violation de vos données personnelles", worldTranslations["fr"]["measures"], templates.LocalTime(detected, "fr", "Europe/Paris")},
		"w5":  {"Notificación de una violación de sus datos personales", worldTranslations["es"]["remedies"], templates.LocalTime(detected, "es", "Europe/Madrid")},
		"w6":  {"Benachrichtigung über eine Verletzung des Schutzes Ihrer Daten", worldTranslations["de"]["description"], "20.11.2026, 09:00 Uhr"},
		"w7":  {"Notice of Data Breach", "Dear customer", "2026-11-20 09:00 CET"},
		"w8":  {"Notice of Data Breach", "2026-11-20 16:00 UTC+08:00"},
		"w9":  {"Notice of Data Breach", "2026-11-20 19:00 AEDT"},
		"w10": {"个人形象媒体库遭未经授权访问", "2026年11月20日 16:00（北京时间）"},
	} {
		for _, w := range want {
			require.Contains(t, got[id], w, "%s's e-mail", id)
		}
		require.NotContains(t, got[id], " UTC.", "%s's e-mail gives their own time", id)
		require.NotContains(t, got[id], "以下の内容の一部は", "%s's e-mail: translated, no note", id)
		if id != "w7" && id != "w8" && id != "w9" {
			require.NotContains(t, got[id], "An attacker used", "%s's e-mail is translated", id)
		}
	}

	var eu, cac store.Draft
	require.NoError(t, r.legal.Do(ctx, "GET", "/api/v1/incidents/"+r.id+"/drafts/report-eu-gdpr-authority-initial", nil, &eu))
	require.Equal(t, "fr", eu.Locale)
	require.Contains(t, eu.Body, "Destinataire : Commission nationale de l'informatique et des libertés (CNIL)")
	require.Contains(t, eu.Body, worldTranslations["fr"]["description"])
	require.NoError(t, r.legal.Do(ctx, "GET", "/api/v1/incidents/"+r.id+"/drafts/report-cn-pipl-regulator", nil, &cac))
	rest := cac.Title + "\n" + cac.Body
	for _, name := range []string{r.id, "Example Platform Ltd", "Jane Doe", "dpo@example.com", "privacy@example.com", "SMS", "CN"} {
		rest = strings.ReplaceAll(rest, name, "")
	}
	require.Empty(t, regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(rest, -1), "the CAC report has no English but names:\n%s", cac.Body)
}
