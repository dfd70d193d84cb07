// Package letters lays out print-ready notice letters: one person's
// approved notice on A4 (US Letter for a US address), the address where
// a windowed envelope shows it, in a TrueType font that covers the
// person's script; and batches of them as one PDF with a manifest CSV, as
// print-and-mail vendors take them.
package letters

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"

	"github.com/tocsin/tocsin/internal/csvout"
	"github.com/tocsin/tocsin/internal/inventory"
)

// Letter is one person's notice on paper.
type Letter struct {
	// ID is the letter's own reference, printed on it and in the manifest
	// (the vendor's idempotency key).
	ID         string
	IncidentID string
	SubjectID  string
	Name       string
	Address    inventory.Address
	Title      string
	Body       string
	Date       time.Time
}

// DefaultFonts are where Debian keeps a font whose TrueType outlines cover
// Latin, Chinese, Japanese and Korean (fonts-droid-fallback). A PDF
// library embeds glyf outlines only: Noto CJK's are CFF.
var DefaultFonts = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
}

// ErrNoFont says no font file could be read: a fault of the installation.
var ErrNoFont = errors.New("no font for letters")

// Printer renders letters; it reads its font once.
type Printer struct {
	// Sender is the return address printed above the window, one line.
	Sender string
	// Font is the TrueType file; empty: the first of DefaultFonts found.
	Font string

	once sync.Once
	font []byte
	err  error
}

func (p *Printer) loadFont() ([]byte, error) {
	p.once.Do(func() {
		paths := DefaultFonts
		if p.Font != "" {
			paths = []string{p.Font}
		}
		for _, path := range paths {
			if b, err := os.ReadFile(path); err == nil {
				p.font = b
				return
			}
		}
		p.err = fmt.Errorf("%w: none of %s can be read (install fonts-droid-fallback, or set letters.font to a TrueType font with glyf outlines)", ErrNoFont, strings.Join(paths, ", "))
	})
	return p.font, p.err
}

// One is a single letter's PDF.
func (p *Printer) One(l Letter) ([]byte, int, error) {
	pdf, pages, err := p.document([]Letter{l})
	if err != nil {
		return nil, 0, err
	}
	return pdf, pages[0], nil
}

// Batch is one PDF of letters, each starting on a new page, and the
// manifest CSV a vendor matches it with: a row per letter with its
// address, first page and page count.
func (p *Printer) Batch(ls []Letter) (pdf, manifest []byte, err error) {
	pdf, pages, err := p.document(ls)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	w := csvout.NewWriter(&b)
	w.Write([]string{"letter_id", "incident_id", "subject_id", "name", "address_line1", "address_line2", "address_city", "address_state", "address_postal_code", "address_country", "first_page", "pages"})
	first := 1
	for i, l := range ls {
		a := l.Address
		w.Write([]string{l.ID, l.IncidentID, l.SubjectID, l.Name, a.Line1, a.Line2, a.City, a.State, a.PostalCode, a.Country, strconv.Itoa(first), strconv.Itoa(pages[i])})
		first += pages[i]
	}
	w.Flush()
	return pdf, b.Bytes(), w.Error()
}

// Window placement, in millimetres from the page's top-left corner: DIN
// 5008 form A on A4 (a C5/6 or DL window at 20 mm, 45 mm), and a US #10
// window on Letter paper folded in three.
type window struct{ left, top float64 }

var (
	windowA4     = window{left: 20, top: 45}
	windowLetter = window{left: 22, top: 48}
)

