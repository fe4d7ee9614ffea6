package archive

import (
	"sync"

	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// The Parquet writer of arrow/go v17 compresses every page through Codec.EncodeLevel, and
// its zstd codec builds a new zstd.Encoder (with its window buffers) for each call: an
// allocation storm of several MB per page that dominated BenchmarkArchiveBatch. This codec
// keeps one encoder per level (EncodeAll is safe for concurrent use) and delegates
// everything else to the stock codec. Same format, same bytes.
type pooledZstd struct {
	compress.Codec
}

var zstdEncoders sync.Map // level -> *zstd.Encoder

func zstdEncoder(level int) *zstd.Encoder {
	if e, ok := zstdEncoders.Load(level); ok {
		return e.(*zstd.Encoder)
	}
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	e, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l))
	if err != nil {
		panic("archive: zstd encoder: " + err.Error())
	}
	actual, _ := zstdEncoders.LoadOrStore(level, e)
	return actual.(*zstd.Encoder)
}

func (z pooledZstd) Encode(dst, src []byte) []byte {
	return zstdEncoder(compress.DefaultCompressionLevel).EncodeAll(src, dst[:0])
}

func (z pooledZstd) EncodeLevel(dst, src []byte, level int) []byte {
	return zstdEncoder(level).EncodeAll(src, dst[:0])
}

func init() {
	stock, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic("archive: no zstd codec: " + err.Error())
	}
	compress.RegisterCodec(compress.Codecs.Zstd, pooledZstd{Codec: stock})
}
