package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/troupe-dev/troupe/internal/browser"
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/daemon"
	"github.com/troupe-dev/troupe/internal/process"
)

// check is one line of troupe doctor's report.
type check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // statusOK, statusWarn or statusFail
	Found  string `json:"found"`
	Fix    string `json:"fix,omitempty"`
}

const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "FAIL"
)

// versionTimeout bounds each `<bin> --version`; a variable so that tests can shorten it.
var versionTimeout = 10 * time.Second

// minFreeBytes is the free space of the data dir's file system under which doctor warns.
const minFreeBytes = 1 << 30

func newDoctorCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the data dir, configuration, store, Chromium, git, terminals and free disk space",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dataDir, _ := cmd.Flags().GetString("data-dir")
			cfgPath, _ := cmd.Flags().GetString("config")
			checks := runChecks(cmd.Context(), dataDir, cfgPath)
			if err := printChecks(cmd.OutOrStdout(), checks, asJSON); err != nil {
				return err
			}
			for _, c := range checks {
				if c.Status == statusFail {
					return exitError{1}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checks as JSON")
	return cmd
}

// runChecks runs every check in order. The data dir is created (mode 0700) when missing, as
// `troupe serve` would; nothing else is changed.
func runChecks(ctx context.Context, dataFlag, configFlag string) []check {
	cfg, cfgErr := config.Load(config.LoadOptions{DataDir: dataFlag, ConfigPath: configFlag})
	if cfgErr == nil {
		_ = applyExtraPath(cfg) // commands are looked for where the daemon looks for them
	}
	dir := cfg.DataDir
	if dir == "" { // the data dir itself could not be resolved: nothing else can be looked at
		return []check{{Name: "data dir", Status: statusFail, Found: fmt.Sprint(cfgErr),
			Fix: "set TROUPE_DATA_DIR or pass --data-dir"}}
	}
	checks := []check{checkDataDir(dir), checkConfig(dir, cfg.File, cfgErr)}
	if checks[0].Status != statusFail { // else the store line would only repeat the data dir's failure
		checks = append(checks, checkStore(filepath.Join(dir, "troupe.db")), checkDaemon(ctx, dir))
	}
	// FindBrowser reads TROUPE_BROWSER itself, should Load have stopped before the environment.
	checks = append(checks, checkChromium(ctx, cfg.Browser), checkGit(ctx), checkTerminals(), checkDisk(dir))
	return append(checks, checkPresets(cfg.Presets)...)
}

// checkTerminals starts a program on a PTY, as a terminal agent runs, and sees it wait for
// input as read_agent_screen's state would (DESIGN §13).
func checkTerminals() check {
	c := check{Name: "terminal agents"}
	p, err := process.Real().Start(process.Spec{Command: "/bin/sh", Args: []string{"-c", "read x"}, Terminal: &process.TermSize{Rows: 24, Cols: 80}})
	if err != nil {
		c.Status, c.Found = statusFail, err.Error()
		c.Fix = "terminal agents need /dev/ptmx and devpts mounted (in a container: mount devpts, or run with a TTY-capable runtime)"
		return c
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Stop(ctx, time.Second)
	}()
	deadline := time.Now().Add(3 * time.Second)
	for {
		waiting, err := p.InputWaiting()
		switch {
		case err != nil:
			c.Status, c.Found = statusWarn, "a PTY opens, but whether an agent waits for input cannot be seen: "+err.Error()
			c.Fix = "the daemon must be allowed to read /proc/<pid>/syscall of its children (same user; not blocked by yama ptrace_scope 3 or a seccomp/LSM policy); until then agents show state running"
			return c
		case waiting:
			c.Status, c.Found = statusOK, "a PTY opens and a program waiting for input is seen waiting"
			return c
		case time.Now().After(deadline):
			c.Status, c.Found = statusWarn, "a PTY opens, but a program blocked reading it was not seen waiting within 3 s"
			c.Fix = "state waiting_for_input will not show; report this with `uname -a`"
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkDataDir(dir string) check {
	fail := func(found, fix string) check {
		return check{"data dir", statusFail, found, fix + ", or pass --data-dir / set TROUPE_DATA_DIR to another directory"}
	}
	created := ""
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := config.EnsureDataDir(dir); err != nil {
			return fail("cannot create it: "+err.Error(), "mkdir -p -m 700 "+dir)
		}
		created = ", just created"
	}
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return fail(err.Error(), "check the permissions of its parent directories")
	case !st.IsDir():
		return fail(dir+" exists but is not a directory", "move that file away")
	}
	f, err := os.CreateTemp(dir, ".troupe-doctor-*")
	if err != nil {
		return fail(dir+" is not writable: "+err.Error(), "chown/chmod it so that this user can write there")
	}
	f.Close()
	os.Remove(f.Name())
	mode := st.Mode().Perm()
	c := check{"data dir", statusOK, fmt.Sprintf("%s (mode %04o, writable%s)", dir, mode, created), ""}
	if mode&0o077 != 0 {
		c.Status, c.Fix = statusWarn, "chmod 700 "+dir+" (it holds session state, cookies and agent logs)"
	}
	return c
}

// checkConfig reports the file Load read (file, empty when none) or the error it stopped at,
// which names the file or TROUPE_* variable at fault.
func checkConfig(dir, file string, loadErr error) check {
	if loadErr != nil {
		return check{"config", statusFail, loadErr.Error(), "correct the setting named there; see README.md for the settings"}
	}
	if file == "" {
		return check{"config", statusOK, "no config file, built-in defaults (optional: " + filepath.Join(dir, "troupe.toml") + ")", ""}
	}
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	return check{"config", statusOK, file + " parsed OK", ""}
}

func checkStore(path string) check {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return check{"store", statusOK, path + " not created yet (troupe serve creates it)", ""}
	case err != nil:
		return check{"store", statusFail, err.Error(), "check the permissions of " + path}
	case !st.Mode().IsRegular():
		return check{"store", statusFail, path + " is not a regular file", "move it away"}
	}
	found := fmt.Sprintf("%s present (%s)", path, humanBytes(uint64(st.Size())))
	if storeInUse(path) {
		found += ", in use by a running troupe"
	}
	return check{"store", statusOK, found, ""}
}

// storeInUse reports whether another process holds bbolt's exclusive lock on path. The probe
// takes a shared lock without waiting and drops it at once; it never opens the database.
func storeInUse(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// checkDaemon reports the data dir's daemon: running (and whether its version is this binary's)
// or not (nothing is wrong: the next `troupe serve` starts one).
func checkDaemon(ctx context.Context, dir string) check {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := daemon.GetStatus(ctx, daemon.HTTPClient(dir))
	switch {
	case errors.Is(err, daemon.ErrNotRunning):
		return check{"daemon", statusOK, "not running (the next `troupe serve` starts one)", ""}
	case err != nil:
		return check{"daemon", statusWarn, err.Error(), "see " + filepath.Join(dir, daemon.LogName) + ", or stop it with `troupe daemon stop`"}
	}
	found := fmt.Sprintf("running: pid %d, version %s, up %s, %d clients, %d sessions, %d running children",
		st.PID, st.Version, (time.Duration(st.UptimeSeconds) * time.Second).String(), st.Clients, st.Sessions, st.RunningChildren)
	if st.Version != version {
		return check{"daemon", statusWarn, found + fmt.Sprintf("; its version differs from this troupe's (%s)", version),
			"`troupe daemon stop` when its children may end (a bridge never stops a daemon with running children), and the next `troupe serve` starts this version"}
	}
	return check{"daemon", statusOK, found, ""}
}

func checkChromium(ctx context.Context, configured string) check {
	bin, err := browser.FindBrowser(configured)
	c := checkBinary(ctx, "chromium", bin, err, "; page tools unavailable, everything else works",
		"apt-get install -y chromium, or set TROUPE_BROWSER to a Chromium binary")
	if c.Status == statusOK && os.Geteuid() == 0 {
		c.Found += " (running as root: --no-sandbox will be used)"
	}
	return c
}

// checkPresets reports, for each agent preset in name order, whether its command is found
// where create_agent looks for it (process.LookPath): a missing one is a warning, since only
// that preset is unavailable.
func checkPresets(presets map[string]config.Preset) []check {
	names := make([]string, 0, len(presets))
	for name := range presets {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]check, 0, len(names))
	for _, name := range names {
		cmd := presets[name].Command
		c := check{Name: "preset:" + name}
		if p, err := process.LookPath(cmd); err != nil {
			c.Status, c.Found = statusWarn, fmt.Sprintf("%q not found on PATH; create_agent with this preset fails", cmd)
			c.Fix = fmt.Sprintf("install %s, or add its directory to extra_path (troupe.toml, --extra-path, or Extra PATH in the Claude Desktop extension's settings), or set command in [presets.%s] of troupe.toml to its full path", cmd, name)
		} else {
			c.Status, c.Found = statusOK, fmt.Sprintf("%q is %s", cmd, p)
		}
		out = append(out, c)
	}
	return out
}

func checkGit(ctx context.Context) check {
	bin, err := exec.LookPath("git")
	if err != nil {
		err = errors.New("git not on PATH")
	}
	return checkBinary(ctx, "git", bin, err, "; work preservation falls back to tar.gz archives", "apt-get install -y git")
}

// checkBinary reports bin's version, or a warning saying what is lost without it and how to fix it.
func checkBinary(ctx context.Context, name, bin string, lookErr error, without, fix string) check {
	if lookErr != nil {
		return check{Name: name, Status: statusWarn, Found: lookErr.Error() + without, Fix: fix}
	}
	v, err := binVersion(ctx, bin)
	if err != nil {
		return check{Name: name, Status: statusWarn, Found: err.Error() + without, Fix: fix}
	}
	return check{Name: name, Status: statusOK, Found: bin + ": " + v}
}

// binVersion runs `bin --version` and returns the first line it prints on stdout.
func binVersion(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.WaitDelay = time.Second // a grandchild holding stdout open must not keep us waiting
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s --version: no answer within %s", bin, versionTimeout)
	}
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", bin, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		return "", fmt.Errorf("%s --version printed nothing", bin)
	}
	return strings.TrimSpace(line), nil
}

