package templates_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from what the templates render now")

// sampleFacts are the sample breach's facts (examples/basic).
func sampleFacts() templates.Facts {
	return templates.Facts{IncidentID: "INC-20261120-0001", Title: "Unauthorized access to the persona media store", Kind: "unauthorized-access",
		Description: "An attacker used a leaked access key to read objects in the persona media store and the account database.",
		Measures:    "The key was revoked, access logs were preserved, and all sessions were reset.",
		Advice:      "Change your password, and be careful with calls or messages that ask for verification codes.",
		Remedies:    "Free identity-protection service for 12 months; contact us for help.",
		Contact:     "privacy@example.com", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
		OccurredFrom: time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), OccurredTo: time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC),
		Categories: []string{"biometric.face", "contact.phone", "credential.password_hash"}, Translations: sampleTranslations,
		VerifyURL: "https://notify.example.com", InquiryPhone: "+1 800 555 0100", InquiryHours: "daily 8:00-22:00 UTC", InquiryURL: "https://help.example.com/incident"}
}

// sampleTranslations are the sample's texts in each notice language.
var sampleTranslations = map[string]map[string]string{
	"zh-CN": {"title": "个人形象媒体库遭未经授权访问", "description": "攻击者利用泄露的访问密钥，读取了个人形象媒体库和账户数据库中的对象。", "measures": "我们已吊销该密钥，保全了访问日志，并重置了所有会话。",
		"advice": "请修改您的密码，并警惕要求您提供验证码的来电或短信。", "remedies": "免费提供 12 个月的身份保护服务；如需帮助，请与我们联系。"},
	"zh-HK": {"title": "個人形象媒體庫遭未經授權存取", "description": "攻擊者利用外洩的存取金鑰，讀取了個人形象媒體庫及帳戶資料庫中的物件。", "measures": "我們已撤銷該金鑰，保存了存取記錄，並重設了所有工作階段。",
		"advice": "請更改你的密碼，並提防要求你提供驗證碼的來電或訊息。", "remedies": "免費提供 12 個月的身份保護服務；如需協助，請與我們聯絡。"},
	"ja": {"title": "プロフィール画像ストアへの不正アクセス", "description": "攻撃者が流出したアクセスキーを使い、プロフィール画像ストアとアカウントデータベースのデータを読み取りました。", "measures": "当該キーを無効化し、アクセスログを保全し、すべてのセッションをリセットしました。",
		"advice": "パスワードを変更し、認証コードを尋ねる電話やメッセージにご注意ください。", "remedies": "12か月間の本人確認保護サービスを無料でご提供します。お困りの際はご連絡ください。"},
	"ko": {"title": "프로필 미디어 저장소 무단 접근", "description": "공격자가 유출된 접근 키를 이용해 프로필 미디어 저장소와 계정 데이터베이스의 데이터를 읽었습니다.", "measures": "해당 키를 폐기하고 접속 기록을 보존했으며 모든 세션을 초기화했습니다.",
		"advice": "비밀번호를 변경하시고, 인증번호를 요구하는 전화나 메시지에 주의하십시오.", "remedies": "12개월간 명의 도용 방지 서비스를 무료로 제공합니다. 도움이 필요하시면 연락해 주십시오."},
	"de": {"title": "Unbefugter Zugriff auf den Profilmedienspeicher", "description": "Ein Angreifer hat mit einem abgeflossenen Zugangsschlüssel Objekte im Profilmedienspeicher und in der Kontendatenbank gelesen.", "measures": "Der Schlüssel wurde gesperrt, die Zugriffsprotokolle gesichert und alle Sitzungen zurückgesetzt.",
		"advice": "Ändern Sie Ihr Passwort und seien Sie vorsichtig bei Anrufen oder Nachrichten, die nach Bestätigungscodes fragen.", "remedies": "Kostenloser Identitätsschutz für 12 Monate; wenden Sie sich bei Fragen an uns."},
	"fr": {"title": "Accès non autorisé au stockage des médias de profil", "description": "Un attaquant a utilisé une clé d’accès divulguée pour lire des objets dans le stockage des médias de profil et dans la base des comptes.", "measures": "La clé a été révoquée, les journaux d’accès conservés et toutes les sessions réinitialisées.",
		"advice": "Changez votre mot de passe et méfiez-vous des appels ou messages qui vous demandent des codes de vérification.", "remedies": "Service de protection d’identité gratuit pendant 12 mois ; contactez-nous pour obtenir de l’aide."},
	"es": {"title": "Acceso no autorizado al almacén de medios de perfil", "description": "Un atacante utilizó una clave de acceso filtrada para leer objetos del almacén de medios de perfil y de la base de datos de cuentas.", "measures": "Revocamos la clave, conservamos los registros de acceso y restablecimos todas las sesiones.",
		"advice": "Cambie su contraseña y desconfíe de llamadas o mensajes que le pidan códigos de verificación.", "remedies": "Servicio gratuito de protección de identidad durante 12 meses; contáctenos si necesita ayuda."},
	"pt-BR": {"title": "Acesso não autorizado ao repositório de mídia de perfil", "description": "Um invasor usou uma chave de acesso vazada para ler objetos do repositório de mídia de perfil e do banco de dados de contas.", "measures": "A chave foi revogada, os registros de acesso foram preservados e todas as sessões foram encerradas.",
		"advice": "Troque sua senha e desconfie de ligações ou mensagens que peçam códigos de verificação.", "remedies": "Serviço gratuito de proteção de identidade por 12 meses; fale conosco se precisar de ajuda."},
}

