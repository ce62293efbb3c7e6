package tools

import (
	"github.com/troupe-dev/troupe/internal/config"
	"github.com/troupe-dev/troupe/internal/ids"
)

// The bounds of the tools' arguments. Every string argument, array and object of every tool's
// input schema declares one (a test checks), and checkBounds enforces what the schema declares
// before a handler runs: mcp-go does not validate arguments against the schema, and an
// unbounded argument is stored, listed, echoed and audited (issue 11: three sessions with a
// 10 MB name made a 143 MB store and a 35 s list_sessions).
const (
	// maxIDChars bounds a session id, a snapshot id and a child name (DESIGN §7).
	maxIDChars = ids.MaxLen
	// maxChildIDChars bounds an agent or page id, "<session_id>/<name>".
	maxChildIDChars = 2*ids.MaxLen + 1
	// maxNameChars bounds a session's human-readable name.
	maxNameChars = 256
	// maxLabelChars bounds a label's key and its value; maxLabels their number.
	maxLabelChars = 256
	maxLabels     = 64
	// maxLabelFilterChars bounds list_sessions' label filter, "key=value".
	maxLabelFilterChars = 2*maxLabelChars + 1
	// maxURLChars bounds a URL (browsers handle far longer ones, but no page a model opens needs it).
	maxURLChars = 8 << 10
	// maxPathChars bounds a workspace path (PATH_MAX).
	maxPathChars = 4096
	// maxStateKeyChars bounds a state key; maxStateKeys the keys one call sets or unsets (the
	// whole state is bounded by the server's max_state_bytes).
	maxStateKeyChars = 256
	maxStateKeys     = 1024
	// maxPresetChars bounds a preset name; maxCommandChars a free-form command.
	maxPresetChars  = 256
	maxCommandChars = 4096
	// maxArgChars bounds one argument of create_agent, maxArgs their number.
	maxArgChars = 32 << 10
	maxArgs     = 256
	// maxEnvKeyChars and maxEnvValueChars bound one environment variable, maxEnv their number.
	maxEnvKeyChars   = 256
	maxEnvValueChars = 32 << 10
	maxEnv           = 64
	// maxSelectorChars bounds a CSS selector; maxPageTextChars what page_action types, presses
	// or evaluates.
	maxSelectorChars = 4096
	maxPageTextChars = 256 << 10
	// maxEnumChars bounds an argument that takes one of a few words (format, action, same_site).
	maxEnumChars = 16
	// maxAuditActionChars and maxSinceChars bound audit_query's filters.
	maxAuditActionChars = 256
	maxSinceChars       = 64
	// maxCookies bounds the cookies of one call: Chromium keeps at most 180 per site and evicts
	// the oldest beyond (measured: 181 cookies of one site leave 150), so more could not all be
	// kept. The cookie fields' bounds are Chromium's: name and value together at most 4096
	// bytes, a path or a domain at most 1024 (browser.ValidateCookie checks them exactly).
	maxCookies           = 180
	maxCookiePartChars   = 4096
	maxCookieAttrChars   = 1024
	maxCookieDomainChars = 255
	// maxWholeNumber bounds integer arguments with no smaller natural bound: the largest integer
	// a JSON number (a float64) holds exactly.
	maxWholeNumber = 1<<53 - 1
)

// defaultMaxMessageBytes bounds a message to an agent when the server sets no limit.
var defaultMaxMessageBytes = config.Defaults().MaxMessageBytes
