package process

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// requireCgroups skips a test of the cgroup mode where the machine has no writable cgroup v2
// (CI's machines have one: there the test must run).
func requireCgroups(t *testing.T) {
	t.Helper()
	if cgroupBase() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no writable cgroup v2 hierarchy on this CI machine")
		}
		t.Skip("no writable cgroup v2 hierarchy here")
	}
}

// withCgroups runs the test in the given mode and restores the default after it.
func withCgroups(t *testing.T, on bool) {
	t.Helper()
	if on {
		requireCgroups(t)
	}
	old := cgroupDisabled
	cgroupDisabled = !on
	t.Cleanup(func() { cgroupDisabled = old })
}

// TestDescendantsThatLeaveTheGroupEndWithTheAgent: a `setsid` child and a double-forking
// daemon outlived Stop and the leader's own exit (issue 11, item 7). Both ways of finding them
// are tried: the agent's cgroup, and the token scan where there is no cgroup.
func TestDescendantsThatLeaveTheGroupEndWithTheAgent(t *testing.T) {
	escapes := []struct{ name, script string }{
		{"setsid child", `setsid sh -c 'echo $$; exec sleep 1001' &`},
		{"double fork and setsid", `(setsid sh -c 'echo $$; exec sleep 1002' &)`},
		{"double fork", `(sh -c 'echo $$; exec sleep 1003' &)`},
	}
	for _, mode := range []struct {
		name   string
		cgroup bool
	}{{"cgroup", true}, {"token", false}} {
		for _, e := range escapes {
			for _, end := range []string{"stop", "leader exits"} {
				t.Run(mode.name+"/"+e.name+"/"+end, func(t *testing.T) {
					withCgroups(t, mode.cgroup)
					tail := "\nsleep 1000"
					if end == "leader exits" {
						tail = "\nread x; exit 0"
					}
					p, o := start(t, Spec{Command: "sh", Args: []string{"-c", e.script + tail}, Stdin: true})
					escaped := atoi(t, firstLine(t, o))
					t.Cleanup(func() { syscall.Kill(escaped, syscall.SIGKILL) })
					if (p.Record().Cgroup != "") != mode.cgroup {
						t.Fatalf("record %+v: want a cgroup exactly in cgroup mode", p.Record())
					}
					if end == "stop" {
						if err := p.Stop(context.Background(), time.Second); err != nil {
							t.Fatal(err)
						}
					} else {
						p.CloseStdin()
						waitDone(t, p)
					}
					waitFor(t, "the escaped process to end", func() bool { return !running(escaped) })
					if z := ourZombies(t); len(z) > 0 {
						t.Errorf("zombie children left: %v", z)
					}
					if dir := p.Record().Cgroup; dir != "" {
						if _, err := os.Stat(dir); !os.IsNotExist(err) {
							t.Errorf("cgroup %s left behind (%v)", dir, err)
						}
					}
				})
			}
		}
	}
}
