package bundle

// DecodeEntryLine is decodeEntryLine, for the tests that compare it with encoding/json.
var DecodeEntryLine = decodeEntryLine

// WithoutFastEntries runs fn with every entry decoded by encoding/json, as before
// readEntryLines: what the tests compare the fast decoding with.
func WithoutFastEntries(fn func()) {
	fastEntries = false
	defer func() { fastEntries = true }()
	fn()
}
