package api

import "strings"

// DiffLine is one line of a revision-to-revision difference: Op is ' '
// (kept), '-' (removed) or '+' (added).
type DiffLine struct {
	Op   string
	Text string
}

// maxDiffCells bounds the comparison table: past it (about 2,000 changed
// lines on each side), the console says the revisions are too far apart to
// compare instead of spending memory that grows with both lengths
// multiplied.
const maxDiffCells = 4_000_000

// lineDiff is the line-by-line difference of two texts: the lines both
// start and end with are kept as they are, and the longest common
// subsequence is computed for what lies between. ok is false when that
// middle is larger than maxDiffCells allows.
func lineDiff(before, after string) (out []DiffLine, ok bool) {
	a, b := strings.Split(before, "\n"), strings.Split(after, "\n")
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if (len(ma)+1)*(len(mb)+1) > maxDiffCells {
		return nil, false
	}
	for _, l := range a[:pre] {
		out = append(out, DiffLine{" ", l})
	}
	out = append(out, lcsDiff(ma, mb)...)
	for _, l := range a[len(a)-suf:] {
		out = append(out, DiffLine{" ", l})
	}
	return out, true
}

// lcsDiff is the longest-common-subsequence difference, from a table of
// int32 so that the largest allowed middle stays within 16 MB.
func lcsDiff(a, b []string) []DiffLine {
	w := len(b) + 1
	lcs := make([]int32, (len(a)+1)*w)
	at := func(i, j int) int32 { return lcs[i*w+j] }
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = at(i+1, j+1) + 1
			} else {
				lcs[i*w+j] = max(at(i+1, j), at(i, j+1))
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, DiffLine{" ", a[i]})
			i, j = i+1, j+1
		case at(i+1, j) >= at(i, j+1):
			out = append(out, DiffLine{"-", a[i]})
			i++
		default:
			out = append(out, DiffLine{"+", b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, DiffLine{"-", a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, DiffLine{"+", b[j]})
	}
	return out
}
