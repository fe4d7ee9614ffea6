package bundle

// DecodeEntryLine is decodeEntryLine, for the tests that compare it with encoding/json.
var DecodeEntryLine = decodeEntryLine

// WithoutFastEntries runs fn with every entry and tile decoded by encoding/json, as before
// readEntryLines and readTileLines: what the tests compare the fast decoding with.
func WithoutFastEntries(fn func()) {
	fastLines = false
	defer func() { fastLines = true }()
	fn()
}
