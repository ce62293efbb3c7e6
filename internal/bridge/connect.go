package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/troupe-dev/troupe/internal/daemon"
)

func newID() string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// attach holds the daemon's attach request open while connected, so that the daemon counts this
// bridge as a connected client (it does not exit for idleness under a client); the request
// ending while connected means the daemon went away.
func (b *bridge) attach(ctx context.Context) {
	for ctx.Err() == nil {
		b.mu.Lock()
		ready, gen := b.ready, b.gen
		b.mu.Unlock()
		if ready {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, daemon.BaseURL+daemon.AttachPath, nil)
			req.Header.Set(daemon.ClientHeader, b.id)
			resp, err := b.hc.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if ctx.Err() != nil {
				return
			}
			if err != nil || resp.StatusCode != http.StatusOK {
				b.lost(gen, fmt.Errorf("the daemon's attach stream ended: %v", err))
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// initialize sends the client's initialize (remembered for a new daemon), then opens the
// listening stream.
func (b *bridge) initialize(ctx context.Context, env envelope, line []byte) {
	b.mu.Lock()
	b.initReq, b.initNote = line, nil
	b.ready = false
	b.mu.Unlock()
	b.closeListen()
	if err := b.o.Starter.Ensure(ctx, b.hc); err != nil {
		b.fail(env, err.Error())
		return
	}
	answer, err := b.doInitialize(ctx, line)
	if err != nil {
		b.fail(env, b.lostMessage(err))
		return
	}
	b.out.write(answer)
}

// doInitialize posts an initialize and records the session; it returns the answer.
func (b *bridge) doInitialize(ctx context.Context, line []byte) ([]byte, error) {
	resp, err := b.post(context.WithoutCancel(ctx), line, "", "", "", string(mcp.MethodInitialize))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var answer []byte
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		err = readSSE(resp.Body, func(data []byte) {
			var m struct {
				Method string `json:"method"`
			}
			if json.Unmarshal(data, &m) == nil && m.Method == "" {
				answer = bytes.Clone(data)
			} else {
				b.out.write(data)
			}
		})
	} else {
		answer, err = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		answer = bytes.TrimSpace(answer)
	}
	if err != nil {
		return nil, err
	}
	if len(answer) == 0 {
		return nil, fmt.Errorf("the troupe daemon answered initialize with HTTP %d and nothing else", resp.StatusCode)
	}
	var res struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	_ = json.Unmarshal(answer, &res)
	b.mu.Lock()
	b.gen++
	b.sessionID = resp.Header.Get("Mcp-Session-Id")
	b.version = res.Result.ProtocolVersion
	b.ready = b.sessionID != "" || res.Result.ProtocolVersion != ""
	gen, sid, ver := b.gen, b.sessionID, b.version
	b.mu.Unlock()
	if sid != "" {
		b.openListen(gen, sid, ver)
	}
	return answer, nil
}

// ensure connects to a daemon (starting one when none answers) and, when the client initialized,
// replays its initialize and initialized on a daemon that does not know it.
func (b *bridge) ensure(ctx context.Context) error {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	b.mu.Lock()
	ready, initReq := b.ready, b.initReq
	b.mu.Unlock()
	if ready {
		return nil
	}
	if err := b.o.Starter.Ensure(ctx, b.hc); err != nil {
		return err
	}
	if initReq == nil {
		b.mu.Lock()
		b.ready = true
		b.gen++
		b.mu.Unlock()
		return nil
	}
	if _, err := b.doInitialize(ctx, initReq); err != nil {
		return errors.New(b.lostMessage(err))
	}
	b.mu.Lock()
	note, sid, ver := b.initNote, b.sessionID, b.version
	b.mu.Unlock()
	if note != nil {
		resp, err := b.post(context.WithoutCancel(ctx), note, sid, ver, "", "notifications/initialized")
		if err != nil {
			return errors.New(b.lostMessage(err))
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.o.Logger.Info().Msg("bridge: connected to a new troupe daemon and initialized this client's session again")
	return nil
}

// lost marks the connection of generation gen as gone (a newer one is kept).
func (b *bridge) lost(gen int, err error) {
	b.mu.Lock()
	if b.gen != gen || !b.ready {
		b.mu.Unlock()
		return
	}
	b.ready = false
	b.sessionID = ""
	b.mu.Unlock()
	b.closeListen()
	b.hc.CloseIdleConnections()
	if err != nil {
		b.o.Logger.Warn().Err(err).Msg("bridge: lost the troupe daemon; the next call starts a new one")
	}
}

func (b *bridge) lostMessage(err error) string {
	return fmt.Sprintf("the troupe daemon went away during this call (%v); its log is %s. The call may or may not have taken effect: check before repeating it. The next call starts a new daemon.",
		err, daemonLog(b.o.DataDir))
}

// openListen keeps the GET listening stream of the session open while the connection lasts,
// relaying what the daemon sends on it (list-changed notifications, progress of calls, server
// requests).
func (b *bridge) openListen(gen int, sid, version string) {
	ctx, cancel := context.WithCancel(context.Background())
	b.mu.Lock()
	if b.listen != nil {
		b.listen()
	}
	b.listen = cancel
	b.mu.Unlock()
	go func() {
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, daemon.BaseURL+daemon.MCPPath, nil)
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set(daemon.ClientHeader, b.id)
			req.Header.Set("Mcp-Session-Id", sid)
			if version != "" {
				req.Header.Set(mcp.HeaderProtocolVersion, version)
			}
			resp, err := b.hc.Do(req)
			if err != nil {
				if ctx.Err() == nil && daemon.IsNotRunning(err) {
					b.lost(gen, err)
					return
				}
			} else {
				if resp.StatusCode == http.StatusOK {
					_ = readSSE(resp.Body, func(data []byte) { b.relayMessage(envelope{}, data) })
				} else {
					b.o.Logger.Debug().Int("status", resp.StatusCode).Msg("bridge: the daemon refused the listening stream")
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
					return
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
}

func (b *bridge) closeListen() {
	b.mu.Lock()
	if b.listen != nil {
		b.listen()
		b.listen = nil
	}
	b.mu.Unlock()
}
