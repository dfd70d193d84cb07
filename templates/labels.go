package templates

import "strings"

type label struct{ en, zhCN, zhHK string }

// categoryLabels name data categories the way a person reads them.
var categoryLabels = map[string]label{
	"account.name":             {"your account name", "账户名称", "帳戶名稱"},
	"contact.phone":            {"your phone number", "手机号码", "電話號碼"},
	"contact.email":            {"your email address", "电子邮箱地址", "電郵地址"},
	"credential.password_hash": {"your password (in protected, hashed form)", "密码（经加密散列处理）", "密碼（經加密雜湊處理）"},
	"biometric.face":           {"images of your face", "人脸图像", "面部影像"},
	"biometric.voice":          {"recordings of your voice", "声音录音", "聲音錄音"},
	"content.generated":        {"content generated from your data", "基于您的数据生成的内容", "根據您的資料生成的內容"},
	"device.id":                {"device identifiers", "设备标识符", "裝置識別碼"},
	"log.access":               {"access logs", "访问日志", "存取記錄"},
}

var familyLabels = map[string]label{
	"account": {"account details", "账户信息", "帳戶資料"}, "contact": {"contact details", "联系方式", "聯絡資料"},
	"credential": {"login credentials", "登录凭证", "登入憑證"}, "device": {"device information", "设备信息", "裝置資料"},
	"log": {"activity logs", "日志记录", "活動記錄"}, "biometric": {"biometric data", "生物识别信息", "生物辨識資料"},
	"health": {"health information", "健康信息", "健康資料"}, "financial": {"financial information", "金融账户信息", "財務資料"},
	"government_id": {"identity document numbers", "身份证件号码", "身份證明文件號碼"}, "location": {"location data", "行踪轨迹", "位置資料"},
	"content": {"your content", "您的内容", "您的內容"}, "tag": {"profile tags", "用户标签", "用戶標籤"},
}

func pick(l label, locale string) string {
	switch locale {
	case "zh-CN":
		return l.zhCN
	case "zh-HK":
		return l.zhHK
	}
	return l.en
}

// Labels names categories in a locale, most specific label first.
func Labels(categories []string, locale string) []string {
	out := make([]string, 0, len(categories))
	for _, c := range categories {
		if l, ok := categoryLabels[c]; ok {
			out = append(out, pick(l, locale))
			continue
		}
		family, _, _ := strings.Cut(c, ".")
		if l, ok := familyLabels[family]; ok {
			out = append(out, pick(l, locale)+" ("+c+")")
			continue
		}
		out = append(out, c)
	}
	return out
}

var impacts = map[string]label{
	"biometric":  {"Images or recordings of you could be misused to impersonate you, for example to pass face or voice checks.", "您的人脸或声音可能被冒用于身份冒充，例如通过人脸或声纹验证。", "您的面部或聲音可能被冒用作身份冒充，例如通過人臉或聲紋驗證。"},
	"credential": {"Someone could try to sign in to your account, or to other accounts where you use the same password.", "他人可能尝试登录您的账户，或登录您使用相同密码的其他账户。", "他人可能嘗試登入您的帳戶，或登入您使用相同密碼的其他帳戶。"},
	"contact":    {"You may receive scam calls, messages or emails that pretend to come from us.", "您可能收到冒充我们的诈骗电话、短信或邮件。", "您可能收到冒充我們的詐騙電話、短訊或電郵。"},
	"financial":  {"Your financial accounts could be targeted for fraud.", "您的金融账户可能成为欺诈目标。", "您的財務帳戶可能成為詐騙目標。"},
	"health":     {"Details of your health could be disclosed to others.", "您的健康信息可能被泄露给他人。", "您的健康資料可能被洩露予他人。"},
	"location":   {"Your movements could be tracked.", "您的行踪可能被追踪。", "您的行蹤可能被追蹤。"},
}

var impactOrder = []string{"biometric", "credential", "financial", "health", "location", "contact"}

// Impact describes the possible harm of the exposed categories in a locale.
func Impact(categories []string, locale string) string {
	seen := map[string]bool{}
	for _, c := range categories {
		f, _, _ := strings.Cut(c, ".")
		seen[f] = true
	}
	var parts []string
	for _, f := range impactOrder {
		if seen[f] {
			parts = append(parts, pick(impacts[f], locale))
		}
	}
	if len(parts) == 0 {
		return pick(label{"We have found no sign that the information has been misused, but we cannot rule it out.", "目前未发现信息被滥用的迹象，但无法完全排除。", "目前未發現資料被濫用的跡象，但無法完全排除。"}, locale)
	}
	sep := " "
	if strings.HasPrefix(locale, "zh") {
		sep = ""
	}
	return strings.Join(parts, sep)
}