// Each language's notice, in every kind a person receives it (e-mail text
// and HTML, on-site and letter text, SMS with its encoding and parts, the
// voice script with the voice that reads it, the push alert), is what
// testdata/golden/notice.LOCALE.txt says a reader of that language read
// and approved. `go test ./templates -run Golden -update` rewrites them
// after a deliberate change; review the diff as a reader would.
func TestGoldenNoticesInEveryLanguage(t *testing.T) {
	for _, locale := range templates.NoticeLocales {
		t.Run(locale, func(t *testing.T) {
			f := sampleFacts()
			r, err := templates.Notice(f, locale, "", nil)
			require.NoError(t, err)
			enc, parts := senders.Segments(r.SMS)
			got := fmt.Sprintf("== title\n%s\n== body (e-mail text, on-site, letter)\n%s\n== html\n%s== sms (%s, %d parts)\n%s\n== voice (%s)\n%s\n%s\n== push\n%s\n%s\n",
				r.Title, r.Body, r.HTML, enc, parts, r.SMS, templates.VoiceLanguage(locale), r.Voice, templates.PressOne(locale), r.Title, templates.Alert(locale))
			path := filepath.Join("testdata", "golden", "notice."+locale+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "go test ./templates -run Golden -update writes it")
			require.Equal(t, string(want), got)
		})
	}
}

// A notice in a language other than English has none of the English
// notice's own words: headings, greeting, labels, the push line and the
// prompt to press 1 are all the reader's (the facts stay as written until
// they are translated).
func TestANoticeSpeaksOnlyItsReadersLanguage(t *testing.T) {
	en, err := templates.Notice(sampleFacts(), "en", "", nil)
	require.NoError(t, err)
	english := []string{"What happened", "What information was involved", "What we are doing", "What you can do", "For more information",
		"Dear", "Contact us at", "Notice of Data Breach", "images of your face", "your phone number", templates.Alert("en"), templates.PressOne("en"), "A security incident may affect", "Is this notice genuine?", "We never ask for your password"}
	for _, w := range english {
		require.Contains(t, en.Body+en.Title+en.SMS+templates.Alert("en")+templates.PressOne("en"), w)
	}
	for _, locale := range templates.NoticeLocales[1:] {
		r, err := templates.Notice(sampleFacts(), locale, "", nil)
		require.NoError(t, err)
		all := strings.Join([]string{r.Title, r.Body, r.SMS, r.Voice, templates.Alert(locale), templates.PressOne(locale)}, "\n")
		for _, w := range english {
			require.NotContains(t, all, w, "%s", locale)
		}
		require.NotEqual(t, "en-US", templates.VoiceLanguage(locale), "%s is read by its own voice", locale)
	}
}

