// Package atomicfile writes the files the product hands to people — reports, backups,
// exports, the key — so that whoever reads the target sees the previous file or the
// whole new one, never a half-written one. A full disk, a render error or a kill -9 in
// the middle used to leave a truncated PDF where the last good one was, and a backup
// that looked sound but was empty. The bytes now go to a temporary file in the target's
// directory (the same file system, so the rename is atomic), are synced, and only then
// take the target's name; the directory is synced after.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultMode is the mode of every file the product writes: reports, backups and the
// database hold pseudonymous data about pupils, so only the owner reads them.
const DefaultMode fs.FileMode = 0o600

// GroupMode is the one wider mode allowed (MPASS_AUDIT_FILE_MODE=0640), for a
// deployment where a backup or monitoring account reads the files through its group.
const GroupMode fs.FileMode = 0o640

// ParseMode reads the MPASS_AUDIT_FILE_MODE setting: empty for DefaultMode, else
// "0600" or "0640". Nothing wider: the files must never be world-readable.
func ParseMode(s string) (fs.FileMode, error) {
	if s == "" {
		return DefaultMode, nil
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err == nil && (fs.FileMode(n) == DefaultMode || fs.FileMode(n) == GroupMode) {
		return fs.FileMode(n), nil
	}
	return 0, fmt.Errorf("MPASS_AUDIT_FILE_MODE %q: use 0600 (the default) or 0640", s)
}

// Temporary files are named after their target with this infix, so that a file left
// by a killed process says what it is and is never taken for the target.
const infix = ".incomplete-"

// WriteFile writes path through write, replacing a regular file there only when write
// and the sync succeeded: on any error the previous file is left as it was and the
// temporary one removed. The file gets mode whatever the umask.
func WriteFile(path string, mode fs.FileMode, write func(w io.Writer) error) error {
	return place(path, mode, true, func(tmp string) error {
		f, err := os.OpenFile(tmp, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		if err := write(bw); err != nil {
			f.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}

// CreateByName makes a new file at path that fill writes by name (for SQLite, which
// opens files itself): fill gets the temporary file's path, and the result takes the
// target's name only when fill succeeded. It never replaces anything: a target that
// exists by then is an error (the temporary file is removed).
func CreateByName(path string, mode fs.FileMode, fill func(tmp string) error) error {
	return place(path, mode, false, fill)
}

// CheckTarget refuses a path that cannot take a written file: empty, a symbolic link,
// an existing directory or special file (a device, a FIFO, a socket), or in a
// directory that does not exist. With fresh, an existing file is refused too.
func CheckTarget(path string, fresh bool) error {
	if path == "" {
		return errors.New("no file name given")
	}
	// a symbolic link is refused, not written through: whoever may plant one beside a
	// report would have the service overwrite the file it names (issue 14)
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: give the path of a file", path)
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory, not a file", path)
	case err == nil && !st.Mode().IsRegular():
		return fmt.Errorf("%s is a special file (%s), not a regular file", path, st.Mode().Type())
	case err == nil && fresh:
		return existsError(path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("directory of %s: %w", path, err)
	} else if !st.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", path, dir)
	}
	return nil
}

// existsError is a target that CreateByName found taken; it is fs.ErrExist, so a
// caller racing another process for the same new file can tell.
type existsError string

func (e existsError) Error() string        { return string(e) + " exists; it is never overwritten" }
func (e existsError) Is(target error) bool { return target == fs.ErrExist }

// place is WriteFile and CreateByName: an empty temporary file beside the target with
// mode, filled by name, synced, then renamed over the target (replace) or linked to
// its name. No descriptor of it is open while fill runs: closing one would drop
// SQLite's POSIX locks on the file.
func place(path string, mode fs.FileMode, replace bool, fill func(tmp string) error) (err error) {
	if err := CheckTarget(path, !replace); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+infix+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	err = f.Chmod(mode) // umask-independent
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fill(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if replace {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	} else {
		// a hard link never replaces: a file made at path meanwhile is kept, and ours refused
		if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
			return existsError(path)
		} else if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		os.Remove(tmp)
	}
	return syncDir(dir)
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync: %w", err)
	}
	return f.Close()
}

// syncDir makes the new name durable; a file system that cannot sync a directory
// (EINVAL) has nothing more to do.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
