// Command modzip adds one module version to a file-based module proxy, in
// the layout the go command reads (GOPROXY=file:///DIR): it writes
// DIR/<escaped module path>/@v/<version>.info, .mod and .zip, and the
// version to @v/list. The zip is made by golang.org/x/mod/zip, the code
// the go command and proxy.golang.org use, so it holds exactly the files
// a tag of the module would carry (no nested module, no vendor directory)
// and fails where they would refuse the module.
//
//	go run . -proxy DIR -dir MODULE_DIR -version vX.Y.Z
//
// .ci/publish-test uses it; it is not part of any published module.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	proxy := flag.String("proxy", "", "the file proxy's directory")
	dir := flag.String("dir", "", "the module's directory (its go.mod is the one published)")
	version := flag.String("version", "", "the version to publish it at")
	flag.Parse()
	if err := run(*proxy, *dir, *version); err != nil {
		fmt.Fprintln(os.Stderr, "modzip:", err)
		os.Exit(1)
	}
}

func run(proxy, dir, version string) error {
	if proxy == "" || dir == "" || version == "" || flag.NArg() > 0 {
		return errors.New("usage: modzip -proxy DIR -dir MODULE_DIR -version vX.Y.Z")
	}
	if semver.Canonical(version) != version {
		return fmt.Errorf("%q is not a canonical semantic version (vX.Y.Z)", version)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return fmt.Errorf("%s/go.mod has no module line", dir)
	}
	m := module.Version{Path: path, Version: version}
	if err := module.Check(path, version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}

	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return err
	}
	if err := modzip.CreateFromDir(zf, m, dir); err != nil {
		zf.Close()
		return fmt.Errorf("zip of %s: %w", m, err)
	}
	if err := zf.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".mod"), gomod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".info"), info, 0o644); err != nil {
		return err
	}

	list, err := os.ReadFile(filepath.Join(vdir, "list"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(list))
	if !slices.Contains(versions, version) {
		versions = append(versions, version)
	}
	semver.Sort(versions)
	fmt.Printf("%s: %s\n", m, filepath.Join(vdir, version+".zip"))
	return os.WriteFile(filepath.Join(vdir, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}