// A person reads their own language, its closest notice, else the
// official language of where they live, else the playbook's default.
func TestEachPersonGetsTheirLanguageElseWhereTheyLiveSpeaks(t *testing.T) {
	for _, c := range []struct{ tag, region, fallback, want, why string }{
		{"ja", "JP", "en", "ja", "their language"},
		{"ja-JP", "US-CA", "en", "ja", "closest to their language ja-JP"},
		{"pt", "BR", "en", "pt-BR", "closest to their language pt"},
		{"pt-PT", "PT", "en", "pt-BR", "closest to their language pt-PT"},
		{"de-AT", "AT", "en", "de", "closest to their language de-AT"},
		{"zh-TW", "TW", "en", "zh-HK", "closest to their language zh-TW"},
		{"it", "DE", "en", "de", "the official language of DE (no notice in it)"},
		{"", "KR", "en", "ko", "the official language of KR (no notice in (none))"},
		{"nl", "NL", "fr", "fr", "the playbook's default (no notice in nl, none for NL)"},
		{"sv", "US-NY", "", "en", "the official language of US-NY (no notice in sv)"},
	} {
		got, why := templates.NoticeLocaleIn(c.tag, c.region, c.fallback)
		require.Equal(t, c.want, got, "%+v", c)
		require.Equal(t, c.why, why, "%+v", c)
	}
}

// A text nobody translated is quoted in English, the draft lists it for
// legal, and the reader is told, in their language, that some details
// follow in English; a translation replaces it and the note goes.
func TestAnUntranslatedTextIsFlaggedAndToldToTheReader(t *testing.T) {
	f := sampleFacts()
	f.Translations = map[string]map[string]string{"ja": {"description": sampleTranslations["ja"]["description"], "advice": sampleTranslations["ja"]["advice"]}}
	require.Equal(t, []string{"title", "measures", "remedies"}, templates.Untranslated(f, "ja"))
	r, err := templates.Notice(f, "ja", "", nil)
	require.NoError(t, err)
	require.Contains(t, r.Body, "以下の内容の一部は、翻訳が整うまで英語で記載しています。")
	require.Contains(t, r.Body, "The key was revoked", "measures, untranslated, as written")
	require.Contains(t, r.Body, sampleTranslations["ja"]["description"])
	require.NotContains(t, r.Body, "An attacker used")
	require.Empty(t, templates.Untranslated(f, "en"), "English is the incident's own")

	full, err := templates.Notice(sampleFacts(), "ja", "", nil)
	require.NoError(t, err)
	require.Empty(t, templates.Untranslated(sampleFacts(), "ja"))
	require.NotContains(t, full.Body, "英語で記載")
}

