package tawk

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/benhoyt/goawk/lexer"
)

// specialVars are awk's built-in variables: `$NF` is never a column.
var specialVars = map[string]bool{
	"NF": true, "NR": true, "FNR": true, "FS": true, "OFS": true, "ORS": true,
	"RS": true, "RT": true, "FILENAME": true, "SUBSEP": true, "RSTART": true,
	"RLENGTH": true, "CONVFMT": true, "OFMT": true, "ENVIRON": true,
	"ARGC": true, "ARGV": true, "INPUTMODE": true, "OUTPUTMODE": true,
}

// edit replaces src[start:end] by text.
type edit struct {
	start, end int
	text       string
}

// progInfo is what the rewriter learned about a program.
type progInfo struct {
	src     string          // rewritten source
	names   map[string]bool // identifiers used other than after '$'
	fieldOf map[string]bool // identifiers used as $name
	calls   map[string]bool // identifiers called as functions: name(
}

// colError is an unknown $name reference.
type colError struct {
	line, col int
	name      string
	suggest   string
}

func (e *colError) Error() string {
	msg := fmt.Sprintf("unknown column $%s at line %d, column %d", e.name, e.line, e.col)
	if e.suggest != "" {
		msg += "; did you mean $" + e.suggest + "?"
	}
	return msg
}

// rewrite turns `$name` into `$N` for the known columns cols (so GoAWK
// sees a constant field index) and gawk's hex/octal literals (GoAWK lexes
// 0x0c as 0 followed by a variable) into decimal. Replacements are padded
// with spaces to the original length so parse-error columns stay right.
// Regex literals, strings and comments are left alone because the GoAWK
// lexer is used to tokenize.
func rewrite(src string, cols map[string]int) (*progInfo, error) {
	info := &progInfo{names: map[string]bool{}, fieldOf: map[string]bool{}, calls: map[string]bool{}}
	lineStart := []int{0}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lineStart = append(lineStart, i+1)
		}
	}
	off := func(p lexer.Position) int { return lineStart[p.Line-1] + p.Column - 1 }

	type tok struct {
		pos   lexer.Position
		tok   lexer.Token
		val   string
		space bool
	}
	var toks []tok
	lx := lexer.NewLexer([]byte(src))
	prev := lexer.ILLEGAL
	for {
		pos, t, val := lx.Scan()
		if t == lexer.DIV || t == lexer.DIV_ASSIGN {
			switch prev {
			case lexer.NAME, lexer.NUMBER, lexer.STRING, lexer.RPAREN, lexer.RBRACKET,
				lexer.INCR, lexer.DECR, lexer.F_LENGTH, lexer.REGEX:
			default:
				pos, t, val = lx.ScanRegex()
			}
		}
		if t == lexer.EOF || t == lexer.ILLEGAL {
			break
		}
		toks = append(toks, tok{pos, t, val, lx.HadSpace()})
		prev = t
	}

	var edits []edit
	var pending []struct {
		t    tok
		name string
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.tok {
		case lexer.NUMBER:
			// gawk source constants: 0x1F hex, 017 octal.
			if t.val == "0" && i+1 < len(toks) && toks[i+1].tok == lexer.NAME && !toks[i+1].space {
				h := toks[i+1].val
				if len(h) > 1 && (h[0] == 'x' || h[0] == 'X') && isHex(h[1:]) {
					v, err := strconv.ParseUint(h[1:], 16, 64)
					if err == nil {
						start := off(t.pos)
						end := start + 1 + len(h)
						edits = append(edits, edit{start, end, numText(v, src[start:end], end-start)})
						i++
						continue
					}
				}
			}
			if len(t.val) > 1 && t.val[0] == '0' && isOctal(t.val) {
				v, _ := strconv.ParseUint(t.val, 8, 64)
				start := off(t.pos)
				edits = append(edits, edit{start, start + len(t.val), numText(v, t.val, len(t.val))})
			}
		case lexer.NAME:
			info.names[t.val] = true
			if i+1 < len(toks) && toks[i+1].tok == lexer.LPAREN && !toks[i+1].space {
				info.calls[t.val] = true
			}
		case lexer.DOLLAR:
			if i+1 >= len(toks) || toks[i+1].tok != lexer.NAME {
				continue
			}
			n := toks[i+1]
			if i+2 < len(toks) {
				nx := toks[i+2]
				if nx.tok == lexer.LBRACKET || (nx.tok == lexer.LPAREN && !nx.space) {
					continue // $arr[i] or $f(x): an expression, not a column
				}
			}
			i++
			info.fieldOf[n.val] = true
			pending = append(pending, struct {
				t    tok
				name string
			}{t, n.val})
		}
	}
	for _, p := range pending {
		name := p.name
		if info.names[name] || specialVars[name] {
			// Also used as a plain variable (loop index, parameter,
			// assignment...): keep $name, the variable holds the number.
			continue
		}
		n, ok := cols[name]
		if !ok {
			if cols == nil {
				continue
			}
			return nil, &colError{p.t.pos.Line, p.t.pos.Column, name, suggest(name, cols)}
		}
		start := off(p.t.pos)
		end := strings.Index(src[start:], name) + start + len(name)
		text := "$" + strconv.Itoa(n)
		if len(text) < end-start {
			text += strings.Repeat(" ", end-start-len(text))
		}
		edits = append(edits, edit{start, end, text})
	}
	sort.Slice(edits, func(a, b int) bool { return edits[a].start < edits[b].start })
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(src[last:e.start])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(src[last:])
	info.src = b.String()
	return info, nil
}

// numText renders an integer literal, as a decimal number when a
// float64 holds it exactly, else as a "0x..." string (the bit functions
// parse strings exactly), padded to width.
func numText(v uint64, orig string, width int) string {
	var s string
	if v <= 1<<53 {
		s = strconv.FormatUint(v, 10)
	} else {
		s = `"0x` + strconv.FormatUint(v, 16) + `"`
	}
	if len(s) < width {
		s += strings.Repeat(" ", width-len(s))
	}
	return s
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func isOctal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// suggest returns the column closest to name: a case-insensitive match
// or containment first, else the smallest edit distance (if close).
func suggest(name string, cols map[string]int) string {
	ln := strings.ToLower(name)
	best, bestD := "", 1<<30
	names := make([]string, 0, len(cols))
	for c := range cols {
		if isColumnName(c) {
			names = append(names, c)
		}
	}
	sort.Slice(names, func(i, j int) bool { return cols[names[i]] < cols[names[j]] })
	for _, c := range names {
		lc := strings.ToLower(c)
		d := editDistance(ln, lc)
		if lc == ln {
			d = -1
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	for _, c := range names {
		if strings.Contains(strings.ToLower(c), ln) {
			return c
		}
	}
	return ""
}

// isColumnName reports whether c can be suggested as a column: not a whole
// header line read as one column (TABs or blanks inside).
func isColumnName(c string) bool { return !strings.ContainsAny(c, "\t ") }

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