func (p *Printer) document(ls []Letter) ([]byte, []int, error) {
	font, err := p.loadFont()
	if err != nil {
		return nil, nil, err
	}
	if len(ls) == 0 {
		return nil, nil, errors.New("no letters")
	}
	size, win := "A4", windowA4
	if ls[0].Address.Country == "US" {
		size, win = "Letter", windowLetter
	}
	doc := fpdf.New("P", "mm", size, "")
	doc.SetCompression(true)
	doc.SetCreationDate(ls[0].Date)
	doc.SetModificationDate(ls[0].Date)
	doc.SetProducer("Tocsin", false)
	doc.AddUTF8FontFromBytes("letter", "", font)
	doc.SetMargins(win.left, 20, 20)
	doc.SetAutoPageBreak(true, 22)
	var current *Letter
	var firstPage int
	doc.SetFooterFunc(func() {
		doc.SetY(-15)
		doc.SetFont("letter", "", 8)
		doc.CellFormat(0, 5, fmt.Sprintf("%s · %s · %d", current.IncidentID, current.ID, doc.PageNo()-firstPage+1), "", 0, "R", false, 0, "")
	})
	pages := make([]int, len(ls))
	for i := range ls {
		l := ls[i]
		doc.AddPage() // closes the last letter's page, with its footer
		current, firstPage = &l, doc.PageNo()
		// Return address above the window, small, as the envelope shows it.
		doc.SetFont("letter", "", 7)
		doc.SetXY(win.left, win.top)
		doc.CellFormat(85, 4, p.Sender, "B", 1, "L", false, 0, "")
		doc.SetFont("letter", "", 10)
		lines(doc, 85, 5, strings.Join(addressLines(l.Name, l.Address), "\n"))
		doc.SetXY(win.left, win.top+55)
		doc.SetFont("letter", "", 9)
		doc.CellFormat(0, 5, l.Date.Format("2006-01-02")+"   "+l.IncidentID, "", 1, "R", false, 0, "")
		doc.Ln(4)
		width, _ := doc.GetPageSize()
		left, _, right, _ := doc.GetMargins()
		doc.SetFont("letter", "", 14)
		lines(doc, width-left-right, 7, l.Title)
		doc.Ln(3)
		doc.SetFont("letter", "", 10.5)
		lines(doc, width-left-right, 5.2, l.Body)
		pages[i] = doc.PageNo() - firstPage + 1
	}
	var out bytes.Buffer
	if err := doc.Output(&out); err != nil {
		return nil, nil, err
	}
	return out.Bytes(), pages, nil
}

// lines writes text wrapped to width, a line per cell. The library's own
// wrapping drops the character at a break inside a run without spaces
// (any Chinese or Japanese sentence): a notice must not lose a word.
func lines(doc *fpdf.Fpdf, width, height float64, text string) {
	x := doc.GetX()
	for _, line := range wrap(doc.GetStringWidth, text, width) {
		doc.SetX(x)
		doc.CellFormat(width, height, line, "", 1, "L", false, 0, "")
	}
}

// wrap breaks text into lines no wider than width: between words where
// there are spaces, between characters in scripts written without them,
// and inside a word only when it alone is too wide.
func wrap(measure func(string) float64, text string, width float64) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		var line strings.Builder
		flush := func() {
			out = append(out, strings.TrimRight(line.String(), " "))
			line.Reset()
		}
		for _, tok := range tokens(para) {
			if line.Len() > 0 && measure(line.String()+strings.TrimRight(tok, " ")) > width {
				flush()
				tok = strings.TrimLeft(tok, " ")
			}
			for measure(strings.TrimRight(tok, " ")) > width && line.Len() == 0 {
				// One word wider than the line: break it where it must.
				rs := []rune(tok)
				n := 1
				for n < len(rs) && measure(string(rs[:n+1])) <= width {
					n++
				}
				line.WriteString(string(rs[:n]))
				flush()
				tok = string(rs[n:])
			}
			line.WriteString(tok)
		}
		flush()
	}
	return out
}

// tokens splits a paragraph into what may not be broken: a word with the
// spaces after it, or one character of a script written without spaces.
func tokens(s string) []string {
	var out []string
	var cur []rune
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || unicode.In(r, unicode.Po, unicode.Ps, unicode.Pe) && r > 0x2E7F:
			if len(cur) > 0 {
				out = append(out, string(cur))
				cur = cur[:0]
			}
			out = append(out, string(r))
		case r == ' ':
			cur = append(cur, r)
			out = append(out, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, r)
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
}

// addressLines is how the address reads in the window: the name, the
// street lines, then city, state and postal code on one line, then the
// country for mail that crosses a border (the vendor's country is not
// known here, so always).
func addressLines(name string, a inventory.Address) []string {
	lines := []string{name, a.Line1}
	if a.Line2 != "" {
		lines = append(lines, a.Line2)
	}
	city := strings.TrimSpace(strings.Join(nonEmpty(a.City, a.State, a.PostalCode), " "))
	lines = append(lines, city, a.Country)
	return lines
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
