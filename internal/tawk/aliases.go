package tawk

import (
	"fmt"
	"os"
	"path/filepath"
)

// InstallAliases creates the symbolic links dir/tawk and dir/tcol to exe
// (the flowsift binary, which dispatches on argv[0]). Existing links are
// replaced; existing regular files are left alone and reported.
func InstallAliases(dir, exe string) error {
	abs, err := filepath.Abs(exe)
	if err != nil {
		return err
	}
	for _, name := range []string{"tawk", "tcol"} {
		p := filepath.Join(dir, name)
		if st, err := os.Lstat(p); err == nil {
			if st.Mode()&os.ModeSymlink == 0 {
				return fmt.Errorf("%s exists and is not a symbolic link", p)
			}
			if err := os.Remove(p); err != nil {
				return err
			}
		}
		if err := os.Symlink(abs, p); err != nil {
			return err
		}
	}
	return nil
}
