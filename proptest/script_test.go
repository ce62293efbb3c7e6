package proptest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRegressions replays the scripts under testdata/regressions: each is a failure the state
// machine found, shrunk and written down as ops (one per line, see runOp), checked after every
// op like a rapid run. They keep the bugs fixed whatever becomes of rapid's own fail files,
// which replay only while the actions draw exactly as they did.
func TestRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "regressions", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no regression scripts in testdata/regressions")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			ops, err := readScript(f)
			if err != nil {
				t.Fatal(err)
			}
			w := newWorld(t)
			w.check(t)
			for _, op := range ops {
				w.runOp(t, op)
				w.check(t)
			}
			w.teardown()
			w.checkFinalAudit(t)
		})
	}
}

// readScript reads a script: one op per line, words separated by spaces; '#' starts a comment.
func readScript(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ops [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if words := strings.Fields(line); len(words) > 0 {
			ops = append(ops, words)
		}
	}
	return ops, sc.Err()
}

// runOp runs one script line:
//
//	create_session ID [short]
//	create_agent SESSION NAME interactive|per-message|terminal [ROWSxCOLS]   (terminal: 6x30 unless given)
//	send_keys SESSION NAME TEXT|"" [KEY ...] [typed|bad]   (Enter pressed last; TEXT one word, "" none; waits as read_agent_screen)
//	read_agent_screen SESSION NAME [typed|other|bad]   (waits for the last line typed, a line never shown, or on an invalid pattern)
//	send_to_agent SESSION NAME TEXT [wait]
//	read_agent_output SESSION NAME [wait]
//	end_process SESSION NAME CODE   (a running interactive or terminal agent's process exits)
//	open_page SESSION NAME
//	make_busy SESSION NAME
//	make_idle SESSION NAME
//	inject_stop_failure SESSION NAME
//	delete_child SESSION NAME [force]
//	update_state ID [set KEY=JSON ...] [unset KEY ...]
//	delete_session ID [force] [dry_run] [preserve_work]
//	restore_session N [as ID]      (N: the N-th snapshot taken in the script, from 0)
//	expire DURATION
//	restart
func (w *world) runOp(t *testing.T, op []string) {
	t.Helper()
	args := op[1:]
	need := func(n int) {
		if len(args) < n {
			t.Fatalf("script: %q needs %d arguments", strings.Join(op, " "), n)
		}
	}
	switch op[0] {
	case "create_session":
		need(1)
		w.createSession(t, args[0], len(args) > 1 && args[1] == "short")
	case "create_agent":
		need(3)
		rows, cols := 6, 30
		if len(args) > 3 {
			if _, err := fmt.Sscanf(args[3], "%dx%d", &rows, &cols); err != nil {
				t.Fatalf("script: create_agent: size %q is not ROWSxCOLS: %v", args[3], err)
			}
		}
		w.createAgent(t, args[0], args[1], args[2], rows, cols)
	case "open_page":
		need(2)
		w.openPage(t, args[0], args[1])
	case "send_keys":
		need(3)
		text, keys, wait := args[2], args[3:], waitNone
		if text == `""` {
			text = ""
		}
		if n := len(keys); n > 0 && (keys[n-1] == waitTyped || keys[n-1] == waitBadPat) {
			keys, wait = keys[:n-1], keys[n-1]
		}
		w.typeKeys(t, args[0], args[1], text, keys, wait)
	case "read_agent_screen":
		need(2)
		wait := waitNone
		if len(args) > 2 {
			wait = args[2]
		}
		w.readScreen(t, args[0], args[1], wait)
	case "send_to_agent":
		need(3)
		w.sendMessage(t, args[0], args[1], args[2], len(args) > 3 && args[3] == "wait")
	case "end_process":
		need(3)
		code, err := strconv.Atoi(args[2])
		if err != nil {
			t.Fatalf("script: end_process: %v", err)
		}
		w.endProcess(t, args[0], args[1], code)
	case "read_agent_output":
		need(2)
		w.readOutput(t, args[0], args[1], len(args) > 2 && args[2] == "wait")
	case "make_busy":
		need(2)
		w.makeBusy(t, args[0], args[1])
	case "make_idle":
		need(2)
		w.makeIdle(t, args[0], args[1])
	case "delete_child":
		need(2)
		w.deleteChild(t, args[0], args[1], len(args) > 2 && args[2] == "force")
	case "inject_stop_failure":
		need(2)
		w.injectStopFailure(t, args[0], args[1])
	case "update_state":
		need(1)
		set, unset := map[string]json.RawMessage{}, []string(nil)
		mode := ""
		for _, a := range args[1:] {
			switch {
			case a == "set" || a == "unset":
				mode = a
			case mode == "set":
				k, v, _ := strings.Cut(a, "=")
				set[k] = json.RawMessage(v)
			case mode == "unset":
				unset = append(unset, a)
			default:
				t.Fatalf("script: update_state: %q is neither after set nor after unset", a)
			}
		}
		w.updateState(t, args[0], set, unset)
	case "delete_session":
		need(1)
		var o deleteOpts
		for _, a := range args[1:] {
			switch a {
			case "force":
				o.force = true
			case "dry_run":
				o.dryRun = true
			case "preserve_work":
				o.preserve = true
			default:
				t.Fatalf("script: delete_session: unknown flag %q", a)
			}
		}
		w.deleteSession(t, args[0], o)
	case "restore_session":
		need(1)
		i, err := strconv.Atoi(args[0])
		if err != nil {
			t.Fatalf("script: restore_session: %v", err)
		}
		as := ""
		if len(args) == 3 && args[1] == "as" {
			as = args[2]
		}
		w.restoreSession(t, i, as)
	case "expire":
		need(1)
		d, err := time.ParseDuration(args[0])
		if err != nil {
			t.Fatalf("script: expire: %v", err)
		}
		w.expire(t, d)
	case "restart":
		w.restart(t)
	default:
		t.Fatalf("script: unknown op %q", op[0])
	}
}
