package tools

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/troupe-dev/troupe/audit"
)

// TestSecretsInArgumentsNeverReachTheAuditLog: text typed into a page, a URL's password and
// secret query parameters, values after secret-named agent flags, and environment variables
// named like passwords, tokens or connection strings are kept as HMACs (issue 11, item 4).
func TestSecretsInArgumentsNeverReachTheAuditLog(t *testing.T) {
	dir := t.TempDir()
	c, log := auditedClient(t, dir, nil)
	mustOK(t, call(t, c, "create_session", `{"session_id":"red"}`))
	// Each call is recorded as requested whatever its outcome; this server has no browser.
	call(t, c, "page_action", `{"page_id":"red/p","action":"fill","selector":"#pw","text":"fill-S3CR3T-1"}`)
	call(t, c, "navigate_page", `{"page_id":"red/p","url":"https://ann:url-S3CR3T-2@example.com/a?api_key=qp-S3CR3T-3&page=2"}`)
	call(t, c, "crawl_url", `{"url":"https://example.com/cb?access_token=qp-S3CR3T-4&state=ok"}`)
	call(t, c, "create_agent", `{"session_id":"red","preset":"cat","args":["--api-key","arg-S3CR3T-5","--token=arg-S3CR3T-6","-v"],`+
		`"env":{"PASS":"env-S3CR3T-7","PWD_DB":"env-S3CR3T-8","GH_PAT":"env-S3CR3T-9","DATABASE_URL":"postgres://u:env-S3CR3T-10@db/x","HOME":"/home/ann"}}`)
	secrets := []string{"fill-S3CR3T-1", "url-S3CR3T-2", "qp-S3CR3T-3", "qp-S3CR3T-4", "arg-S3CR3T-5", "arg-S3CR3T-6",
		"env-S3CR3T-7", "env-S3CR3T-8", "env-S3CR3T-9", "env-S3CR3T-10"}
	waitUntil(t, func() bool {
		evs, _ := audit.Query(log.Dir(), audit.Filter{Action: "agent.create"})
		return len(evs) >= 1
	})
	err := filepath.WalkDir(log.Dir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q in clear", filepath.Base(path), s)
			}
			if filepath.Ext(path) != ".jsonl" {
				continue
			}
			hmacOf := s
			if s == "env-S3CR3T-10" { // a secret-named variable: its whole value
				hmacOf = "postgres://u:env-S3CR3T-10@db/x"
			}
			if !bytes.Contains(b, []byte(log.RedactSecret(hmacOf))) {
				t.Errorf("%s does not hold the HMAC of %q", filepath.Base(path), s)
			}
		}
		for _, kept := range []string{"https://ann:", "@example.com/a?", "page=2", "state=ok", "/home/ann", `"-v"`, "#pw"} {
			if filepath.Ext(path) == ".jsonl" && !bytes.Contains(b, []byte(kept)) {
				t.Errorf("%s lost %q, which is not secret", filepath.Base(path), kept)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
