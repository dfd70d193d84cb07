package templates

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A language is a labels file: each must name every category, family and
// harm the English one does, or a reader would get English in the middle
// of their notice.
func TestEveryLocaleHasEveryLabel(t *testing.T) {
	sets, err := labelSets()
	require.NoError(t, err)
	en := sets["en"]
	for _, locale := range NoticeLocales {
		s, ok := sets[locale]
		require.True(t, ok, "templates/labels/%s.yaml", locale)
		for _, m := range []struct {
			name     string
			have, en map[string]string
		}{{"categories", s.Categories, en.Categories}, {"families", s.Families, en.Families}, {"impacts", s.Impacts, en.Impacts}} {
			for k := range m.en {
				require.NotEmpty(t, m.have[k], "labels/%s.yaml: %s.%s", locale, m.name, k)
			}
		}
		require.NotEmpty(t, s.NoImpact, "labels/%s.yaml: no_impact", locale)
		require.NotEmpty(t, s.Alert, "labels/%s.yaml: alert", locale)
		require.NotEmpty(t, s.Genuine, "labels/%s.yaml: genuine", locale)
		require.NotEmpty(t, s.YourData, "labels/%s.yaml: your_data", locale)
		require.Contains(t, s.Enrolment, "%s", "labels/%s.yaml: enrolment", locale)
		require.Contains(t, s.EnrolBy, "%s", "labels/%s.yaml: enrol_by", locale)
		require.NotNil(t, s.WordSeparator, "labels/%s.yaml: word_separator", locale)
		require.NotEmpty(t, s.InquiryDesk, "labels/%s.yaml: inquiry_desk", locale)
		require.Contains(t, s.YourOwnData, "%s", "labels/%s.yaml: your_own_data", locale)
		require.Contains(t, s.Guardian, "%s", "labels/%s.yaml: guardian", locale)
		require.NotEmpty(t, s.GuardianSomeone, "labels/%s.yaml: guardian_someone", locale)
		require.NotNil(t, s.ListSeparator, "labels/%s.yaml: list_separator", locale)
		require.Contains(t, s.Correction, "%s", "labels/%s.yaml: correction", locale)
		require.NotEmpty(t, s.CorrectionLead, "labels/%s.yaml: correction_lead", locale)
		for _, k := range []string{ReplyHelp, ReplyStop, ReplyStart, ReplyReceived} {
			require.NotEmpty(t, s.SMSReplies[k], "labels/%s.yaml: sms_replies.%s", locale, k)
		}
		require.Contains(t, s.SMSReplies[ReplyHelp], "STOP", "labels/%s.yaml: sms_replies.help says how to stop", locale)
		require.Contains(t, s.SMSReplies[ReplyStop], "START", "labels/%s.yaml: sms_replies.stop says how to start again", locale)
	}
	for _, f := range impactOrder {
		require.NotEmpty(t, en.Impacts[f], f)
	}
}

func TestLabelsAndImpactReadTheLocalesFile(t *testing.T) {
	require.Equal(t, "images of your face", Labels([]string{"biometric.face"}, "en")[0])
	require.Equal(t, "人脸图像", Labels([]string{"biometric.face"}, "zh-CN")[0])
	require.Equal(t, "健康資料 (health.record)", Labels([]string{"health.record"}, "zh-HK")[0])
	require.Equal(t, "x.y", Labels([]string{"x.y"}, "it")[0])
	require.Equal(t, "Images or recordings of you could be misused to impersonate you, for example to pass face or voice checks. You may receive scam calls, messages or emails that pretend to come from us.",
		Impact([]string{"contact.email", "biometric.face"}, "en"))
	require.NotContains(t, Impact([]string{"contact.email", "biometric.face"}, "zh-CN"), " ")
	require.Equal(t, Impact(nil, "en"), Impact(nil, "it"), "a locale without a file reads English")
}

// A reply's answer is in the person's language, names who sends (HELP)
// and where to check a notice.
func TestSMSRepliesNameTheSenderAndTheVerifyPage(t *testing.T) {
	help := SMSReply(ReplyHelp, "de", "Example Ltd", "https://notify.example.com/")
	require.True(t, strings.HasPrefix(help, "Example Ltd: Unsere SMS"), help)
	require.Contains(t, help, "https://notify.example.com/verify")
	require.Contains(t, SMSReply(ReplyReceived, "ja", "", "https://n.example"), "https://n.example/verify")
	require.Equal(t, SMSReply(ReplyStop, "en", "", ""), SMSReply(ReplyStop, "it", "", ""), "a language without a file reads English")
}
