package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// No page can reach the browser's control channel (issue 11 item 1: a page that knew the
// DevTools port listed every session's tabs at /json/list, and through the DevTools websocket
// read another session's HttpOnly cookie and navigated its tab to file:///etc/hostname). CDP
// runs over a pipe: Chromium listens on no TCP port at all. Should one ever appear, a page that
// knows it must get nothing through a navigation, a fetch, a WebSocket or a redirect.
func TestPagesCannotReachTheBrowsersControlChannel(t *testing.T) {
	d, s := newDriver(t, Options{}), newSite(t)
	a := openContext(t, d, "a", []Cookie{{Name: "secret", Value: "a-only", HTTPOnly: true, URL: s.url("/")}})
	openPage(t, a, s.url("/echo-cookies"))
	b := openContext(t, d, "b", nil)
	pb := openPage(t, b, s.url("/"))

	d.mu.Lock()
	proc := d.proc
	d.mu.Unlock()
	ports := listeningPorts(t, proc.pid)
	if b, err := os.ReadFile(filepath.Join(d.opts.DataDir, profileDirName, "DevToolsActivePort")); err == nil {
		if p, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); err == nil {
			ports[p] = true
		}
	}
	if len(ports) > 0 {
		t.Errorf("chromium listens on TCP ports %v; want none (CDP over --remote-debugging-pipe)", ports)
	}
	ctx := context.Background()
	for port := range ports {
		list := fmt.Sprintf("http://127.0.0.1:%d/json/list", port)
		if res, err := pb.Navigate(ctx, list); err == nil {
			if got := pageText(t, pb); strings.Contains(got, "webSocketDebuggerUrl") {
				t.Errorf("a navigation to %s answered (%+v): %.200s", list, res, got)
			}
		}
		if _, err := pb.Navigate(ctx, s.url("/")); err != nil {
			t.Fatal(err)
		}
		fetched := evalString(t, pb, `fetch(`+strconv.Quote(list)+`).then(r => r.text()).catch(e => 'refused: ' + e)`)
		if strings.Contains(fetched, "webSocketDebuggerUrl") {
			t.Errorf("a fetch of %s answered: %.200s", list, fetched)
		}
		if ws := browserWebSocket(port); ws != "" {
			opened := evalString(t, pb, `new Promise(r => { const w = new WebSocket(`+strconv.Quote(ws)+`);
				w.onopen = () => r('open'); w.onerror = () => r('error'); })`)
			if opened == "open" {
				t.Errorf("a page opened the DevTools websocket %s", ws)
			}
		}
		if _, err := pb.Navigate(ctx, s.url("/redirect?to="+list)); err == nil {
			if got := pageText(t, pb); strings.Contains(got, "webSocketDebuggerUrl") {
				t.Errorf("a redirect to %s answered: %.200s", list, got)
			}
		}
	}
}

// Link-local addresses (cloud metadata) are refused: asked for, or reached by a redirect.
func TestLinkLocalIsRefused(t *testing.T) {
	d, s := shared(t), newSite(t)
	c := openContext(t, d, "link-local", nil)
	p := openPage(t, c, s.url("/"))
	ctx := context.Background()
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://[fe80::1]/"} {
		if _, err := p.Navigate(ctx, u); !errorsIs(err, ErrURLNotAllowed) || !strings.Contains(err.Error(), "link-local") {
			t.Errorf("Navigate(%s) = %v, want ErrURLNotAllowed saying link-local", u, err)
		}
		if _, err := c.OpenPage(ctx, u); !errorsIs(err, ErrURLNotAllowed) {
			t.Errorf("OpenPage(%s) = %v, want ErrURLNotAllowed", u, err)
		}
	}
	// In the request path too: a redirect there, and a page's own requests, never leave the
	// browser (the host rules answer "not resolved" at once; without them the request goes out).
	for _, to := range []string{"http://169.254.169.254/latest/", "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/"} {
		_, err := p.Navigate(ctx, s.url("/redirect?to="+to))
		if !errorsIs(err, ErrUnreachable) || !strings.Contains(err.Error(), "ERR_NAME_NOT_RESOLVED") {
			t.Errorf("a redirect to %s: %v, want it stopped in the browser (ERR_NAME_NOT_RESOLVED)", to, err)
		}
	}
	if _, err := p.Navigate(ctx, s.url("/")); err != nil {
		t.Fatal(err)
	}
	got := evalString(t, p, `Promise.all(['http://169.254.169.254/', 'http://[fe80::1]/'].map(u =>
		fetch(u).then(r => 'answered ' + r.status, e => 'refused')))
		.then(rs => rs.join(','))`)
	if got != "refused,refused" {
		t.Errorf("a page's fetch of link-local addresses: %s, want both refused", got)
	}
}

// evalString evaluates a script in the page and returns its string value.
func evalString(t *testing.T, p Page, script string) string {
	t.Helper()
	res, err := p.Action(context.Background(), ActionRequest{Action: ActionEvaluate, Text: script})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	var s string
	_ = json.Unmarshal(res.Value, &s)
	return s
}

// browserWebSocket asks a DevTools port for its browser websocket, as an attacker would.
func browserWebSocket(port int) string {
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/json/version", port))
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var v struct {
		WS string `json:"webSocketDebuggerUrl"`
	}
	_ = json.NewDecoder(res.Body).Decode(&v)
	return v.WS
}

// listeningPorts lists the TCP ports the processes of a process group listen on.
func listeningPorts(t *testing.T, pgid int) map[int]bool {
	t.Helper()
	inodes := map[string]bool{}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold spaces: read after the last ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 3 || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		fds, _ := filepath.Glob(filepath.Join(dir, "fd", "*"))
		for _, fd := range fds {
			if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
				inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
			}
		}
	}
	if len(inodes) == 0 {
		t.Fatalf("no sockets found for process group %d: cannot check its ports", pgid)
	}
	ports := map[int]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A: LISTEN
				continue
			}
			if i := strings.LastIndexByte(f[1], ':'); i >= 0 {
				if p, err := strconv.ParseInt(f[1][i+1:], 16, 32); err == nil {
					ports[int(p)] = true
				}
			}
		}
	}
	return ports
}
