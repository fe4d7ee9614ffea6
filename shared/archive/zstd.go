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

// Pages are at most about 1 MB (the writer's page size), and for an input no larger than
// its window an encoder with a smaller window writes the very same frame (single segment,
// no window descriptor) while keeping a quarter of the buffers: 32 MB of history for the
// default 8 MB window (one per core) was the largest thing a compaction held. Larger inputs
// go to an encoder with the default window, as the stock codec's.
const smallWindow = 2 << 20

type encoderKey struct {
	level int
	small bool
}

var zstdEncoders sync.Map // encoderKey -> *zstd.Encoder

func zstdEncoder(level, size int) *zstd.Encoder {
	k := encoderKey{level, size <= smallWindow}
	if e, ok := zstdEncoders.Load(k); ok {
		return e.(*zstd.Encoder)
	}
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	opts := []zstd.EOption{zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l)}
	if k.small {
		opts = append(opts, zstd.WithWindowSize(smallWindow))
	}
	e, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		panic("archive: zstd encoder: " + err.Error())
	}
	actual, _ := zstdEncoders.LoadOrStore(k, e)
	return actual.(*zstd.Encoder)
}

func (z pooledZstd) Encode(dst, src []byte) []byte {
	return zstdEncoder(compress.DefaultCompressionLevel, len(src)).EncodeAll(src, dst[:0])
}

func (z pooledZstd) EncodeLevel(dst, src []byte, level int) []byte {
	return zstdEncoder(level, len(src)).EncodeAll(src, dst[:0])
}

func init() {
	stock, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		panic("archive: no zstd codec: " + err.Error())
	}
	compress.RegisterCodec(compress.Codecs.Zstd, pooledZstd{Codec: stock})
}
