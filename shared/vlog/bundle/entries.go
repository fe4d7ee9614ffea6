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

// fastLines turns readEntryLines and readTileLines on; the tests turn it off to compare
// with encoding/json.
var fastLines = true

// stream is the json.Decoder reading a bundle and the reader it reads from, which the
// line readers take over where the decoder stopped and hand back to a new decoder.
type stream struct {
	dec *json.Decoder
	src io.Reader
}

func newStream(src io.Reader) *stream {
	dec := json.NewDecoder(src)
	dec.DisallowUnknownFields()
	return &stream{dec: dec, src: src}
}

// lineReader reads a bundle a line at a time from where s.dec stopped.
type lineReader struct {
	s          *stream
	br         *bufio.Reader
	rest, long []byte // the current line's unread bytes; a line longer than br's buffer
	err        error  // what reading the rest of the input gave
}

func (s *stream) lines() *lineReader {
	return &lineReader{s: s, br: bufio.NewReaderSize(io.MultiReader(s.dec.Buffered(), s.src), 64<<10)}
}

// next returns the next byte that is not JSON whitespace, reading lines as needed, and
// false at the end of the input or a read error (the line it ended is left in rest).
func (l *lineReader) next() (byte, bool) {
	for {
		if l.rest = skipSpace(l.rest); len(l.rest) > 0 {
			return l.rest[0], true
		}
		if l.rest, l.err = readLine(l.br, &l.long); l.err != nil {
			return 0, false
		}
	}
}

// resume makes s.dec a new decoder that reads prefix, then the unread input: prefix is
// the JSON that puts the decoder in the state the old one would be in had it read what
// the line reader did.
func (l *lineReader) resume(prefix string) {
	var after io.Reader = l.br
	switch {
	case l.err == io.EOF:
		after = strings.NewReader("")
	case l.err != nil:
		after = errReader{l.err}
	}
	l.s.src = io.MultiReader(strings.NewReader(prefix), bytes.NewReader(bytes.Clone(l.rest)), after)
	l.s.dec = json.NewDecoder(l.s.src)
	l.s.dec.DisallowUnknownFields()
}

// readEntryLines decodes the entries as Writer lays them out, one `{"index":N,"leaf":"..."}`
// a line, without reflection: decoding each entry with encoding/json was most of a
// verification's time. It stops at the first thing it does not handle itself (the closing
// bracket, whitespace inside an entry, another field order or spelling, an escape that needs
// encoding/json's rules, a number that is not a small natural, invalid UTF-8, the end of the
// input or a read error) and leaves the rest to a new s.dec in the state the old one would
// have been in, so whatever follows is decoded, and refused, exactly as before. s.dec has
// just read the entries' opening bracket; n is how many entries were decoded. Each entry's
// Leaf is valid only until each returns.
func readEntryLines(s *stream, each func(Entry) error) (n int, _ error) {
	l := s.lines()
	var leaf []byte
	comma := false // the comma after entry n-1 has been read
	for {
		c, ok := l.next()
		if !ok {
			break
		}
		if n > 0 && !comma {
			if c != ',' {
				break
			}
			l.rest, comma = l.rest[1:], true
			continue
		}
		e, used, ok := decodeEntryLine(l.rest, leaf[:0])
		if !ok {
			break
		}
		leaf = e.Leaf
		if err := each(e); err != nil {
			return n, err
		}
		l.rest, n, comma = l.rest[used:], n+1, false
	}
	// Inside the bundle's object, in the entries, after n of them and maybe a comma.
	prefix := `{"entries":[`
	if n > 0 {
		prefix += "{}"
		if comma {
			prefix += ","
		}
	}
	l.resume(prefix)
	for range 3 {
		if _, err := s.dec.Token(); err != nil {
			return n, fmt.Errorf("resume decoding entry %d: %w", n, err)
		}
	}
	if n > 0 {
		if err := s.dec.Decode(&struct{}{}); err != nil {
			return n, fmt.Errorf("resume decoding entry %d: %w", n, err)
		}
	}
	return n, nil
}

// readTileLines decodes the tiles as Writer lays them out, `:{` and then one
// `"<path>":"<base64>"` a line (paths of printable ASCII without quote or backslash), into
// path to base64 text: about a tenth of a year's verification went into decoding them with
// encoding/json. Like readEntryLines, it stops at the first thing it does not handle
// itself and leaves the rest to a new s.dec, which is then where s.dec was after the field
// name "tiles" had it read the same part of the tiles (the last one it read again), so
// that decoding the value with it gives whatever tiles remain, or the error encoding/json
// gave.
func readTileLines(s *stream) (map[string]string, error) {
	l := s.lines()
	raw := map[string]string{}
	prefix := `{"tiles"`
	if c, ok := l.next(); !ok || c != ':' {
		l.resume(prefix)
		return resumeTiles(s, raw)
	}
	l.rest, prefix = l.rest[1:], prefix+":"
	if c, ok := l.next(); !ok || c != '{' {
		l.resume(prefix)
		return resumeTiles(s, raw)
	}
	l.rest, prefix = l.rest[1:], prefix+"{"
	var last []byte // the last member read, as it was written
	comma := false
	for {
		c, ok := l.next()
		if !ok {
			break
		}
		if last != nil && !comma {
			if c != ',' {
				break
			}
			l.rest, comma = l.rest[1:], true
			continue
		}
		key, value, used, ok := tileMember(l.rest)
		if !ok {
			break
		}
		raw[string(key)] = string(value)
		last = append(last[:0], l.rest[:used]...)
		l.rest, comma = l.rest[used:], false
	}
	prefix += string(last)
	if comma {
		prefix += ","
	}
	l.resume(prefix)
	return resumeTiles(s, raw)
}

// resumeTiles reads the resumed decoder's `{"tiles"`, and returns raw.
func resumeTiles(s *stream, raw map[string]string) (map[string]string, error) {
	for range 2 {
		if _, err := s.dec.Token(); err != nil {
			return nil, fmt.Errorf("resume decoding the tiles: %w", err)
		}
	}
	return raw, nil
}

// tileMember reads `"<path>":"<base64>"` at the start of p: the path of printable ASCII
// but quote and backslash, the value of base64's standard alphabet. ok is false for
// anything else.
func tileMember(p []byte) (key, value []byte, n int, ok bool) {
	if len(p) == 0 || p[0] != '"' {
		return nil, nil, 0, false
	}
	i := 1
	for i < len(p) && plainByte[p[i]] {
		i++
	}
	key = p[1:i]
	if !bytes.HasPrefix(p[i:], []byte(`":"`)) {
		return nil, nil, 0, false
	}
	i += 3
	start := i
	for i < len(p) && base64Byte[p[i]] {
		i++
	}
	if i >= len(p) || p[i] != '"' {
		return nil, nil, 0, false
	}
	return key, p[start:i], i + 1, true
}

// base64Byte marks the bytes of base64's standard alphabet and its padding.
var base64Byte = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=" {
		t[c] = true
	}
	return t
}()

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
