package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// open opens the bundle (a file, or standard input for "-"), gunzipping it when it starts
// with gzip's magic bytes.
func open(name string, stdin io.Reader) (io.Reader, func(), error) {
	var r io.Reader = stdin
	closeFile := func() {}
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, fmt.Errorf("open bundle: %w", err)
		}
		r, closeFile = f, func() { f.Close() }
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeFile()
			return nil, nil, fmt.Errorf("open bundle: %w", err)
		}
		return zr, closeFile, nil
	}
	return br, closeFile, nil
}

// writeFile replaces name with data whole or not at all: a crash never leaves a torn
// checkpoint where the next run looks for one.
func writeFile(name, data string) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".contrail-verify-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
