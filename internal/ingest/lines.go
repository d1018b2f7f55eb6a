package ingest

import (
	"bufio"
	"bytes"
	"io"
)

// MaxLine is the longest line a reader accepts; a longer one is rejected whole and the
// reader goes on with the next, so memory stays bounded whatever the input.
const MaxLine = 1 << 20

// lineReader yields lines with their numbers, never holding more than MaxLine bytes.
type lineReader struct {
	r       *bufio.Reader
	n       int
	buf     []byte
	tooLong bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its end of line. tooLong reports a line over
// MaxLine, whose content is dropped. It returns io.EOF after the last line.
func (l *lineReader) next() (line []byte, number int, tooLong bool, err error) {
	l.buf = l.buf[:0]
	l.tooLong = false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if !l.tooLong {
			if len(l.buf)+len(chunk) > MaxLine+2 { // +2: room for \r\n
				l.tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(l.buf) == 0 && !l.tooLong && len(chunk) == 0 {
			return nil, l.n, false, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, l.n, false, err
		}
		l.n++
		line = bytes.TrimRight(l.buf, "\r\n")
		if l.n == 1 { // a byte order mark starts many exported files; it is no content
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		return line, l.n, l.tooLong, nil
	}
}