func checkDisk(dir string) check {
	for !fileExists(dir) && filepath.Dir(dir) != dir { // the data dir may have failed: measure where it would be
		dir = filepath.Dir(dir)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return check{Name: "disk", Status: statusWarn, Found: "statfs " + dir + ": " + err.Error()}
	}
	return diskCheck(dir, uint64(st.Bavail)*uint64(st.Bsize))
}

func diskCheck(dir string, free uint64) check {
	c := check{Name: "disk", Status: statusOK, Found: humanBytes(free) + " free at " + dir}
	if free < minFreeBytes {
		c.Status, c.Fix = statusWarn, "free some space there, or pass --data-dir on a larger disk (state, logs and archives grow)"
	}
	return c
}

func humanBytes(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for ; v >= 1024 && i < 5; i++ {
		v /= 1024
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[i])
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func printChecks(w io.Writer, checks []check, asJSON bool) error {
	counts := map[string]int{}
	for _, c := range checks {
		counts[c.Status]++
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			OK     bool    `json:"ok"`
			Checks []check `json:"checks"`
		}{counts[statusFail] == 0, checks})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range checks {
		line := c.Status + "\t" + c.Name + "\t" + c.Found
		if c.Fix != "" {
			line += "; fix: " + c.Fix
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d ok, %d warn, %d FAIL\n", counts[statusOK], counts[statusWarn], counts[statusFail])
	return err
}
