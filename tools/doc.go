// Package tools is troupe's MCP layer (DESIGN §7): tool declarations and handlers, one file per
// tool family. A handler only decodes arguments, sends a message to the actor tree and renders
// the reply as structured content plus a short text. Problems the user can fix come back as tool
// errors (isError) that say what to do; internal faults become Go errors, logged.
package tools
