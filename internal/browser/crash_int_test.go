package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestChromiumKilledIsRelaunchedOnNextCall(t *testing.T) {
	s := newSite(t)
	d := newDriver(t, Options{})
	c := openContext(t, d, "crashy", nil)
	p := openPage(t, c, s.url("/setcookie?name=login&value=yes"))
	d.mu.Lock()
	first := d.proc
	d.mu.Unlock()

	if err := syscall.Kill(first.pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-c.Done()
	if c.Alive() {
		t.Error("the context of a killed browser is alive")
	}
	if _, err := p.Navigate(context.Background(), s.url("/about")); !errorsIs(err, ErrContextLost) {
		t.Errorf("Navigate after the crash: %v, want ErrContextLost", err)
	}
	if _, err := c.Cookies(context.Background(), ""); !errorsIs(err, ErrContextLost) {
		t.Errorf("Cookies after the crash: %v, want ErrContextLost", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("closing a page of a lost context: %v, want nil", err)
	}

	// What the session actor does: a new context with the last cookies, pages at their URLs.
	lastURL, _ := p.Info()
	again := openContext(t, d, "crashy", c.LastCookies())
	d.mu.Lock()
	second, launches := d.proc, d.launches
	d.mu.Unlock()
	if second == first || launches != 2 || !second.alive() || first.alive() {
		t.Errorf("after the crash: launches %d, same process %v; want a second, live chromium", launches, second == first)
	}
	if lastURL != s.url("/setcookie?name=login&value=yes") {
		t.Errorf("Info kept %q, want the last URL", lastURL)
	}
	if got := pageText(t, openPage(t, again, s.url("/echo-cookies"))); got != "cookies: login=yes" {
		t.Errorf("the re-opened context sends %q, want the login cookie", got)
	}
	if err := c.Close(); err != nil {
		t.Errorf("closing the lost context: %v", err)
	}
}

func TestNoBrowserSaysHowToInstall(t *testing.T) {
	d, err := New(Options{DataDir: t.TempDir(), Bin: filepath.Join(t.TempDir(), "no-chromium")})
	if err != nil {
		t.Fatalf("New must not look for the browser: %v", err)
	}
	defer d.Close()
	_, err = d.OpenContext(context.Background(), "s", nil)
	if !errorsIs(err, ErrNoBrowser) || !strings.Contains(err.Error(), "apt-get install chromium") || !strings.Contains(err.Error(), BrowserEnv) {
		t.Errorf("OpenContext without a browser: %v, want ErrNoBrowser with install advice", err)
	}

	t.Setenv(BrowserEnv, "/nonexistent/chromium")
	if _, err := FindBrowser(""); !errorsIs(err, ErrNoBrowser) || !strings.Contains(err.Error(), "/nonexistent/chromium") {
		t.Errorf("FindBrowser with a bad %s: %v", BrowserEnv, err)
	}
	t.Setenv(BrowserEnv, "")
	t.Setenv("PATH", t.TempDir())
	if _, err := FindBrowser(""); !errorsIs(err, ErrNoBrowser) || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Errorf("FindBrowser with nothing on PATH: %v", err)
	}
	if _, err := New(Options{DataDir: "relative/dir"}); !errorsIs(err, ErrBadRequest) {
		t.Errorf("New with a relative data dir: %v, want ErrBadRequest", err)
	}
}

func TestFindBrowserHonoursEnv(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "my-chromium")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(BrowserEnv, bin)
	if got, err := FindBrowser(""); err != nil || got != bin {
		t.Errorf("FindBrowser = %q, %v; want %q", got, err, bin)
	}
}

func TestSweepKillsALeftoverBrowser(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, profileDirName)
	// A stand-in for a browser left by a troupe that died: same user-data dir in its arguments.
	cmd := exec.Command("sh", "-c", "sleep 600", "--user-data-dir="+profile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := os.MkdirAll(filepath.Join(profile, "Default"), 0o700); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, pidFileName)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sweep(dir, profile, noLog); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if err := <-exited; err == nil {
		t.Error("the leftover process exited cleanly; want it killed")
	}
	if _, err := os.Stat(profile); !os.IsNotExist(err) {
		t.Errorf("the profile survived the sweep: %v", err)
	}

	// A pid file naming a process that is not ours (this test) is not acted on.
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sweep(dir, profile, noLog); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

// A troupe killed with -9 leaves its browser a zombie (its pid file names no live browser) while
// the browser's helpers still write into the profile: the next start's sweep failed with
// "directory not empty". Every process naming the profile is ended before it is removed.
func TestSweepKillsHelpersOfACrashedBrowser(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, profileDirName)
	helper := exec.Command("sh", "-c", `while :; do mkdir -p "$1/Default" && : > "$1/Default/f$$"; done`, "--user-data-dir="+profile, profile)
	helper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- helper.Wait() }()
	t.Cleanup(func() { _ = helper.Process.Kill() })
	time.Sleep(100 * time.Millisecond)
	if err := sweep(dir, profile, noLog); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the helper still runs after the sweep")
	}
	if _, err := os.Stat(profile); !os.IsNotExist(err) {
		t.Errorf("the profile survived the sweep: %v", err)
	}
}

func TestClosedDriverRefuses(t *testing.T) {
	d, err := New(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close before any use: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := d.OpenContext(context.Background(), "s", nil); !errorsIs(err, ErrClosed) {
		t.Errorf("OpenContext after Close = %v, want ErrClosed", err)
	}
}