// reportsInTheirLanguage are the reports written in their regulator's
// language, with the regulator's name, the law and the zone as the law
// files give them.
var reportsInTheirLanguage = []templates.Report{
	{Template: "report-cn", Regulator: "Departments with personal-information protection duties", RegulatorLocal: "履行个人信息保护职责的部门（国家网信部门及行业主管部门）",
		Zone: "Asia/Shanghai", Sources: []string{"PIPL art. 57"}, SourcesLocal: []string{"《个人信息保护法》第五十七条", "《网络安全法》第二十五条"}},
	{Template: "report-jp", Regulator: "Personal Information Protection Commission", RegulatorLocal: "個人情報保護委員会",
		Zone: "Asia/Tokyo", Sources: []string{"APPI art. 26(1)"}, SourcesLocal: []string{"個人情報の保護に関する法律第26条第1項"}},
	{Template: "report-kr", Regulator: "Personal Information Protection Commission or KISA", RegulatorLocal: "개인정보보호위원회 또는 한국인터넷진흥원(KISA)",
		Zone: "Asia/Seoul", Sources: []string{"PIPA art. 34(3)"}, SourcesLocal: []string{"「개인정보 보호법」 제34조제3항"}},
	{Template: "report-br", Regulator: "ANPD", RegulatorLocal: "Autoridade Nacional de Proteção de Dados (ANPD)",
		Zone: "America/Sao_Paulo", Sources: []string{"LGPD art. 48"}, SourcesLocal: []string{"LGPD, art. 48"}},
	// The EU's form in the languages its authorities accept (law/eu.yaml).
	{Template: "report-eu", Locale: "de", Regulator: "Austrian Data Protection Authority", RegulatorLocal: "Österreichische Datenschutzbehörde", Zone: "Europe/Vienna"},
	{Template: "report-eu", Locale: "fr", Regulator: "CNIL", RegulatorLocal: "Commission nationale de l'informatique et des libertés (CNIL)", Zone: "Europe/Paris"},
	{Template: "report-eu", Locale: "es", Regulator: "Spanish Data Protection Agency", RegulatorLocal: "Agencia Española de Protección de Datos", Zone: "Europe/Madrid"},
}

// The CAC, PPC, PIPC, ANPD and EU authorities read their reports in their language: the
// recipient, the law, the headings, the labels, the kind of incident and
// every time (in the regulator's zone, named); only proper names, the
// reference and addresses stay as written. Golden:
// testdata/golden/report-NAME.txt.
func TestReportsAreInTheRegulatorsLanguageAndZone(t *testing.T) {
	latin := regexp.MustCompile(`[A-Za-z]{2,}`)
	for _, r := range reportsInTheirLanguage {
		name := r.Template
		if r.Locale != "" {
			name += "." + r.Locale
		}
		t.Run(name, func(t *testing.T) {
			f := sampleFacts()
			f.Organisation, f.Reporter, f.DPOContact = "Example Platform Ltd", "Jane Doe, +86 10 5555 0100", "dpo@example.com"
			r.DueAt, r.Jurisdiction, r.Duty, r.Subjects, r.Total = f.DetectedAt.Add(72*time.Hour), "XX", "duty", 26, 54
			out, locale, err := templates.RegulatorReport(f, r)
			require.NoError(t, err)
			text := out.Title + "\n" + out.Body
			path := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), text)
			if r.Locale != "" {
				require.Equal(t, r.Locale, locale)
			}
			if slices.Contains([]string{"pt-BR", "de", "fr", "es"}, locale) {
				require.NotContains(t, text, "UTC", "the regulator's own time")
				for _, english := range []string{"Detected", "nature of the breach", "likely consequences", "Contact:", "To:"} {
					require.NotContains(t, text, english)
				}
				return // Latin script: the golden text is the check
			}
			rest := text
			for _, name := range []string{f.IncidentID, "Example Platform Ltd", "Jane Doe", "dpo@example.com", "privacy@example.com", "KISA", "SMS"} {
				rest = strings.ReplaceAll(rest, name, "")
			}
			require.Empty(t, latin.FindAllString(rest, -1), "%s: words in Latin script besides proper names:\n%s", locale, text)
		})
	}
}

// The public announcement speaks every language of the people it stands
// in for, English first, each section wholly in its language; a text not
// translated into one of them is listed for legal.
func TestTheAnnouncementSpeaksEachReadersLanguage(t *testing.T) {
	r, untranslated, err := templates.Announcement(sampleFacts(), []string{"zh-CN", "ja", "pt-BR"}, []string{"inquiry_desk"})
	require.NoError(t, err)
	require.Empty(t, untranslated)
	sections := strings.Split(r.Body, "\n\n——\n\n")
	require.Len(t, sections, 4)
	for i, want := range []string{"We could not reach everyone affected individually", "由于无法逐一告知全部受影响的个人，特此公告。",
		"対象となるすべての方に個別にご連絡できなかったため、本公表を行います。", "Não foi possível avisar individualmente todas as pessoas afetadas"} {
		require.Contains(t, sections[i], want)
	}
	require.Contains(t, sections[1], sampleTranslations["zh-CN"]["description"])
	require.Contains(t, r.Title, "Public notice of a data security incident")
	require.Contains(t, r.Title, "個人情報の漏えい等に関する公表")
	require.Contains(t, r.HTML, `<section lang="ja">`)

	f := sampleFacts()
	f.Translations = nil
	_, untranslated, err = templates.Announcement(f, []string{"ko"}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"title", "description", "measures", "advice", "remedies"}, untranslated)
}

