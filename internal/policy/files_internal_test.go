package policy

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"strings"
	"sync/atomic"
	"testing"
)

type zeros struct{ n *atomic.Int64 }

func (z zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n.Add(int64(len(p)))
	return len(p), nil
}

// TestBundleRefusedWhileRead: a bundle is refused as soon as an entry's size would pass
// a limit, without its content being read. The bundle is generated lazily through a
// pipe (never on disk nor in memory as a whole), so how much of it was produced shows
// how much the reader asked for.
func TestBundleRefusedWhileRead(t *testing.T) {
	lim := Limits{}.withDefaults()
	for _, tc := range []struct {
		name  string
		sizes []int64
		want  string
	}{
		{"one 2 GiB file", []int64{2 << 30}, "big0.rego: 2147483648 bytes, over the limit of 4194304 bytes"},
		{"files over the total", []int64{3 << 20, 3 << 20, 3 << 20, 3 << 20, 3 << 20, 3 << 20, 3 << 20}, "big5.rego: the entries exceed 16777216 bytes together"},
		{"a 2 GiB entry that is not a file", []int64{-(2 << 30)}, "big0.rego: 2147483648 bytes, over the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var produced atomic.Int64
			pr, pw := io.Pipe()
			done := make(chan struct{})
			go func() {
				defer close(done)
				zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
				tw := tar.NewWriter(zw)
				var err error
				for i, size := range tc.sizes {
					h := &tar.Header{Name: "big" + string(rune('0'+i)) + ".rego", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}
					if size < 0 {
						h.Size, h.Typeflag = -size, tar.TypeChar+10 // an unknown type: tar.Reader skips its body
					}
					if err = tw.WriteHeader(h); err != nil {
						break
					}
					if _, err = io.CopyN(tw, zeros{&produced}, h.Size); err != nil {
						break
					}
				}
				if err == nil {
					err = tw.Close()
				}
				if err == nil {
					err = zw.Close()
				}
				pw.CloseWithError(err)
			}()
			_, _, err := readBundle(pr, lim)
			pr.Close() // the generator stops at its next write
			<-done
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %q", err, tc.want)
			}
			// what was produced: what the reader took plus what sat in the pipe and the
			// compressor when it stopped
			if n := produced.Load(); n > lim.TotalBytes+4<<20 {
				t.Errorf("%d bytes produced before the refusal, the limit is %d", n, lim.TotalBytes)
			}
		})
	}
}
