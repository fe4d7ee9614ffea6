package bundle

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// fastEntries turns readEntryLines on; the tests turn it off to compare with encoding/json.
var fastEntries = true

// readEntryLines decodes the entries as Writer lays them out, one `{"index":N,"leaf":"..."}`
// a line, without reflection: decoding each entry with encoding/json was most of a
// verification's time. It stops at the first thing it does not handle itself (the closing
// bracket, whitespace inside an entry, another field order or spelling, an escape that needs
// encoding/json's rules, a number that is not a small natural, invalid UTF-8, the end of the
// input or a read error) and hands the rest of the input to a new json.Decoder in the state
// dec would have been in at that point, so whatever follows is decoded, and refused, exactly
// as before. dec has just read the entries' opening bracket from src; n is how many entries
// were decoded. Each entry's Leaf is valid only until each returns.
func readEntryLines(dec *json.Decoder, src io.Reader, each func(Entry) error) (_ *json.Decoder, n int, _ error) {
	br := bufio.NewReaderSize(io.MultiReader(dec.Buffered(), src), 64<<10)
	var (
		rest, long, leaf []byte
		comma            bool  // the comma after entry n-1 has been read
		readErr          error // what reading the rest of the input gave
	)
	for {
		rest = skipSpace(rest)
		if len(rest) == 0 {
			rest, readErr = readLine(br, &long)
			if readErr != nil {
				break
			}
			continue
		}
		if n > 0 && !comma {
			if rest[0] != ',' {
				break
			}
			rest, comma = rest[1:], true
			continue
		}
		e, used, ok := decodeEntryLine(rest, leaf[:0])
		if !ok {
			break
		}
		leaf = e.Leaf
		if err := each(e); err != nil {
			return dec, n, err
		}
		rest, n, comma = rest[used:], n+1, false
	}
	// The new decoder reads a prefix that puts it where dec stood (inside the bundle's
	// object, in the entries after n of them and maybe a comma), then the unread input.
	prefix := `{"entries":[`
	if n > 0 {
		prefix += "{}"
		if comma {
			prefix += ","
		}
	}
	var after io.Reader = br
	switch {
	case readErr == io.EOF:
		after = strings.NewReader("")
	case readErr != nil:
		after = errReader{readErr}
	}
	next := json.NewDecoder(io.MultiReader(strings.NewReader(prefix), bytes.NewReader(bytes.Clone(rest)), after))
	next.DisallowUnknownFields()
	for range 3 {
		if _, err := next.Token(); err != nil {
			return dec, n, fmt.Errorf("resume decoding entry %d: %w", n, err)
		}
	}
	if n > 0 {
		if err := next.Decode(&struct{}{}); err != nil {
			return dec, n, fmt.Errorf("resume decoding entry %d: %w", n, err)
		}
	}
	return next, n, nil
}

// readLine reads up to and including the next newline, or to the end of the input (then
// with the error that ended it), however long the line; a long line is gathered in *long.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	*long = append((*long)[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = br.ReadSlice('\n')
		*long = append(*long, line...)
	}
	return *long, err
}

// errReader gives err for ever, as the input did once.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// skipSpace drops JSON whitespace from the start of p.
func skipSpace(p []byte) []byte {
	for len(p) > 0 && (p[0] == ' ' || p[0] == '\n' || p[0] == '\r' || p[0] == '\t') {
		p = p[1:]
	}
	return p
}

// decodeEntryLine decodes the entry `{"index":N,"leaf":"..."}` at the start of p, exactly
// so (no whitespace, these two fields in this order, N a natural of at most 18 digits without
// leading zeros) and returns it (its Leaf appended to leaf) and its length. ok is false for
// anything else, including whatever decodeString leaves to encoding/json.
func decodeEntryLine(p, leaf []byte) (e Entry, n int, ok bool) {
	const head, mid = `{"index":`, `,"leaf":"`
	if !bytes.HasPrefix(p, []byte(head)) {
		return Entry{}, 0, false
	}
	i := len(head)
	start := i
	for i < len(p) && i-start <= 18 && '0' <= p[i] && p[i] <= '9' {
		e.Index = e.Index*10 + int64(p[i]-'0')
		i++
	}
	if digits := i - start; digits == 0 || digits > 18 || digits > 1 && p[start] == '0' {
		return Entry{}, 0, false
	}
	if !bytes.HasPrefix(p[i:], []byte(mid)) {
		return Entry{}, 0, false
	}
	i += len(mid)
	e.Leaf, n, ok = decodeString(p[i:], leaf)
	if !ok || i+n >= len(p) || p[i+n] != '}' {
		return Entry{}, 0, false
	}
	if e.Leaf == nil {
		e.Leaf = []byte{} // as encoding/json gives an empty string
	}
	return e, i + n + 1, true
}

// decodeString decodes the JSON string whose opening quote is just before p, appending its
// value to dst, and returns the length up to and including its closing quote. It decodes as
// encoding/json does and leaves to it (ok false) what needs more of its rules: a \u escape
// of a surrogate (pairs, or U+FFFD for a lone one), bytes that are not UTF-8 (U+FFFD), and
// anything invalid: a control byte, an unknown escape, no closing quote.
func decodeString(p, dst []byte) (_ []byte, n int, ok bool) {
	base, seg, nonASCII := len(dst), 0, false
	for i := 0; i < len(p); {
		for i < len(p) && plainByte[p[i]] {
			i++
		}
		if i == len(p) {
			break
		}
		c := p[i]
		switch {
		case c >= utf8.RuneSelf:
			nonASCII = true
			i++
			continue
		case c < 0x20:
			return dst, 0, false
		}
		dst = append(dst, p[seg:i]...)
		if c == '"' {
			if nonASCII && !utf8.Valid(dst[base:]) {
				return dst, 0, false
			}
			return dst, i + 1, true
		}
		if i+1 >= len(p) {
			return dst, 0, false
		}
		switch esc := p[i+1]; esc {
		case '"', '\\', '/':
			dst = append(dst, esc)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(p[i+2:])
			if !ok || utf16.IsSurrogate(r) {
				return dst, 0, false
			}
			dst = utf8.AppendRune(dst, r)
			i += 4
		default:
			return dst, 0, false
		}
		i += 2
		seg = i
	}
	return dst, 0, false
}

// plainByte marks the bytes a string holds as they are: printable ASCII but the quote and
// the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// hex4 reads the four hex digits of a \u escape.
func hex4(p []byte) (rune, bool) {
	if len(p) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
