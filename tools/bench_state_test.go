package tools

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/troupe-dev/troupe/internal/bench"
	"github.com/troupe-dev/troupe/messages"
)

// BenchmarkBrowserStateSaveLag measures, with the real browser and store, how long a cookie a
// fetch sets takes to be on disk: from the moment the server answers the fetch until the
// session's record in the store holds it (DESIGN §14: within about a second), with no call
// after the click (the fetch leaves 0.3 s after it, past the click's own read of the cookies).
func BenchmarkBrowserStateSaveLag(b *testing.B) {
	var mu sync.Mutex
	answered := map[string]time.Time{}
	mux := http.NewServeMux()
	mux.HandleFunc("/app", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><body><button id="go" onclick="const v = this.dataset.v; setTimeout(() => fetch('/api/set?v=' + v), 300)" data-v="0">go</button></body></html>`)
	})
	mux.HandleFunc("/api/set", func(w http.ResponseWriter, r *http.Request) {
		v := r.FormValue("v")
		http.SetCookie(w, &http.Cookie{Name: "token", Value: v, Path: "/", MaxAge: 3600})
		w.Write([]byte("ok"))
		mu.Lock()
		answered[v] = time.Now()
		mu.Unlock()
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	c, _, st := pageBenchSetup(b)
	callJSON(b, c, "create_session", map[string]any{"session_id": "lag"})
	callJSON(b, c, "open_page", map[string]any{"session_id": "lag", "name": "app", "url": srv.URL + "/app"})
	onDisk := func(v string) bool {
		recs, err := st.LoadSessions()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if r.ID == "lag" && slices.ContainsFunc(r.Cookies, func(c messages.Cookie) bool { return c.Name == "token" && c.Value == v }) {
				return true
			}
		}
		return false
	}
	for b.Loop() {
		var lags []time.Duration
		for i := 1; i <= 15; i++ {
			v := strconv.Itoa(i)
			js := `document.getElementById('go').dataset.v = '` + v + `'; document.getElementById('go').click(); true`
			callJSON(b, c, "page_action", map[string]any{"page_id": "lag/app", "action": "evaluate", "text": js})
			deadline := time.Now().Add(10 * time.Second)
			for !onDisk(v) {
				if time.Now().After(deadline) {
					b.Fatalf("the cookie token=%s was not on disk within 10 s", v)
				}
				time.Sleep(2 * time.Millisecond)
			}
			mu.Lock()
			t0 := answered[v]
			mu.Unlock()
			lags = append(lags, time.Since(t0))
		}
		bench.ReportRounded("browser_state_save_lag_ms", bench.Millis(bench.Percentile(lags, 50)), 1, "ms")
	}
}
