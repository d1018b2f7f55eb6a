package policy

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// readFS reads the .rego files of a directory tree. A file over lim.FileBytes, or files
// over lim.TotalBytes together, are refused before more than the limit is read: the
// size is checked on the open file, and the read stops one byte past the limit in case
// the file grows meanwhile. Only regular files are read (a FIFO or a device named
// x.rego would block or never end).
func readFS(fsys fs.FS, lim Limits) (map[string][]byte, error) {
	files := map[string][]byte{}
	var total int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".rego" {
			return err
		}
		if len(files) >= maxFiles {
			return fmt.Errorf("more than %d policy files", maxFiles)
		}
		b, err := readLimited(fsys, p, lim.FileBytes)
		if err != nil {
			return err
		}
		if total += int64(len(b)); total > lim.TotalBytes {
			return fmt.Errorf("%s: the policy files exceed %d bytes together (the limit)", p, lim.TotalBytes)
		}
		files[p] = b
		return nil
	})
	if err == nil && len(files) == 0 {
		err = errors.New("no .rego files")
	}
	return files, err
}

func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	// stat before open: opening a FIFO blocks until someone writes to it
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, over the limit of %d bytes for a policy file", name, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: over the limit of %d bytes for a policy file", name, limit)
	}
	return b, nil
}

func readBundleFile(name string, lim Limits) (map[string][]byte, map[string]any, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readBundle(bufio.NewReader(f), lim)
}

// readBundle reads an OPA bundle (a gzip-compressed tar) within the limits. OPA's
// bundle reader reads every entry into memory before it looks at any, and its size
// limit is per file (1 GB by default), so a bundle is first copied here entry by entry:
// an entry whose size (from its tar header) would pass lim.FileBytes, or bring the
// entries past lim.TotalBytes, is refused before its content is read, whatever its type
// (tar.Reader would otherwise read a skipped entry through to its end). The regular
// files, within the limits, are then given to OPA's reader as a tar.gz in memory.
func readBundle(r io.Reader, lim Limits) (map[string][]byte, map[string]any, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: %w", err)
	}
	tr := tar.NewReader(gz)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("bundle: %w", err)
		}
		if n >= maxFiles {
			return nil, nil, fmt.Errorf("bundle: more than %d entries", maxFiles)
		}
		if h.Size > lim.FileBytes {
			return nil, nil, fmt.Errorf("bundle: %s: %d bytes, over the limit of %d bytes for a policy or data file", h.Name, h.Size, lim.FileBytes)
		}
		if total += h.Size; total > lim.TotalBytes {
			return nil, nil, fmt.Errorf("bundle: %s: the entries exceed %d bytes together (the limit)", h.Name, lim.TotalBytes)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: h.Name, Mode: 0o644, Size: h.Size}); err != nil {
			return nil, nil, fmt.Errorf("bundle: %s: %w", h.Name, err)
		}
		if _, err := io.Copy(tw, io.LimitReader(tr, h.Size)); err != nil {
			return nil, nil, fmt.Errorf("bundle: %s: %w", h.Name, err)
		}
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		return nil, nil, fmt.Errorf("bundle: %w", err)
	}
	b, err := bundle.NewReader(&buf).WithSizeLimitBytes(lim.FileBytes).Read()
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: %w", err)
	}
	files := map[string][]byte{}
	for _, m := range b.Modules {
		files[strings.TrimPrefix(m.Path, "/")] = m.Raw
	}
	return files, b.Data, nil
}