// Where a substitute notice must name an inquiry desk, the announcement
// names it in every language, and without one it is marked missing for
// legal; notices name the desk whenever the incident has one.
func TestTheInquiryDeskIsNamedWhereTheLawAsksAndMarkedMissingOtherwise(t *testing.T) {
	r, _, err := templates.Announcement(sampleFacts(), []string{"ja"}, []string{"inquiry_desk"})
	require.NoError(t, err)
	sections := strings.Split(r.Body, "\n\n——\n\n")
	require.Contains(t, sections[0], "Our inquiry desk: +1 800 555 0100 (daily 8:00-22:00 UTC) · https://help.example.com/incident")
	require.Contains(t, sections[1], "お問い合わせ窓口：+1 800 555 0100 (daily 8:00-22:00 UTC) · https://help.example.com/incident")

	f := sampleFacts()
	f.InquiryPhone, f.InquiryHours, f.InquiryURL = "", "", ""
	require.Equal(t, []string{"inquiry_desk"}, templates.Missing([]string{"inquiry_desk"}, f))
	r, _, err = templates.Announcement(f, []string{"en"}, []string{"inquiry_desk"})
	require.NoError(t, err)
	require.Contains(t, r.Body, "[MISSING: inquiry_desk]")
	n, err := templates.Notice(f, "de", "", nil)
	require.NoError(t, err)
	require.NotContains(t, n.Body, "Hotline", "no desk, no line, where no law asks for one")
	f.InquiryURL = "https://help.example.com"
	n, err = templates.Notice(f, "de", "", nil)
	require.NoError(t, err)
	require.Contains(t, n.Body, "Unsere Hotline für Ihre Fragen: https://help.example.com")
}

// A notice gives its times where its readers live, as their language
// writes them, the zone named; UTC only where the reader is UTC.
func TestANoticeGivesTimesInItsReadersZone(t *testing.T) {
	f := sampleFacts()
	f.Zone = "Asia/Shanghai"
	zh, err := templates.Notice(f, "zh-CN", "", nil)
	require.NoError(t, err)
	require.Contains(t, zh.Body, "我们于2026年11月20日 16:00（北京时间）发现该事件。")
	require.Contains(t, zh.Body, "2026年11月18日 08:00（北京时间） – 2026年11月20日 15:30（北京时间）")
	f.Zone = "Asia/Tokyo"
	ja, err := templates.Notice(f, "ja", "", nil)
	require.NoError(t, err)
	require.Contains(t, ja.Body, "当社は2026年11月20日 17:00（日本時間）に本事案を認識しました。")
	f.Zone = "UTC"
	en, err := templates.Notice(f, "en", "", nil)
	require.NoError(t, err)
	require.Contains(t, en.Body, "We became aware of it on 2026-11-20 08:00 UTC.")
	f.Zone = "America/New_York"
	en, err = templates.Notice(f, "en", "", nil)
	require.NoError(t, err)
	require.Contains(t, en.Body, "We became aware of it on 2026-11-20 03:00 EST.")
	// A zone without an abbreviation says its offset rather than "+08".
	f.Zone = "Asia/Singapore"
	en, err = templates.Notice(f, "en", "", nil)
	require.NoError(t, err)
	require.Contains(t, en.Body, "We became aware of it on 2026-11-20 16:00 UTC+08:00.")
}
